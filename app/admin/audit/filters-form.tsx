import Link from "next/link";
import { AUDIT_OUTCOMES, AUDIT_TYPES } from "@/lib/audit/events";

type Values = Record<string, string | undefined>;

const input = "block w-full rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm aria-invalid:border-red-500";

function TextFilter({ name, label, values, errors, type = "text", placeholder }: { name: string; label: string; values: Values; errors: Record<string, string[] | undefined>; type?: string; placeholder?: string }) {
  const error = errors[name]?.[0];
  return (
    <label className="space-y-1 text-xs font-medium text-slate-600">
      <span>{label}</span>
      <input name={name} type={type} defaultValue={values[name]} placeholder={placeholder} aria-invalid={error ? true : undefined} className={input} />
      {error && <span className="block text-red-700">{error}</span>}
    </label>
  );
}

function SelectFilter({ name, label, options, values, errors }: { name: string; label: string; options: readonly string[]; values: Values; errors: Record<string, string[] | undefined> }) {
  const error = errors[name]?.[0];
  return (
    <label className="space-y-1 text-xs font-medium text-slate-600">
      <span>{label}</span>
      <select name={name} defaultValue={error ? "" : (values[name] ?? "")} aria-invalid={error ? true : undefined} className={input}>
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o.replace("_", " ")}
          </option>
        ))}
      </select>
      {error && <span className="block text-red-700">{error}</span>}
    </label>
  );
}

/** The search form: a GET form, so every search is a shareable URL. Times are UTC. */
export function AuditFiltersForm({ values, errors }: { values: Values; errors: Record<string, string[] | undefined> }) {
  const props = { values, errors };
  return (
    <form role="search" aria-label="Audit events" action="/admin/audit" className="grid gap-3 sm:grid-cols-2 lg:grid-cols-4">
      <TextFilter name="from" label="From (UTC)" type="datetime-local" {...props} />
      <TextFilter name="to" label="Before (UTC)" type="datetime-local" {...props} />
      <TextFilter name="actor" label="Actor (email or id)" {...props} />
      <TextFilter name="ip" label="IP address or range" placeholder="e.g. 203.0.113.0/24" {...props} />
      <SelectFilter name="type" label="Type" options={AUDIT_TYPES} {...props} />
      <TextFilter name="action" label="Action" placeholder="e.g. auth.sign_in" {...props} />
      <SelectFilter name="outcome" label="Outcome" options={AUDIT_OUTCOMES} {...props} />
      <TextFilter name="q" label="Text" placeholder="words in the event" {...props} />
      <TextFilter name="resourceType" label="Resource type" placeholder="e.g. user" {...props} />
      <TextFilter name="resourceId" label="Resource id" {...props} />
      <div className="flex items-end gap-2 lg:col-span-2">
        <button className="rounded-md bg-brand-600 px-4 py-1.5 text-sm font-medium text-white hover:bg-brand-700">Search</button>
        <Link href="/admin/audit" className="rounded-md px-3 py-1.5 text-sm text-slate-600 hover:bg-slate-100">
          Clear
        </Link>
      </div>
    </form>
  );
}
