"use client";
import { useActionState, useEffect, useRef, useState, useTransition } from "react";
import type { ActionState } from "@/lib/auth/action";
import type { CedarProblem, PolicyCheck } from "@/lib/policy/types";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/field";
import { echoed } from "@/components/ui/echoed";
import { FormMessage } from "@/components/ui/form-message";
import { tokenizeCedar, type TokenKind } from "./cedar-highlight";

type Action = (prev: ActionState, formData: FormData) => Promise<ActionState>;

const COLOURS: Record<TokenKind, string> = {
  keyword: "text-purple-700",
  effect: "font-semibold text-blue-700",
  string: "text-green-700",
  comment: "text-slate-400 italic",
  annotation: "text-amber-700",
  entity: "text-teal-700",
  number: "text-orange-700",
  plain: "text-slate-900",
};

const withText = (text: string, fields: Record<string, string> = {}) => {
  const data = new FormData();
  data.set("text", text);
  for (const [name, value] of Object.entries(fields)) data.set(name, value);
  return data;
};

/**
 * A Cedar editor: a textarea over a highlighted copy of its text (same font, same box), validated
 * against the schema as you type (after a pause), with problems listed by line.
 */
export function PolicyEditor({
  initialText, baseVersion, draftSavedAt, templates, readOnly, validateAction, formatAction, saveDraftAction, publishAction,
}: {
  initialText: string;
  /** The published version the text was written against: a publish is refused if a newer one exists, and a saved draft keeps it. */
  baseVersion: number;
  /** When the draft this editor opened was saved (null: it opened the policies in force); that draft goes once published. */
  draftSavedAt: string | null;
  templates: { id: string; label: string; text: string }[];
  readOnly: boolean;
  validateAction: Action;
  formatAction: Action;
  saveDraftAction: Action;
  publishAction: Action;
}) {
  const [text, setText] = useState(initialText);
  const [check, setCheck] = useState<PolicyCheck | null>(null);
  const [notice, setNotice] = useState<ActionState>({});
  const [checking, startChecking] = useTransition();
  const [publishState, publish, publishing] = useActionState(publishAction, {});
  const highlight = useRef<HTMLPreElement>(null);

  // Validate a moment after typing stops.
  useEffect(() => {
    const timer = setTimeout(() => startChecking(async () => setCheck(((await validateAction({}, withText(text))).data as PolicyCheck) ?? null)), 400);
    return () => clearTimeout(timer);
  }, [text, validateAction]);

  const publishErrors = (publishState.data as { errors?: CedarProblem[] } | undefined)?.errors;
  const problems = publishErrors?.length ? publishErrors : (check?.errors ?? []);
  const badLines = new Set(problems.map((p) => p.line).filter((l): l is number => l !== null));
  const lines = text.split("\n");

  return (
    // One scope for a draft kept across step-up (form-draft.ts): the text and the publish form
    // with the version it was written against, so a version published meanwhile is not typed over.
    <div className="space-y-3" data-draft-scope="policy-editor">
      <div className="flex flex-wrap items-center gap-2">
        <label className="text-sm text-slate-600" htmlFor="template">Insert a template</label>
        <select
          id="template"
          disabled={readOnly}
          className="rounded-md border border-slate-300 bg-white px-2 py-1 text-sm"
          value=""
          onChange={(e) => {
            const template = templates.find((t) => t.id === e.target.value);
            if (template) setText((current) => `${current.trimEnd()}\n\n${template.text}\n`);
          }}
        >
          <option value="">Choose…</option>
          {templates.map((t) => <option key={t.id} value={t.id}>{t.label}</option>)}
        </select>
        <Button type="button" variant="secondary" size="sm" disabled={readOnly} onClick={async () => {
          const result = await formatAction({}, withText(text));
          if (result.ok) setText((result.data as { text: string }).text);
          else setNotice(result);
        }}>Format</Button>
        <Button type="button" variant="secondary" size="sm" disabled={readOnly} onClick={async () => setNotice(await saveDraftAction({}, withText(text, { baseVersion: String(baseVersion) })))}>Save draft</Button>
        <span className="ml-auto text-xs text-slate-500" data-testid="validation-status" aria-live="polite">
          {checking ? "Checking…" : check ? (check.ok ? "✓ Valid against the schema" : `${check.errors.length} problem${check.errors.length === 1 ? "" : "s"}`) : ""}
        </span>
      </div>
      <FormMessage state={notice} />

      <div className="relative h-[28rem] overflow-hidden rounded-md border border-slate-300 bg-white font-mono text-[13px] leading-5">
        <pre ref={highlight} aria-hidden className="pointer-events-none absolute inset-0 m-0 overflow-hidden whitespace-pre p-3">
          {lines.map((line, i) => (
            <div key={i} className={badLines.has(i + 1) ? "bg-red-100" : undefined}>
              {tokenizeCedar(line).map((t, j) => <span key={j} className={COLOURS[t.kind]}>{t.text}</span>)}
              {line === "" && "\u200b"}
            </div>
          ))}
        </pre>
        <textarea
          aria-label="Policies (Cedar)"
          name="text"
          spellCheck={false}
          readOnly={readOnly}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onScroll={(e) => {
            if (highlight.current) {
              highlight.current.scrollTop = e.currentTarget.scrollTop;
              highlight.current.scrollLeft = e.currentTarget.scrollLeft;
            }
          }}
          className="absolute inset-0 h-full w-full resize-none overflow-auto whitespace-pre bg-transparent p-3 text-transparent caret-slate-900 outline-none"
        />
      </div>

      {problems.length > 0 && (
        <ul className="space-y-1 rounded-md border border-red-200 bg-red-50 p-3 text-sm text-red-900" data-testid="policy-problems">
          {problems.map((p, i) => (
            <li key={i}>
              {p.line !== null && <span className="font-mono">Line {p.line}:{p.column} </span>}
              {p.policyId && <span className="font-mono">[{p.policyId}] </span>}
              {p.message}
              {p.help && <span className="block text-xs text-red-700">{p.help}</span>}
            </li>
          ))}
        </ul>
      )}

      {!readOnly && (
        <form action={publish} className="flex flex-wrap items-end gap-3">
          <input type="hidden" name="text" value={text} />
          <input type="hidden" name="baseVersion" value={baseVersion} />
          {draftSavedAt && <input type="hidden" name="draftSavedAt" value={draftSavedAt} />}
          <Field className="min-w-[min(20rem,100%)] flex-1" label="What changes, and why" name="comment" required maxLength={300} errors={publishState.fieldErrors?.comment} defaultValue={echoed(publishState, "comment")} />
          <Button type="submit" disabled={publishing}>{publishing ? "Publishing…" : "Publish"}</Button>
          <div className="basis-full"><FormMessage state={publishState} /></div>
        </form>
      )}
    </div>
  );
}
