/** The colours of a good outcome: a notice, a form's success message. */
export const OK_TONE = "border-green-200 bg-green-50 text-green-800";

/** What an action that left its page did, told at the top of the page it came back to (announced to screen readers). */
export function Notice({ children, className = "" }: { children: React.ReactNode; className?: string }) {
  return (
    <p role="status" data-testid="notice" className={`rounded-md border px-3 py-2 text-sm ${OK_TONE} ${className}`}>
      {children}
    </p>
  );
}
