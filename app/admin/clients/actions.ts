"use server";
import { revalidatePath } from "next/cache";
import { z } from "zod";
import { guardedAction, manyValues } from "@/lib/auth";
import { clientInputSchema, createClient, GRANT_TYPES, issueInitialAccessToken, revokeClientGrants, revokeConnectedApp, setClientDisabled } from "@/lib/oidc";

const MANAGE = { section: "clients", action: "manage" } as const;
// A new client, a client enabled again and a registration token are ways to obtain tokens: they
// need a fresh second factor. Disabling and revoking do not, so that they stay quick in an incident.
const GIVES_ACCESS = { stepUp: true } as const;

const createClientForm = z
  .object({
    grantTypes: manyValues(z.enum(GRANT_TYPES)),
    requireDpop: z.literal("on").optional().transform((v) => v === "on"),
    certificateBound: z.literal("on").optional().transform((v) => v === "on"),
  })
  .loose()
  .transform((form) => form)
  .pipe(clientInputSchema);

export const createClientAction = guardedAction(MANAGE, createClientForm, async (input, _admin, ctx) => {
  const { clientId, clientSecret } = await createClient(input, ctx);
  revalidatePath("/admin/clients");
  return { ok: true, message: `Created ${input.name}.`, data: { clientId, clientSecret } };
}, GIVES_ACCESS);

export const setClientDisabledAction = guardedAction(
  MANAGE,
  z.object({ clientId: z.string().max(100), disabled: z.enum(["true", "false"]) }),
  async ({ clientId, disabled }, _admin, ctx) => {
    const changed = await setClientDisabled(clientId, disabled === "true", ctx);
    // A disabled client's tokens stop working too, not only its new requests.
    if (changed && disabled === "true") await revokeClientGrants(clientId, ctx);
    revalidatePath("/admin/clients");
    return changed ? { ok: true, message: disabled === "true" ? "Client disabled: it gets no new tokens, and its grants, refresh tokens and opaque access tokens are revoked. JWT access tokens it already holds stay valid until they expire (its access-token lifetime)." : "Client enabled." } : { ok: false, message: "No such client." };
  },
  { stepUp: ({ disabled }) => disabled === "false" },
);

export const revokeClientGrantsAction = guardedAction(MANAGE, z.object({ clientId: z.string().max(100) }), async ({ clientId }, _admin, ctx) => {
  const count = await revokeClientGrants(clientId, ctx);
  revalidatePath("/admin/clients");
  return { ok: true, message: `Revoked ${count} grant${count === 1 ? "" : "s"} and every token of the client.` };
});

export const issueRegistrationTokenAction = guardedAction(MANAGE, z.object({}), async (_input, _admin, ctx) => {
  const { token, expiresInSeconds } = await issueInitialAccessToken(ctx);
  return { ok: true, message: `Initial access token issued, valid for ${expiresInSeconds / 3600} hours.`, data: { token } };
}, GIVES_ACCESS);

/** One user's grant to one client: the grant, its tokens and the remembered consent. */
export const revokeUserGrantAction = guardedAction(MANAGE, z.object({ clientId: z.string().max(100), userId: z.uuid() }), async ({ clientId, userId }, _admin, ctx) => {
  const revoked = await revokeConnectedApp(userId, clientId, ctx);
  revalidatePath(`/admin/clients/${encodeURIComponent(clientId)}`);
  return revoked ? { ok: true, message: "Grant revoked." } : { ok: false, message: "That grant no longer exists." };
});
