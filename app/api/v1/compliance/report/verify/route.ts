import { problem, routeCaller } from "@/lib/auth";
import { userContext } from "@/lib/audit";
import { verifyReportFile } from "@/lib/compliance";
import { BodyTooLargeError, readTextLimited, REPORT_UPLOAD_MAX_BYTES } from "@/lib/http/body";
import { requestContext } from "@/lib/http/request-context";
import { TOO_LARGE } from "@/lib/http/problem";

/** POST /api/v1/compliance/report/verify with a downloaded report (HTML or JSON) as the body: checks it against the audit trail. */
export async function POST(request: Request) {
  const caller = await routeCaller({ section: "compliance", action: "view" });
  if (caller instanceof Response) return caller;
  let text: string;
  try {
    text = await readTextLimited(request, REPORT_UPLOAD_MAX_BYTES);
  } catch (error) {
    if (error instanceof BodyTooLargeError) return problem(413, TOO_LARGE, error.message);
    throw error;
  }
  const result = await verifyReportFile(text, userContext(caller, await requestContext()));
  return Response.json(result);
}
