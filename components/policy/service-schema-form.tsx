"use client";
import type { ActionState } from "@/lib/auth/action";
import type { CedarProblem } from "@/lib/policy/types";
import { echoed } from "@/components/ui/echoed";
import { Field, TextAreaField } from "@/components/ui/field";
import { RecordForm } from "@/components/ui/record-form";

const EXAMPLE = `namespace Docs {
  entity Folder;
  entity Document in [Folder] = { owner: Gatehouse::User, classification: String };
  action read, edit appliesTo {
    principal: [Gatehouse::User, Gatehouse::Client],
    resource: [Document, Folder],
    context: Gatehouse::RequestContext,
  };
}`;

/** Registers another service's schema, or replaces one (`namespace` given: its name is fixed). */
export function ServiceSchemaForm({ action, namespace, text }: { action: (prev: ActionState, formData: FormData) => Promise<ActionState>; namespace?: string; text?: string }) {
  return (
    <RecordForm action={action} fields={namespace ? { namespace } : {}} submit={namespace ? `Save ${namespace}` : "Register"} pending="Checking…">
      {(state) => {
        const problems = (state.data as { errors?: CedarProblem[] } | undefined)?.errors ?? [];
        return (
          <>
            {!namespace && <Field id="new-schema-namespace" label="Namespace" name="namespace" placeholder="Docs" defaultValue={echoed(state, "namespace")} errors={state.fieldErrors?.namespace} hint="The service's own: one word starting with a capital letter." />}
            <TextAreaField
              id={`schema-${namespace ?? "new"}`}
              label={namespace ? `Schema of ${namespace}` : "Schema (Cedar)"}
              name="text"
              mono
              rows={namespace ? 8 : 10}
              defaultValue={echoed(state, "text") ?? text}
              placeholder={namespace ? undefined : EXAMPLE}
              errors={state.fieldErrors?.text}
              hint="Entity types and actions in the namespace; each action takes context: Gatehouse::RequestContext, and may name Gatehouse::User, Gatehouse::Client and Gatehouse's other types."
            />
            {problems.length > 0 && (
              <ul className="space-y-1 text-sm text-red-700" data-testid="schema-problems">
                {problems.map((p, i) => (
                  <li key={i}>
                    {p.line !== null && <span className="font-mono">line {p.line}{p.column !== null && `:${p.column}`}: </span>}
                    {p.policyId && <span className="font-mono">{p.policyId}: </span>}
                    {p.message}
                    {p.help && <span className="block text-slate-600">{p.help}</span>}
                  </li>
                ))}
              </ul>
            )}
          </>
        );
      }}
    </RecordForm>
  );
}
