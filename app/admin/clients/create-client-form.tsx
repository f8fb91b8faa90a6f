"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed, echoedAll } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { createClientAction } from "./actions";

const GRANT_LABELS = {
  authorization_code: "Authorization code (users sign in)",
  refresh_token: "Refresh tokens",
  client_credentials: "Client credentials (machine to machine)",
} as const;

function TextArea({ label, name, hint, errors, defaultValue }: { label: string; name: string; hint?: string; errors?: string[]; defaultValue?: string }) {
  return (
    <div className="space-y-1">
      <label htmlFor={`field-${name}`} className="block text-sm font-medium text-slate-700">
        {label}
      </label>
      <textarea id={`field-${name}`} name={name} rows={3} defaultValue={defaultValue} aria-invalid={errors?.length ? true : undefined} className="block w-full rounded-md border border-slate-300 px-3 py-2 font-mono text-xs aria-invalid:border-red-500" />
      {hint && <p className="text-xs text-slate-500">{hint}</p>}
      {errors?.length ? <p className="text-xs text-red-700">{errors.join(" ")}</p> : null}
    </div>
  );
}

export function CreateClientForm() {
  const [state, action, pending] = useActionState(createClientAction, {});
  const created = state.ok ? (state.data as { clientId: string; clientSecret: string | null }) : null;
  const grants = state.ok ? [] : echoedAll(state, "grantTypes");
  return (
    <div className="space-y-4">
      <FormMessage state={state} />
      {created && (
        <div className="space-y-1 rounded-md border border-amber-200 bg-amber-50 p-4 text-sm" data-testid="client-credentials">
          <p>
            Client id: <code data-testid="client-id">{created.clientId}</code>
          </p>
          {created.clientSecret && (
            <p>
              Client secret (shown once, stored only as a hash): <code data-testid="client-secret">{created.clientSecret}</code>
            </p>
          )}
        </div>
      )}
      <form action={action} className="grid max-w-2xl gap-4" noValidate>
        <Field label="Name" name="name" required errors={state.fieldErrors?.name} defaultValue={echoed(state, "name")} />
        <fieldset className="space-y-1">
          <legend className="text-sm font-medium text-slate-700">Type</legend>
          <label className="mr-4 text-sm">
            <input type="radio" name="type" value="confidential" defaultChecked={echoed(state, "type") !== "public"} /> Confidential (has a secret: servers)
          </label>
          <label className="text-sm">
            <input type="radio" name="type" value="public" defaultChecked={echoed(state, "type") === "public"} /> Public (no secret: browser and native apps)
          </label>
        </fieldset>
        <fieldset className="space-y-1">
          <legend className="text-sm font-medium text-slate-700">Grant types</legend>
          {Object.entries(GRANT_LABELS).map(([value, label]) => (
            <label key={value} className="block text-sm">
              <input type="checkbox" name="grantTypes" value={value} defaultChecked={grants.length ? grants.includes(value) : value !== "client_credentials"} /> {label}
            </label>
          ))}
          {state.fieldErrors?.grantTypes?.length ? <p className="text-xs text-red-700">{state.fieldErrors.grantTypes.join(" ")}</p> : null}
        </fieldset>
        <TextArea label="Redirect URIs" name="redirectUris" hint="One per line. https, or http on 127.0.0.1 / [::1] for native apps. Matched exactly." errors={state.fieldErrors?.redirectUris} defaultValue={echoed(state, "redirectUris")} />
        <Field label="Allowed scopes" name="scopes" hint="Space-separated: openid profile email offline_access, plus API scopes for resources." defaultValue={echoed(state, "scopes") || "openid profile email offline_access"} errors={state.fieldErrors?.scopes} />
        <TextArea label="Resources (APIs)" name="resources" hint="Resource indicators (RFC 8707) this client may get JWT access tokens for, one per line. The first is the default." errors={state.fieldErrors?.resources} defaultValue={echoed(state, "resources")} />
        <div className="grid grid-cols-2 gap-4">
          <Field label="Access token lifetime (seconds)" name="accessTokenTtl" inputMode="numeric" defaultValue={echoed(state, "accessTokenTtl") || "600"} errors={state.fieldErrors?.accessTokenTtl} />
          <Field label="Refresh token lifetime (seconds)" name="refreshTokenTtl" inputMode="numeric" defaultValue={echoed(state, "refreshTokenTtl") || "1209600"} errors={state.fieldErrors?.refreshTokenTtl} />
        </div>
        <label className="text-sm">
          <input type="checkbox" name="requireDpop" defaultChecked={echoed(state, "requireDpop") === "on"} /> Require DPoP (sender-constrained tokens)
        </label>
        <label className="text-sm">
          <input type="checkbox" name="certificateBound" defaultChecked={echoed(state, "certificateBound") === "on"} /> Bind tokens to the client certificate (mTLS, RFC 8705; needs GATEHOUSE_CLIENT_CERT_HEADER)
        </label>
        <div>
          <Button type="submit" disabled={pending}>
            {pending ? "Creating…" : "Create client"}
          </Button>
        </div>
      </form>
    </div>
  );
}
