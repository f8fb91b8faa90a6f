"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed, echoedTicked } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";
import { SEVERITIES } from "@/lib/incidents/model";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";

export type RuleFormProps = {
  rule: string;
  /** The version shown (0: the rule's defaults), sent with the form: a save is refused if another was saved since. */
  version: number;
  enabled: boolean;
  severity: string;
  joinWindowMinutes: number;
  /** The rule's own thresholds: name, label and current value. */
  params: { name: string; label: string; value: string | number | boolean }[];
};

export function RuleForm({ action, setting, readOnly }: { action: Action; setting: RuleFormProps; readOnly: boolean }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label={`Settings of ${setting.rule}`} noValidate>
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-3">
        <input type="hidden" name="rule" value={setting.rule} />
        {/* After a refusal, the version the values shown came from, not the newest: a second click must not undo what was saved meanwhile. */}
        <input type="hidden" name="baseVersion" value={echoed(state, "baseVersion") ?? setting.version} />
        <div className="flex flex-wrap items-end gap-4 text-sm">
          {/* The hidden "false" makes an unticked box say so (a ticked one sends both). */}
          <input type="hidden" name="enabled" value="false" />
          <label className="flex items-center gap-2"><input type="checkbox" name="enabled" defaultChecked={echoedTicked(state, "enabled", setting.enabled)} /> Enabled</label>
          <label className="space-y-1"><span className="block text-slate-700">Severity</span>
            <select key={echoed(state, "severity") ?? setting.severity} name="severity" defaultValue={echoed(state, "severity") ?? setting.severity} className={input}>{SEVERITIES.map((s) => <option key={s} value={s}>{s}</option>)}</select>
          </label>
          <label className="space-y-1"><span className="block text-slate-700">Joins an incident seen within (min)</span>
            <input name="joinWindowMinutes" type="number" min={1} defaultValue={echoed(state, "joinWindowMinutes") ?? setting.joinWindowMinutes} className={input} />
          </label>
          {setting.params.map((p) => typeof p.value === "boolean" ? (
            <label key={p.name} className="flex items-center gap-2"><input type="hidden" name={`params.${p.name}`} value="false" /><input type="checkbox" name={`params.${p.name}`} defaultChecked={echoedTicked(state, `params.${p.name}`, p.value)} /> {p.label}</label>
          ) : (
            <label key={p.name} className="space-y-1"><span className="block text-slate-700">{p.label}</span>
              <input name={`params.${p.name}`} type="number" step="any" defaultValue={echoed(state, `params.${p.name}`) ?? p.value} className={input} />
            </label>
          ))}
        </div>
        {!readOnly && (
          <div className="flex items-end gap-4">
            <Field className="flex-1" id={`comment-${setting.rule}`} label="Why this change" name="comment" required maxLength={300} errors={state.fieldErrors?.comment} defaultValue={echoed(state, "comment")} />
            <Button type="submit" size="sm" disabled={pending}>{pending ? "Saving…" : "Save as a new version"}</Button>
          </div>
        )}
      </fieldset>
    </form>
  );
}
