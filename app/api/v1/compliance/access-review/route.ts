import { routeCaller } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { auditAccessReviewDownload, buildAccessReview } from "@/lib/compliance";
import { requestContext } from "@/lib/http/request-context";

/** GET /api/v1/compliance/access-review: every account's access as CSV, for the periodic review; audited with its SHA-256. */
export async function GET() {
  const caller = await routeCaller({ section: "compliance", action: "view" });
  if (caller instanceof Response) return caller;
  const review = await buildAccessReview();
  await auditAccessReviewDownload(review, userContext(caller, await requestContext()));
  return new Response(review.csv, {
    headers: {
      "Content-Type": "text/csv; charset=utf-8",
      "Content-Disposition": `attachment; filename="gatehouse-access-review-${review.generatedAt.slice(0, 10)}.csv"`,
      "Cache-Control": "no-store",
      "X-Gatehouse-Sha256": review.digest,
    },
  });
}
