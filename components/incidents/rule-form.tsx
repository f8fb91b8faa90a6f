"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed, echoedTicked } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";
import type { ActionState } from "@/lib/auth/action";
import { SEVERITIES } from "@/lib/incidents/model";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;
const input = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm";

export type RuleFormProps = {
  rule: string;
  enabled: boolean;
  severity: string;
  joinWindowMinutes: number;
  /** The rule's own thresholds: name, label and current value. */
  params: { name: string; label: string; value: string | number | boolean }[];
};

export function RuleForm({ action, setting, readOnly }: { action: Action; setting: RuleFormProps; readOnly: boolean }) {
  const [state, formAction, pending] = useActionState(action, {});
  return (
    <form action={formAction} className="space-y-3" aria-label={`Settings of ${setting.rule}`}>
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-3">
        <input type="hidden" name="rule" value={setting.rule} />
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
          <Button type="submit" size="sm" disabled={pending}>Save</Button>
        </div>
      </fieldset>
    </form>
  );
}
