import { auditPublicKey } from "@/lib/audit";
export const dynamic = "force-dynamic";

/**
 * An Ed25519 public key that signs audit checkpoints and export manifests (PEM): the current one,
 * or with ?keyId= one retired by a rotation (an older export's manifest names its key), preceded by
 * the time until which it vouches for events (lib/audit/manifest.ts validUntilNote). Public by design.
 */
export async function GET(request: Request) {
  const keyId = new URL(request.url).searchParams.get("keyId") ?? undefined;
  const key = keyId === undefined || /^[0-9a-f]{16}$/.test(keyId) ? await auditPublicKey(keyId) : null;
  if (!key) return Response.json({ error: "not_found", error_description: "No audit signing key has that id." }, { status: 404 });
  return new Response(key.pem, {
    headers: { "Content-Type": "application/x-pem-file", "Content-Disposition": `attachment; filename="gatehouse-audit-${key.id}.pem"`, "X-Key-Id": key.id },
  });
}
