"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { guardedAction } from "@/lib/auth";
import { retireSigningKeyNow, rotateSigningKeys } from "@/lib/oidc";
import { PROVIDER_SESSION_TTL } from "@/lib/oidc/token-lifetimes";

const MANAGE = { section: "keys", action: "manage" } as const;

export const rotateKeysAction = guardedAction(MANAGE,
  z.object({}),
  async (_input, _admin, ctx) => {
    const kids = await rotateSigningKeys(ctx);
    revalidatePath("/admin/keys");
    return { ok: true, message: `New signing keys ${kids.join(", ")} are active. The previous ones stay in JWKS for ${PROVIDER_SESSION_TTL / 86_400} days, while ID tokens they signed can still end a session (retire one now if it leaked).` };
  },
  { stepUp: true },
);

/** A leaked key: out of JWKS now, not at the end of its grace period. Every token it signed stops verifying. */
export const retireKeyNowAction = guardedAction(MANAGE,
  z.object({ kid: z.string().min(1).max(100).regex(/^[\w-]+$/) }),
  async ({ kid }, _admin, ctx) => {
    const retired = await retireSigningKeyNow(kid, ctx);
    revalidatePath("/admin/keys");
    return retired ? { ok: true, message: `Key ${kid} is retired: it has left JWKS, and tokens it signed no longer verify.` } : { ok: false, message: "That key is not retiring (rotate an active key first)." };
  },
  { stepUp: true },
);
