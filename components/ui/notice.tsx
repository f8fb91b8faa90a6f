/** What an action that left its page did, told at the top of the page it came back to (announced to screen readers). */
export function Notice({ children, className = "" }: { children: React.ReactNode; className?: string }) {
  return (
    <p role="status" data-testid="notice" className={`rounded-md border border-green-200 bg-green-50 px-3 py-2 text-sm text-green-800 ${className}`}>
      {children}
    </p>
  );
}
