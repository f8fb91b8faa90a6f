import { CopyButton } from "@/components/ui/copy-button";

/** A client's credentials right after they were made: the secret is shown this once, only its hash is kept. */
export function ShownOnce({ clientId, clientSecret }: { clientId?: string; clientSecret: string | null }) {
  return (
    <div className="space-y-2 rounded-md border border-amber-200 bg-amber-50 p-4 text-sm" data-testid="client-credentials">
      {clientId && (
        <p className="flex flex-wrap items-center gap-2">
          Client id: <code data-testid="client-id">{clientId}</code> <CopyButton value={clientId} what="client id" />
        </p>
      )}
      {clientSecret && (
        <p className="flex flex-wrap items-center gap-2">
          Client secret (shown once, stored only as a hash): <code className="break-all" data-testid="client-secret">{clientSecret}</code> <CopyButton value={clientSecret} what="client secret" />
        </p>
      )}
    </div>
  );
}
