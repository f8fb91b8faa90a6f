import { keyRing } from "@/lib/crypto";
export const dynamic = "force-dynamic";

/** The Ed25519 public key that signs audit checkpoints and export manifests (PEM). Public by design. */
export function GET() {
  const { id, publicKey } = keyRing().signing;
  return new Response(publicKey.export({ format: "pem", type: "spki" }).toString(), {
    headers: { "Content-Type": "application/x-pem-file", "Content-Disposition": `attachment; filename="gatehouse-audit-${id}.pem"`, "X-Key-Id": id },
  });
}
