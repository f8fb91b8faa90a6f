import type { ReactNode } from "react";
import type { ActionState } from "@/lib/auth/action";
import type { ClientSettings } from "@/lib/oidc";
import { echoed, echoedAll, echoedTicked } from "@/components/ui/echoed";
import { Field, TextAreaField } from "@/components/ui/field";
import { DEFAULT_ACCESS_TOKEN_TTL, DEFAULT_REFRESH_TOKEN_TTL } from "@/lib/oidc/token-lifetimes";

// The fields of the console's client form, for a new client and an edited one. The type is chosen
// once, at creation: each form brings its own type field (a choice, or the type shown). The server
// holds both to clientInputSchema.

const GRANT_LABELS = {
  authorization_code: "Authorization code (users sign in)",
  refresh_token: "Refresh tokens",
  client_credentials: "Client credentials (machine to machine)",
} as const;

/** What the form shows before anything is submitted, as the form's fields spell it. */
export type ClientFormValues = {
  name: string; grantTypes: string[]; redirectUris: string; postLogoutRedirectUris: string; backchannelLogoutUri: string; scopes: string; resources: string; accessTokenTtl: string; refreshTokenTtl: string; requireDpop: boolean; certificateBound: boolean;
};

export const NEW_CLIENT: ClientFormValues = {
  name: "", grantTypes: ["authorization_code", "refresh_token"], redirectUris: "", postLogoutRedirectUris: "", backchannelLogoutUri: "", scopes: "openid profile email offline_access", resources: "",
  accessTokenTtl: String(DEFAULT_ACCESS_TOKEN_TTL), refreshTokenTtl: String(DEFAULT_REFRESH_TOKEN_TTL), requireDpop: false, certificateBound: false,
};

/** A client's settings as its edit form starts out. */
export function formValuesOf(c: ClientSettings): ClientFormValues {
  return {
    ...c, redirectUris: c.redirectUris.join("\n"), postLogoutRedirectUris: c.postLogoutRedirectUris.join("\n"), backchannelLogoutUri: c.backchannelLogoutUri ?? "", scopes: c.scopes.join(" "), resources: c.resources.join("\n"),
    accessTokenTtl: String(c.accessTokenTtl), refreshTokenTtl: String(c.refreshTokenTtl),
  };
}

/** The fields with `initial` in them, or after a refused submission what was typed (boxes left unticked are not sent, hence `state.values`). */
export function ClientFields({ state, initial, typeField }: { state: ActionState; initial: ClientFormValues; typeField: ReactNode }) {
  const errors = state.fieldErrors ?? {};
  const text = (name: Exclude<keyof ClientFormValues, "grantTypes" | "requireDpop" | "certificateBound">) => echoed(state, name) ?? initial[name];
  const ticked = (name: "requireDpop" | "certificateBound") => echoedTicked(state, name, initial[name]);
  const grants = state.values ? echoedAll(state, "grantTypes") : initial.grantTypes;
  return (
    <>
      <Field label="Name" name="name" required errors={errors.name} defaultValue={text("name")} />
      {typeField}
      <fieldset className="space-y-1">
        <legend className="text-sm font-medium text-slate-700">Grant types</legend>
        {Object.entries(GRANT_LABELS).map(([value, label]) => (
          <label key={value} className="block text-sm">
            <input type="checkbox" name="grantTypes" value={value} defaultChecked={grants.includes(value)} /> {label}
          </label>
        ))}
        {errors.grantTypes?.length ? <p className="text-xs text-red-700">{errors.grantTypes.join(" ")}</p> : null}
      </fieldset>
      <TextAreaField mono label="Redirect URIs" name="redirectUris" hint="One per line. https, or http on 127.0.0.1 / [::1] for native apps. Matched exactly." errors={errors.redirectUris} defaultValue={text("redirectUris")} />
      <TextAreaField mono label="Sign-out redirect URIs" name="postLogoutRedirectUris" hint="Optional. Where the app may send users back to after signing out (post_logout_redirect_uri); the same rules. Without one, users see Gatehouse's signed-out page." errors={errors.postLogoutRedirectUris} defaultValue={text("postLogoutRedirectUris")} />
      <Field label="Back-channel logout URI" name="backchannelLogoutUri" hint="Optional. Where Gatehouse POSTs a signed logout token (OpenID Connect Back-Channel Logout, with the sid of the ID token) when a user's Gatehouse sign-in ends: signed out, revoked, disabled, or ended by an incident response. The same rules as redirect URIs." errors={errors.backchannelLogoutUri} defaultValue={text("backchannelLogoutUri")} />
      <Field label="Allowed scopes" name="scopes" hint="Space-separated: openid profile email roles offline_access (roles: the user's Gatehouse roles as a claim), plus API scopes for resources." defaultValue={text("scopes")} errors={errors.scopes} />
      <TextAreaField mono label="Resources (APIs)" name="resources" hint="Resource indicators (RFC 8707) this client may get JWT access tokens for, one per line. The first is the default." errors={errors.resources} defaultValue={text("resources")} />
      <div className="grid grid-cols-2 gap-4">
        <Field label="Access token lifetime (seconds)" name="accessTokenTtl" inputMode="numeric" defaultValue={text("accessTokenTtl")} errors={errors.accessTokenTtl} />
        <Field label="Refresh token lifetime (seconds)" name="refreshTokenTtl" inputMode="numeric" defaultValue={text("refreshTokenTtl")} errors={errors.refreshTokenTtl} />
      </div>
      <label className="text-sm">
        <input type="checkbox" name="requireDpop" defaultChecked={ticked("requireDpop")} /> Require DPoP (sender-constrained tokens)
      </label>
      <label className="text-sm">
        <input type="checkbox" name="certificateBound" defaultChecked={ticked("certificateBound")} /> Bind tokens to the client certificate (mTLS, RFC 8705; needs GATEHOUSE_CLIENT_CERT_HEADER)
      </label>
      {errors.certificateBound?.length ? <p className="text-xs text-red-700">{errors.certificateBound.join(" ")}</p> : null}
    </>
  );
}
