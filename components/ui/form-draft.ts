"use client";
import { SECRET_FIELD } from "@/lib/util/secret-fields";

// What was typed on a page, kept across the trip to /account/confirm that step-up asks for: the
// page comes back with a full load, and a playbook's steps or a policy being written would
// otherwise be gone. Kept in sessionStorage (this tab only), never a password, secret or code nor
// a hidden field, restored once by FormDraftRestorer and dropped; older than 30 minutes, ignored.

const KEY = "gatehouse:form-draft";
const MAX_AGE_MS = 30 * 60_000;

type Field = { name: string; nth: number; value: string; checked?: boolean };
type Draft = { path: string; at: number; fields: Field[] };

const here = () => window.location.pathname + window.location.search;

/** The page's named fields a person types into, each with its place among those of its name. */
function typedFields(): (HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement)[] {
  const all = [...document.querySelectorAll<HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>("input[name], select[name], textarea[name]")];
  return all.filter((el) => !SECRET_FIELD.test(el.name) && !(el instanceof HTMLInputElement && ["hidden", "password", "file", "submit", "button"].includes(el.type)));
}

function nthOfName(fields: readonly { name: string }[]): number[] {
  const seen = new Map<string, number>();
  return fields.map((field) => {
    const nth = seen.get(field.name) ?? 0;
    seen.set(field.name, nth + 1);
    return nth;
  });
}

/** Keeps what is typed on this page until it comes back (FormDraftRestorer). */
export function saveFormDraft(): void {
  const elements = typedFields();
  const nths = nthOfName(elements);
  const fields = elements.map((el, i): Field => ({
    name: el.name, nth: nths[i]!, value: el.value,
    ...(el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio") && { checked: el.checked }),
  }));
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ path: here(), at: Date.now(), fields } satisfies Draft));
  } catch {
    // Storage full or refused: the page comes back as it would have.
  }
}

// React keeps controlled fields in state: the native setter plus an input event reach their onChange.
function setValue(el: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, field: Field): void {
  if (el instanceof HTMLInputElement && field.checked !== undefined) {
    // A click, as a person's: React sees it; a radio is only ever chosen, not unchosen.
    if (el.checked !== field.checked && (el.type === "checkbox" || field.checked)) el.click();
    return;
  }
  if (el.value === field.value) return;
  const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(el), "value")?.set;
  setter?.call(el, field.value);
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Puts back what was kept for this page, if anything; returns the fields it could not place yet. */
function apply(fields: Field[]): Field[] {
  const elements = typedFields();
  const nths = nthOfName(elements);
  return fields.filter((field) => {
    const el = elements.find((candidate, i) => candidate.name === field.name && nths[i] === field.nth);
    if (!el) return true;
    setValue(el, field);
    return false;
  });
}

/** Restores the draft kept for this page (once), in two passes: fields a first value reveals (a response's settings) come second. */
export function restoreFormDraft(): void {
  let draft: Draft | null = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Draft | null;
  } catch {
    draft = null;
  }
  if (!draft || draft.path !== here()) return;
  sessionStorage.removeItem(KEY);
  if (Date.now() - draft.at > MAX_AGE_MS) return;
  const left = apply(draft.fields);
  if (left.length) setTimeout(() => apply(left), 50);
}
