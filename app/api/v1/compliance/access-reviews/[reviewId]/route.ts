import { z } from "zod";
import { routeCaller } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { downloadAccessReview } from "@/lib/compliance";
import { problem } from "@/lib/http/problem";
import { requestContext } from "@/lib/http/request-context";

/** GET /api/v1/compliance/access-reviews/:id: a review's accounts and decisions as CSV; audited with its SHA-256. */
export async function GET(_request: Request, { params }: { params: Promise<{ reviewId: string }> }) {
  const caller = await routeCaller({ section: "compliance", action: "view" });
  if (caller instanceof Response) return caller;
  const id = z.uuid().safeParse((await params).reviewId);
  const file = id.success ? await downloadAccessReview(id.data, userContext(caller, await requestContext())) : null;
  if (!file) return problem(404, "not_found", "There is no such access review.");
  return new Response(file.csv, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="gatehouse-access-review-${file.startedAt.toISOString().slice(0, 10)}${file.open ? "-open" : ""}.csv"`,
      "Cache-Control": "no-store",
      "X-Gatehouse-Sha256": file.digest,
      // What was recorded at sign-off: a different value means the stored review was altered since.
      ...(file.signedDigest && { "X-Gatehouse-Signed-Sha256": file.signedDigest }),
    },
  });
}
