// Server action calls (POST with a Next-Action header, or a multipart form posted to a page) whose
// envelope Next.js cannot decode make it answer 500: a body over the limit, a form it cannot parse,
// or arguments that are not React's encoding. Checked first, in
// proxy.ts, so that hostile input gets a 413 or 400 instead. Not "server-only": the proxy runs it.
import { problem, TOO_LARGE } from "./problem";

/** The largest server action call (next.config.ts passes it to Next.js as serverActions.bodySizeLimit). */
export const ACTION_BODY_LIMIT_BYTES = 64 * 1024;

const refuse = (status: 400 | 413, description: string) => problem(status, status === 413 ? TOO_LARGE : "invalid_request", description);

/** Next.js refuses longer argument lists with a 500 (SERVER_ACTION_ARGS_LIMIT in its action handler). */
const MAX_ARGUMENTS = 1000;

const parsed = (text: unknown): unknown => {
  if (typeof text !== "string") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

// What React's reply encoding of this app's calls holds (an action state and a form): form data
// ($K), undefined, -0, ±Infinity, NaN, dates, big integers, and strings that began with "$" ($$).
// The other references (temporary references, Maps, Sets, blobs, streams, server references…)
// name parts a real call would have sent, and Next.js fails with a 500 on one that is missing.
const KNOWN_REFERENCE = /^\$(?:\$|K[0-9a-f]+$|undefined$|-0$|Infinity$|-Infinity$|NaN$|D|n-?\d+$)/;
// Deeper than an action state is: React's decoder recurses, and thousands of levels overflow it.
const MAX_DEPTH = 32;

function isPlainReply(value: unknown, depth = 0): boolean {
  if (typeof value === "string") return !value.startsWith("$") || KNOWN_REFERENCE.test(value);
  if (typeof value !== "object" || value === null) return true;
  if (depth >= MAX_DEPTH) return false;
  return Object.values(value).every((inner) => isPlainReply(inner, depth + 1));
}

const isArgumentList = (value: unknown) => Array.isArray(value) && value.length <= MAX_ARGUMENTS && isPlainReply(value);

/**
 * A form posted before the page's script ran names its action in fields React wrote into the page:
 * `$ACTION_REF_<n>`, then `$ACTION_<n>:0` = {"id": …, "bound": "$@<k>" or null}, and the bound
 * arguments in `$ACTION_<n>:<k>` (k in hex in the reference, in decimal in the field's name). Next.js answers 500 when these are not so (bad JSON, a missing
 * part, too many arguments); true when every reference in the form is well made.
 */
function formActionReferencesAreSound(form: FormData): boolean {
  for (const key of form.keys()) {
    if (!key.startsWith("$ACTION_REF_")) continue;
    const prefix = `$ACTION_${key.slice("$ACTION_REF_".length)}:`;
    const root = parsed(form.get(`${prefix}0`));
    if (typeof root !== "object" || root === null || typeof (root as { id?: unknown }).id !== "string") return false;
    const bound = (root as { bound?: unknown }).bound ?? null;
    if (bound === null) continue;
    const part = typeof bound === "string" ? /^\$@([0-9a-f]+)$/.exec(bound)?.[1] : undefined;
    if (part === undefined || !isArgumentList(parsed(form.get(`${prefix}${parseInt(part, 16)}`)))) return false;
  }
  return true;
}

/** The refusal for a malformed server action call, or null when it may go on to Next.js. */
export async function actionEnvelopeProblem(request: Request): Promise<Response | null> {
  if (request.method !== "POST") return null;
  const type = request.headers.get("content-type") ?? "";
  const fetchCall = request.headers.has("next-action");
  // Without the header, Next.js still reads any multipart POST to a page as a form posted before
  // the page's script ran (the route handlers under /api read their own bodies).
  const formPost = !fetchCall && type.startsWith("multipart/form-data") && !new URL(request.url).pathname.startsWith("/api/");
  if (!fetchCall && !formPost) return null;
  const tooLarge = `A form is limited to ${ACTION_BODY_LIMIT_BYTES / 1024} KB.`;
  if (Number(request.headers.get("content-length") ?? 0) > ACTION_BODY_LIMIT_BYTES) return refuse(413, tooLarge);
  const body = await request.clone().arrayBuffer();
  if (body.byteLength > ACTION_BODY_LIMIT_BYTES) return refuse(413, tooLarge);
  // React sends the arguments as JSON text, or as multipart with the JSON list in field "0".
  let args: FormDataEntryValue | null = null;
  if (type.startsWith("multipart/form-data")) {
    try {
      const form = await new Response(body, { headers: { "content-type": type } }).formData();
      if (formPost) return formActionReferencesAreSound(form) ? null : refuse(400, "This form's action could not be read. Reload the page and try again.");
      args = form.get("0");
    } catch {
      return refuse(400, "The form data could not be read.");
    }
  } else {
    args = new TextDecoder().decode(body);
  }
  return isArgumentList(parsed(args)) ? null : refuse(400, "This is not a server action call this site understands.");
}
