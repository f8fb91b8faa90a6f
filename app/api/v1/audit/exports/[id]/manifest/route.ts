import { z } from "zod";
import { findExportManifest } from "@/lib/audit";
import { problem, routeCaller } from "@/lib/auth";

/** The signed manifest of a finished export. */
export async function GET(_request: Request, { params }: { params: Promise<{ id: string }> }) {
  const caller = await routeCaller({ section: "audit", action: "view" });
  if (caller instanceof Response) return caller;
  const id = z.uuid().safeParse((await params).id);
  if (!id.success) return problem(400, "invalid_request", "Not an export id.");
  const manifest = await findExportManifest(id.data);
  if (!manifest) return problem(404, "not_found", "No finished export with this id (an export's manifest exists once its download has completed).");
  return new Response(JSON.stringify(manifest, null, 2), {
    headers: {
      "Content-Type": "application/json",
      "Content-Disposition": `attachment; filename="gatehouse-audit-${id.data}.manifest.json"`,
      "Cache-Control": "no-store",
    },
  });
}
