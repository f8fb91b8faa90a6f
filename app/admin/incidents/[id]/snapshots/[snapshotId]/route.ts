import { z } from "zod";
import { checkAccess, problem, routeCaller } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { downloadSnapshot } from "@/lib/incidents";
import { requestContext } from "@/lib/http/request-context";

const AUDIT_VIEW = { section: "audit", action: "view" } as const;

/** A forensic snapshot exactly as stored (canonical JSON), so its SHA-256 can be checked. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string; snapshotId: string }> }) {
  const caller = await routeCaller({ section: "incidents", action: "view" });
  if (caller instanceof Response) return caller;
  // A snapshot holds audit trail entries (other people's too, addresses decrypted): it is for whom
  // the policies also let read the audit trail.
  if (!(await checkAccess(caller, AUDIT_VIEW))) return problem(403, "forbidden", "A snapshot holds audit trail entries: the access policies must let you view the audit trail.");
  const { id, snapshotId } = await params;
  if (!z.uuid().safeParse(id).success) return problem(400, "invalid_request", "Not an incident id.");
  const snapshot = await downloadSnapshot(id, snapshotId, userContext(caller, await requestContext()));
  if (!snapshot) return problem(404, "not_found", "No such snapshot on this incident.");
  return new Response(snapshot.content, {
    headers: {
      "Content-Type": "application/json",
      "Content-Disposition": `attachment; filename="gatehouse-incident-${id}-snapshot-${snapshot.id}.json"`,
      "X-Content-SHA256": snapshot.sha256,
      "Cache-Control": "no-store",
    },
  });
}
