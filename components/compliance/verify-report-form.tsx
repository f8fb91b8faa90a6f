"use client";
import { useState, type FormEvent } from "react";
import { Button } from "@/components/ui/button";

type Verdict = { ok: boolean; checked: number; problems: string[] } | { error: string };

/** Sends a downloaded report (HTML or JSON) to be checked against the audit trail. */
export function VerifyReportForm() {
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [pending, setPending] = useState(false);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get("report");
    if (!(file instanceof File) || file.size === 0) return setVerdict({ error: "Choose a report file first." });
    setPending(true);
    try {
      const response = await fetch("/api/v1/compliance/report/verify", { method: "POST", body: file, headers: { "Content-Type": "application/octet-stream" } });
      const body = (await response.json()) as Verdict & { error_description?: string };
      setVerdict(response.ok ? body : { error: body.error_description ?? `The server answered ${response.status}.` });
    } catch {
      setVerdict({ error: "The report could not be sent. Check your connection and try again." });
    } finally {
      setPending(false);
    }
  }

  return (
    <form onSubmit={submit} className="space-y-3" aria-label="Verify a report">
      <div className="space-y-1">
        <label htmlFor="report-file" className="block text-sm font-medium text-slate-700">Report file (.html or .json)</label>
        <input id="report-file" name="report" type="file" accept=".html,.json,text/html,application/json" className="block text-sm" />
      </div>
      <Button type="submit" variant="secondary" disabled={pending}>{pending ? "Verifying…" : "Verify against the audit trail"}</Button>
      {verdict && (
        <div role={"ok" in verdict && verdict.ok ? "status" : "alert"} data-testid="report-verdict"
          className={`rounded-md border px-3 py-2 text-sm ${"ok" in verdict && verdict.ok ? "border-green-200 bg-green-50 text-green-800" : "border-red-200 bg-red-50 text-red-800"}`}>
          {"error" in verdict ? verdict.error : verdict.ok ? `The report verifies: ${verdict.checked} results and audit events match the audit trail.` : "The report does not verify:"}
          {"problems" in verdict && verdict.problems.length > 0 && (
            <ul className="mt-1 list-disc pl-5">{verdict.problems.map((p) => <li key={p}>{p}</li>)}</ul>
          )}
        </div>
      )}
    </form>
  );
}
