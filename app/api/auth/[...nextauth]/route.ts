import type { NextRequest } from "next/server";
import { checkSignInThrottle, credentialsSchema, handlers } from "@/lib/auth";
import { DEVICE_COOKIE } from "@/lib/devices";

export const { GET } = handlers;

// The HTTP credentials endpoint answers a locked account name with 429 and Retry-After before
// next-auth sees the request (next-auth itself can only redirect).
export async function POST(request: NextRequest) {
  if (request.nextUrl.pathname.endsWith("/callback/credentials")) {
    const form = await request.clone().formData().catch(() => null);
    const email = credentialsSchema.shape.email.safeParse(form?.get("email"));
    if (email.success) {
      const verdict = await checkSignInThrottle(email.data, request.cookies.get(DEVICE_COOKIE)?.value ?? null);
      if (!verdict.allowed) {
        return Response.json(
          { error: "too_many_attempts", retry_after: verdict.retryAfterSeconds },
          { status: 429, headers: { "Retry-After": String(verdict.retryAfterSeconds) } },
        );
      }
    }
  }
  return handlers.POST(request);
}
