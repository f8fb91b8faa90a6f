import type { InputHTMLAttributes, TextareaHTMLAttributes } from "react";

type FieldProps = InputHTMLAttributes<HTMLInputElement> & {
  label: string;
  name: string;
  errors?: string[];
  hint?: string;
};

const CONTROL = "block w-full rounded-md border border-slate-300 bg-white px-3 py-2 text-sm shadow-sm placeholder:text-slate-400 focus:border-brand-600 focus:outline-none aria-invalid:border-red-500";

/** The label, hint and errors around a control, and the attributes that tie them to it for screen readers. */
function Labelled({ label, inputId, hint, errors, srOnlyLabel = false, className = "", control }: {
  label: string; inputId: string; hint?: string; errors?: string[]; srOnlyLabel?: boolean; className?: string;
  control: (wiring: { id: string; "aria-invalid": true | undefined; "aria-describedby": string | undefined }) => React.ReactNode;
}) {
  const describedBy = [hint ? `${inputId}-hint` : null, errors?.length ? `${inputId}-error` : null].filter(Boolean).join(" ");
  return (
    <div className={`space-y-1 ${className}`}>
      <label htmlFor={inputId} className={srOnlyLabel ? "sr-only" : "block text-sm font-medium text-slate-700"}>
        {label}
      </label>
      {control({ id: inputId, "aria-invalid": errors?.length ? true : undefined, "aria-describedby": describedBy || undefined })}
      {hint && (
        <p id={`${inputId}-hint`} className="text-xs text-slate-500">
          {hint}
        </p>
      )}
      {errors?.length ? (
        <p id={`${inputId}-error`} className="text-xs text-red-700">
          {errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

/** A labelled input with its hint and errors wired up for screen readers. */
export function Field({ label, name, errors, hint, id, className = "", ...input }: FieldProps) {
  return <Labelled label={label} inputId={id ?? `field-${name}`} hint={hint} errors={errors} className={className} control={(wiring) => <input name={name} className={CONTROL} {...wiring} {...input} />} />;
}

type TextAreaFieldProps = TextareaHTMLAttributes<HTMLTextAreaElement> & { label: string; name: string; errors?: string[]; hint?: string; srOnlyLabel?: boolean; mono?: boolean };

/** A labelled textarea, wired up like Field. */
export function TextAreaField({ label, name, errors, hint, id, className = "", srOnlyLabel, mono = false, rows = 3, ...textarea }: TextAreaFieldProps) {
  return (
    <Labelled
      label={label}
      inputId={id ?? `field-${name}`}
      hint={hint}
      errors={errors}
      srOnlyLabel={srOnlyLabel}
      className={className}
      control={(wiring) => <textarea name={name} rows={rows} className={`${CONTROL} ${mono ? "font-mono text-xs" : ""}`} {...wiring} {...textarea} />}
    />
  );
}
