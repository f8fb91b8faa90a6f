import { ROLE_DESCRIPTIONS, ROLES } from "@/lib/auth/roles";

/** Role choices for a form; "user" is always held, so it is shown but not offered. */
export function RoleCheckboxes({ selected = [], errors }: { selected?: readonly string[]; errors?: string[] }) {
  return (
    <fieldset className="space-y-2">
      <legend className="text-sm font-medium text-slate-700">Roles</legend>
      {ROLES.filter((r) => r !== "user").map((role) => (
        <label key={role} className="flex items-start gap-2 text-sm">
          <input type="checkbox" name="roles" value={role} defaultChecked={selected.includes(role)} className="mt-0.5" />
          <span>
            <span className="font-medium">{role}</span> <span className="text-slate-500">— {ROLE_DESCRIPTIONS[role]}</span>
          </span>
        </label>
      ))}
      {errors?.length ? <p className="text-xs text-red-700">{errors.join(" ")}</p> : null}
    </fieldset>
  );
}
