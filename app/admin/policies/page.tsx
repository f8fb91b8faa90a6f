import type { Metadata } from "next";
import { ActionButton } from "@/components/ui/action-form";
import { Badge } from "@/components/ui/badge";
import { Card } from "@/components/ui/card";
import { PageHeader } from "@/components/shell/page-header";
import { PolicyEditor } from "@/components/policy/policy-editor";
import { PolicySimulator } from "@/components/policy/simulator";
import { ServiceSchemaForm } from "@/components/policy/service-schema-form";
import { LocalTime } from "@/components/ui/local-time";
import { canAccessAfterStepUp, requireAccess, userEmails } from "@/lib/auth";
import { readConfig } from "@/lib/config";
import { CEDAR_SCHEMA, listPolicyVersions, listServiceSchemas, policyEditorState, POLICY_HISTORY_SHOWN, POLICY_TEMPLATES, SERVICE_SCHEMA_SCOPE } from "@/lib/policy";
import {
  formatPoliciesAction, publishPoliciesAction, rebaseDraftAction, registerServiceSchemaAction, removeServiceSchemaAction, rollbackPoliciesAction, saveDraftAction, simulateAction,
  validatePoliciesAction,
} from "./actions";

export const metadata: Metadata = { title: "Policies" };

export default async function PoliciesPage() {
  const user = await requireAccess("policies");
  const [state, versions, services, mayManage] = await Promise.all([
    policyEditorState(), listPolicyVersions(), listServiceSchemas(), canAccessAfterStepUp(user, { section: "policies", action: "manage" }),
  ]);
  const text = state.draft?.text ?? state.inForce.text;
  const timeZone = readConfig().GATEHOUSE_TIME_ZONE;
  const authors = await userEmails(versions.flatMap((v) => (v.authorId ? [v.authorId] : [])));
  return (
    <>
      <PageHeader
        title="Access policies"
        description="Cedar policies decide who may view and manage each part of the console, who gets tokens, and what other services ask the decision point."
      />
      <div className="space-y-6">
        <Card
          title={`In force: version ${state.inForce.version}${state.inForce.version === 0 ? " (built-in roles)" : ""}`}
          description={state.draft ? (
            <>
              Editing the saved draft (based on version {state.draft.baseVersion}, saved <LocalTime at={state.draft.updatedAt} />). It is not in force until published.
              {state.draft.baseVersion !== state.inForce.version && (
                <span className="mt-2 block space-y-2">
                  <strong className="block text-amber-800">Version {state.inForce.version} was published after this draft was started: publishing the draft as it is would undo what changed (see the history below). Check the draft against it first.</strong>
                  {mayManage && <ActionButton action={rebaseDraftAction} fields={{ draftSavedAt: state.draft.updatedAt.toISOString(), checkedVersion: String(state.inForce.version) }} label={`I have checked it: base the draft on version ${state.inForce.version}`} />}
                </span>
              )}
            </>
          ) : `${state.inForce.comment}. Publishing asks for a fresh second factor.`}
        >
          <PolicyEditor
            initialText={text}
            baseVersion={state.draft?.baseVersion ?? state.inForce.version}
            draftSavedAt={state.draft?.updatedAt.toISOString() ?? null}
            templates={POLICY_TEMPLATES}
            readOnly={!mayManage}
            validateAction={validatePoliciesAction}
            formatAction={formatPoliciesAction}
            saveDraftAction={saveDraftAction}
            publishAction={publishPoliciesAction}
          />
        </Card>

        <Card title="Simulator" description={`Try a request against the policies in the editor above, published or not. context.hour and context.dayOfWeek are in ${timeZone} (GATEHOUSE_TIME_ZONE).`}>
          <PolicySimulator
            action={simulateAction}
            defaultPrincipal={user.email}
            now={new Date().toISOString().slice(0, 16)}
            services={{ entityTypes: services.flatMap((s) => s.entityTypes), actions: services.flatMap((s) => s.actions) }}
          />
        </Card>

        <Card title="History" description={`Published versions, newest first (the last ${POLICY_HISTORY_SHOWN}), with what changed; each stays in the audit trail.`}>
          {versions.length === 0 ? (
            <p className="text-sm text-slate-500">Nothing published yet: the built-in roles (version 0) are in force.</p>
          ) : (
            <ul className="divide-y divide-slate-100" data-testid="policy-history">
              {versions.map((v) => (
                <li key={v.version} className="py-3 text-sm">
                  <div className="flex flex-wrap items-center justify-between gap-2">
                    <p>
                      <span className="font-medium">Version {v.version}</span> {v.version === state.inForce.version && <Badge tone="green">In force</Badge>}
                      {v.restoredFrom !== null && <Badge tone="neutral">copy of version {v.restoredFrom}</Badge>}
                      <span className="block text-slate-600">{v.comment} · {v.authorId ? (authors.get(v.authorId) ?? "deleted user") : "system"} · <LocalTime at={v.createdAt} /></span>
                    </p>
                    {mayManage && v.version !== state.inForce.version && (
                      <ActionButton action={rollbackPoliciesAction} fields={{ version: String(v.version), baseVersion: String(state.inForce.version) }} label={`Roll back to version ${v.version}`} confirm={`Publish version ${v.version}'s policies again?`} />
                    )}
                  </div>
                  {v.diff && (
                    <details className="mt-2">
                      <summary className="cursor-pointer text-xs text-brand-700">Changes</summary>
                      <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-2 text-xs">
                        {v.diff.split("\n").slice(2).map((line, i) => (
                          <span key={i} className={`block ${line.startsWith("+") ? "text-green-700" : line.startsWith("-") ? "text-red-700" : "text-slate-600"}`}>{line || " "}</span>
                        ))}
                      </pre>
                    </details>
                  )}
                </li>
              ))}
              {mayManage && (
                <li className="py-3 text-sm">
                  <ActionButton action={rollbackPoliciesAction} fields={{ version: "0", baseVersion: String(state.inForce.version) }} label="Restore the built-in roles (version 0)" confirm="Publish the built-in role policies again?" />
                </li>
              )}
            </ul>
          )}
        </Card>

        <Card
          title="Other services' types"
          description={<>Resource types and actions of the services that ask the decision point, each in its own namespace, so policies can name them (<span className="font-mono">Docs::Action::&quot;read&quot;</span>). A service registers its own with a token carrying the <span className="font-mono">{SERVICE_SCHEMA_SCOPE}</span> scope (README: the decision point); a change that the policies in force would no longer validate against is refused. Changes here ask for a fresh second factor.</>}
        >
          {services.length === 0 && <p className="text-sm text-slate-500">No service has registered types yet: policies can name Gatehouse&apos;s own, and other services&apos; resources as Gatehouse::Resource.</p>}
          <ul className="divide-y divide-slate-100" data-testid="service-schemas">
            {services.map((s) => (
              <li key={s.namespace} className="space-y-2 py-3 text-sm">
                <div className="flex flex-wrap items-center justify-between gap-2">
                  <p>
                    <span className="font-mono font-medium">{s.namespace}</span>{" "}
                    <Badge tone="neutral">{s.ownerClientId ? `registered by client ${s.ownerClientId}` : "from the console"}</Badge>
                    <span className="block text-slate-600">
                      Types: <span className="font-mono">{s.entityTypes.join(", ") || "none"}</span> · Actions: <span className="font-mono">{s.actions.join(", ") || "none"}</span> · updated <LocalTime at={s.updatedAt} />
                    </span>
                  </p>
                  {mayManage && <ActionButton action={removeServiceSchemaAction} fields={{ namespace: s.namespace }} label={`Remove ${s.namespace}`} confirm={`Remove ${s.namespace}'s types and actions? Policies will no longer be able to name them.`} />}
                </div>
                {mayManage ? (
                  <details>
                    <summary className="cursor-pointer text-xs text-brand-700">Schema</summary>
                    <div className="mt-2"><ServiceSchemaForm action={registerServiceSchemaAction} namespace={s.namespace} text={s.text} /></div>
                  </details>
                ) : (
                  <pre className="overflow-x-auto rounded bg-slate-50 p-2 text-xs">{s.text}</pre>
                )}
              </li>
            ))}
          </ul>
          {mayManage && (
            <details className="mt-3">
              <summary className="cursor-pointer text-sm font-medium text-brand-700">Register a service&apos;s types</summary>
              <div className="mt-3"><ServiceSchemaForm action={registerServiceSchemaAction} /></div>
            </details>
          )}
        </Card>

        <Card title="Schema" description="What policies can name: principals, actions, resources and the request context.">
          <pre className="overflow-x-auto text-xs text-slate-700">{CEDAR_SCHEMA}</pre>
        </Card>
      </div>
    </>
  );
}
