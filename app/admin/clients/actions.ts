"use server";
import { revalidatePath } from "next/cache";
import { redirect } from "next/navigation";
import { z } from "zod";
import { guardedAction, manyValues } from "@/lib/auth";
import {
  clientInputSchema, clientNames, createClient, deleteClient, GRANT_TYPES, issueInitialAccessToken, revokeClientGrants, revokeConnectedApp, rotateClientSecret, setClientDisabled, updateClient,
} from "@/lib/oidc";

const MANAGE = { section: "clients", action: "manage" } as const;
// A new client, an edited one (new redirect URIs, scopes, grants), a new secret, a client enabled
// again and a registration token are ways to obtain tokens: they need a fresh second factor.
// Disabling and revoking do not, so that they stay quick in an incident. Deleting does: it cannot be
// undone, and disabling is the quick way to stop a client.
const GIVES_ACCESS = { stepUp: true } as const;
const IRREVERSIBLE = { stepUp: true } as const;

const clientIdField = z.string().max(100);
const checkbox = z.literal("on").optional().transform((v) => v === "on");

// The console's client form, for a new client and an edited one: what the form sends, then the
// rules every client is held to.
const clientForm = z
  .object({ grantTypes: manyValues(z.enum(GRANT_TYPES)), requireDpop: checkbox, certificateBound: checkbox })
  .loose()
  .transform((form) => form)
  .pipe(clientInputSchema);

export const createClientAction = guardedAction(MANAGE, clientForm, async (input, _admin, ctx) => {
  const { clientId, clientSecret } = await createClient(input, ctx);
  revalidatePath("/admin/clients");
  return { ok: true, message: `Created ${input.name}.`, data: { clientId, clientSecret } };
}, GIVES_ACCESS);

const clientPath = (id: string) => `/admin/clients/${encodeURIComponent(id)}`;

// The edit form names its client and, read-only, its type (which updateClient keeps as it was).
// `version`: when the client was last changed, as the form showed it.
const editClientForm = z.intersection(z.object({ clientId: clientIdField, version: z.iso.datetime().optional() }), clientForm);

const EDIT_REFUSED = {
  not_found: "No such client.",
  type_fixed: "A client's type cannot change: create a new client instead.",
  changed_meanwhile: "Someone changed this client after you opened it (another admin or tab). Reload the page to see their change, then edit again.",
} as const;

export const updateClientAction = guardedAction(MANAGE, editClientForm, async ({ clientId, version, ...input }, _admin, ctx) => {
  const result = await updateClient(clientId, input, ctx, { editedFrom: version ? new Date(version) : undefined });
  if (!result.ok) return { ok: false, message: EDIT_REFUSED[result.problem] };
  revalidatePath("/admin/clients");
  revalidatePath(clientPath(clientId));
  if (!result.changed.length) return { ok: true, message: "Nothing changed." };
  const revoked = result.grantsRevoked === null ? "" : ` It lost access it had, so its grants and tokens were revoked (${result.grantsRevoked} user grant${result.grantsRevoked === 1 ? "" : "s"}): users consent again at their next sign-in.`;
  return { ok: true, message: `Saved ${input.name}: it takes effect at once.${revoked}` };
}, GIVES_ACCESS);

const ROTATION_REFUSED = {
  not_found: "No such client.",
  no_secret: "A public client has no secret.",
  rotated_meanwhile: "The secret was rotated meanwhile (another tab or admin?): rotate again if you still need a new one.",
} as const;

export const rotateClientSecretAction = guardedAction(MANAGE, z.object({ clientId: clientIdField, overlap: checkbox }), async ({ clientId, overlap }, _admin, ctx) => {
  const result = await rotateClientSecret(clientId, overlap, ctx);
  if (!result.ok) return { ok: false, message: ROTATION_REFUSED[result.problem] };
  revalidatePath(clientPath(clientId));
  // Other instances cache a client for a few seconds (lib/oidc/clients.ts).
  const old = overlap ? "The old secret keeps working for an hour." : "The old secret stops working within seconds on every instance.";
  return { ok: true, message: `New secret made. ${old}`, data: { clientSecret: result.clientSecret } };
}, GIVES_ACCESS);

export const deleteClientAction = guardedAction(MANAGE, z.object({ clientId: clientIdField }), async ({ clientId }, _admin, ctx) => {
  if (!(await deleteClient(clientId, ctx))) return { ok: false, message: "No such client." };
  revalidatePath("/admin/clients");
  redirect("/admin/clients");
}, IRREVERSIBLE);

export const setClientDisabledAction = guardedAction(
  MANAGE,
  z.object({ clientId: clientIdField, disabled: z.enum(["true", "false"]) }),
  async ({ clientId, disabled }, _admin, ctx) => {
    const result = await setClientDisabled(clientId, disabled === "true", ctx);
    if (result === "missing") return { ok: false, message: "No such client." };
    revalidatePath("/admin/clients");
    if (disabled === "false") return { ok: true, message: result === "changed" ? "Client enabled." : "The client was enabled already." };
    const revoked = "its grants, refresh tokens and opaque access tokens are revoked. JWT access tokens it already holds stay valid until they expire (its access-token lifetime).";
    return { ok: true, message: result === "changed" ? `Client disabled: it gets no new tokens, and ${revoked}` : `The client was disabled already; ${revoked}` };
  },
  { stepUp: ({ disabled }) => disabled === "false" },
);

export const revokeClientGrantsAction = guardedAction(MANAGE, z.object({ clientId: clientIdField }), async ({ clientId }, _admin, ctx) => {
  if (!(await clientNames([clientId])).has(clientId)) return { ok: false, message: "No such client." };
  const count = await revokeClientGrants(clientId, ctx);
  revalidatePath("/admin/clients");
  return { ok: true, message: `Revoked ${count} grant${count === 1 ? "" : "s"} and every token of the client.` };
});

export const issueRegistrationTokenAction = guardedAction(MANAGE, z.object({}), async (_input, _admin, ctx) => {
  const { token, expiresInSeconds } = await issueInitialAccessToken(ctx);
  return { ok: true, message: `Initial access token issued, valid for ${expiresInSeconds / 3600} hours.`, data: { token } };
}, GIVES_ACCESS);

/** One user's grant to one client: the grant, its tokens and the remembered consent. */
export const revokeUserGrantAction = guardedAction(MANAGE, z.object({ clientId: clientIdField, userId: z.uuid() }), async ({ clientId, userId }, _admin, ctx) => {
  const revoked = await revokeConnectedApp(userId, clientId, ctx);
  revalidatePath(clientPath(clientId));
  return revoked ? { ok: true, message: "Grant revoked." } : { ok: false, message: "That grant no longer exists." };
});
