"use client";
import { useActionState } from "react";
import { Button } from "@/components/ui/button";
import { echoed } from "@/components/ui/echoed";
import { Field } from "@/components/ui/field";
import { FormMessage } from "@/components/ui/form-message";
import { FACTOR_CODES, FACTOR_LABELS } from "@/lib/risk/scoring";
import type { RiskSettings } from "@/lib/risk/settings-schema";
import { saveRiskSettingsAction } from "../actions";

const THRESHOLDS = [
  ["watch", "Allow and watch from"],
  ["mfa", "Require MFA from"],
  ["phishingResistant", "Require a passkey from"],
  ["block", "Block from"],
] as const;

const LIMITS = [
  ["maxTravelKmh", "Impossible travel above (km/h)", "1"],
  ["failureWindowMinutes", "Failure window (minutes)", "1"],
  ["accountFailureLimit", "Account failures for full strength", "1"],
  ["ipFailureLimit", "Failures from one IP for full strength", "1"],
  ["ipAccountLimit", "Accounts failed from one IP for full strength", "1"],
  ["unusualHourShare", "Unusual hour: share of past sign-ins below", "0.01"],
  ["hourBaselineMinimum", "Unusual hour: judged after this many sign-ins", "1"],
  ["blockLockMinutes", "A blocked sign-in locks the account for (minutes)", "1"],
] as const;

/** `version`: the version shown, sent with the form: a save is refused if another was saved since. */
export function RiskSettingsForm({ settings, version, readOnly }: { settings: RiskSettings; version: number; readOnly: boolean }) {
  const [state, action, pending] = useActionState(saveRiskSettingsAction, {});
  const value = (name: string, current: number) => echoed(state, name) ?? String(current);
  const errors = state.fieldErrors ?? {};
  return (
    <form action={action} className="space-y-6" noValidate>
      <FormMessage state={state} />
      {/* After a refusal, the version the values shown came from, not the newest: a second click must not undo what was saved meanwhile. */}
      <input type="hidden" name="baseVersion" value={echoed(state, "baseVersion") ?? version} />
      <fieldset disabled={readOnly} className="space-y-6">
        <section>
          <h3 className="mb-2 text-sm font-semibold text-slate-900">Factor weights (0–1)</h3>
          <div className="grid gap-4 sm:grid-cols-3">
            {FACTOR_CODES.map((code) => (
              <Field key={code} label={code === "ip_allowlisted" ? `${FACTOR_LABELS[code]} (subtracted)` : FACTOR_LABELS[code]} name={`weights.${code}`} type="number" step="0.01" min="0" max="1" defaultValue={value(`weights.${code}`, settings.weights[code])} />
            ))}
          </div>
          {errors.weights && <p className="mt-1 text-xs text-red-700">{errors.weights.join(" ")}</p>}
        </section>
        <section>
          <h3 className="mb-2 text-sm font-semibold text-slate-900">Decision ladder</h3>
          <div className="grid gap-4 sm:grid-cols-4">
            {THRESHOLDS.map(([key, label]) => (
              <Field key={key} label={label} name={`thresholds.${key}`} type="number" step="0.01" min="0" max="1" defaultValue={value(`thresholds.${key}`, settings.thresholds[key])} />
            ))}
          </div>
          {errors.thresholds && <p className="mt-1 text-xs text-red-700" data-testid="thresholds-error">{errors.thresholds.join(" ")}</p>}
        </section>
        <section>
          <h3 className="mb-2 text-sm font-semibold text-slate-900">Signals</h3>
          <div className="grid gap-4 sm:grid-cols-4">
            {LIMITS.map(([key, label, step]) => (
              <Field key={key} label={label} name={key} type="number" step={step} defaultValue={value(key, settings[key])} errors={errors[key]} />
            ))}
          </div>
        </section>
        {!readOnly && (
          <div className="flex items-end gap-4">
            <Field className="flex-1" label="Why this change" name="comment" required maxLength={300} errors={errors.comment} defaultValue={echoed(state, "comment")} />
            <Button type="submit" disabled={pending}>{pending ? "Saving…" : "Save as a new version"}</Button>
          </div>
        )}
      </fieldset>
    </form>
  );
}
