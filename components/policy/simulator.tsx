"use client";
import { useActionState } from "react";
import type { ActionState } from "@/lib/auth/action";
import type { PolicyCheck } from "@/lib/policy/types";
import { Button } from "@/components/ui/button";
import { echoed, echoedTicked, echoingSent } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";

type Result =
  | { kind: "invalid"; check: PolicyCheck }
  | { kind: "unknown_principal"; message: string }
  | { kind: "decision"; decision: "allow" | "deny"; policies: string[]; errors: { policyId: string; message: string }[]; micros: number; country: string };

function Select({ label, name, options, value }: { label: string; name: string; options: [string, string][]; value?: string }) {
  return (
    <div className="space-y-1">
      <label htmlFor={`sim-${name}`} className="block text-sm font-medium text-slate-700">{label}</label>
      <select key={value} id={`sim-${name}`} name={name} defaultValue={value} className="block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm">
        {options.map(([v, l]) => <option key={v} value={v}>{l}</option>)}
      </select>
    </div>
  );
}

/** Runs one request against the policies in the editor (read from the editor's textarea when submitted). */
/** `services`: the entity types and actions registered services declared (Docs::Document, Docs::Action::"read"). */
export function PolicySimulator({ action, defaultPrincipal, now, services }: {
  action: (prev: ActionState, formData: FormData) => Promise<ActionState>; defaultPrincipal: string; now: string; services: { entityTypes: string[]; actions: string[] };
}) {
  // The request as asked comes back with every answer, so the form still shows what was simulated
  // (the policies' text, added after, stays in the editor).
  const [state, run, pending] = useActionState(echoingSent(async (prev, data) => {
    data.set("text", (document.querySelector<HTMLTextAreaElement>('textarea[name="text"]')?.value ?? ""));
    return action(prev, data);
  }), {});
  const result = state.ok ? (state.data as Result) : null;
  const v = (name: string, fallback: string) => echoed(state, name) ?? fallback;
  return (
    <form action={run} className="space-y-4" noValidate>
      <div className="grid gap-4 sm:grid-cols-3">
        <Select label="Principal type" name="principalType" value={v("principalType", "user")} options={[["user", "User (email)"], ["client", "OAuth client (id)"]]} />
        <Field label="Principal" name="principal" defaultValue={v("principal", defaultPrincipal)} errors={state.fieldErrors?.principal} />
        <Select label="Action" name="action" value={v("action", "manage")} options={[["view", "view"], ["manage", "manage"], ["issueToken", "issueToken"], ["access", "access"], ...services.actions.map((a): [string, string] => [a, a])]} />
        <Select label="Resource type" name="resourceType" value={v("resourceType", "console")} options={[["console", "Console section"], ["client", "OAuth client"], ["resource", "Another service's resource (Gatehouse::Resource)"], ...services.entityTypes.map((t): [string, string] => [t, t])]} />
        <Field label="Resource" name="resource" defaultValue={v("resource", "policies")} hint="A section (users, policies, …), a client id or a resource id." errors={state.fieldErrors?.resource} />
        {services.entityTypes.length > 0 && (
          <Field label="Resource attributes (JSON)" name="resourceAttributes" className="sm:col-span-3" defaultValue={v("resourceAttributes", "")} errors={state.fieldErrors?.resourceAttributes}
            hint='For a registered service type: what the service would send, in Cedar&apos;s JSON form, e.g. {"owner": {"__entity": {"type": "Gatehouse::User", "id": "<user id>"}}}.' />
        )}
        <Field label="When (UTC)" name="at" type="datetime-local" defaultValue={v("at", now)} errors={state.fieldErrors?.at} />
        <Field label="Client IP" name="ip" defaultValue={v("ip", "198.51.100.10")} errors={state.fieldErrors?.ip} />
        <Field label="Country" name="country" defaultValue={v("country", "")} hint="context.country, e.g. DE. Blank: the IP address's (GeoIP)." errors={state.fieldErrors?.country} />
        <Field label="Risk score (0–1)" name="risk" type="number" step="0.01" min="0" max="1" defaultValue={v("risk", "0.1")} errors={state.fieldErrors?.risk} />
        <Select label="Authentication strength" name="authStrength" value={v("authStrength", "mfa")} options={[["password", "password"], ["mfa", "mfa"], ["phishing_resistant", "phishing_resistant"]]} />
        <Select label="Via" name="via" value={v("via", "interactive")} options={[["interactive", "interactive (console, app sign-in)"], ["refresh", "refresh (an app refreshing tokens)"], ["client_credentials", "client_credentials"], ["service", "service (decision point API)"]]} />
      </div>
      <div className="flex gap-6 text-sm">
        <label><input type="checkbox" name="mfaFresh" defaultChecked={echoedTicked(state, "mfaFresh", true)} /> MFA in the last 5 minutes</label>
        <label><input type="checkbox" name="deviceTrusted" defaultChecked={echoedTicked(state, "deviceTrusted", false)} /> Trusted device</label>
      </div>
      <Button type="submit" variant="secondary" disabled={pending}>{pending ? "Deciding…" : "Simulate"}</Button>
      {!state.ok && <FormMessage state={state} />}
      {result && (
        <div className="rounded-md border border-slate-200 p-4 text-sm" data-testid="simulation-result" aria-live="polite">
          {result.kind === "decision" && (
            <>
              <p className={`text-lg font-semibold ${result.decision === "allow" ? "text-green-700" : "text-red-700"}`}>{result.decision === "allow" ? "Allow" : "Deny"}</p>
              <p className="text-slate-600">
                {result.policies.length ? <>Decided by: <span className="font-mono">{result.policies.join(", ")}</span></> : "No policy permits it (deny by default)."} · from {result.country ? <span className="font-mono">{result.country}</span> : "an unknown country"} · {(result.micros / 1000).toFixed(2)} ms
              </p>
              {result.errors.map((e, i) => <p key={i} className="text-red-700">Error in {e.policyId}: {e.message}</p>)}
            </>
          )}
          {result.kind === "unknown_principal" && <p className="text-red-700">{result.message}</p>}
          {result.kind === "invalid" && <p className="text-red-700">The policies in the editor do not validate: fix them first ({result.check.errors.length} problem{result.check.errors.length === 1 ? "" : "s"}).</p>}
        </div>
      )}
    </form>
  );
}
