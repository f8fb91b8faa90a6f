"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { guardedAction } from "@/lib/auth";
import { rotateSigningKeys } from "@/lib/oidc";

export const rotateKeysAction = guardedAction({ section: "keys", action: "manage" },
  z.object({}),
  async (_input, _admin, ctx) => {
    const kids = await rotateSigningKeys(ctx);
    revalidatePath("/admin/keys");
    return { ok: true, message: `New signing keys ${kids.join(", ")} are active. The previous ones stay in JWKS for 24 hours.` };
  },
  { stepUp: true },
);
