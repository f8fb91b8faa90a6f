"use client";
import { SECRET_FIELD } from "@/lib/util/secret-fields";

// What was typed on a page, kept across the trip to /account/confirm that step-up asks for: the
// page comes back with a full load, and a playbook's steps or a policy being written would
// otherwise be gone. Only the fields the person changed, never a password, secret or code nor a
// hidden field; kept in sessionStorage (this tab), put back only on the way back from that
// confirmation (the return address carries the draft's id) and only into the same form as it
// stands now: a form whose hidden fields changed meanwhile (the version it edits, the record it
// names) is left as the server sends it, so a colleague's change is never typed over.

const KEY = "gatehouse:form-draft";
const HASH = /^#draft=([\w-]{8,64})$/;
const MAX_AGE_MS = 30 * 60_000;

type Typed = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
type Field = { scope: string; name: string; nth: number; value: string; checked?: boolean };
type Draft = { id: string; path: string; at: number; fields: Field[] };

const here = () => window.location.pathname + window.location.search;

const isTyped = (el: EventTarget | null): el is Typed =>
  (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) && !!el.name && !SECRET_FIELD.test(el.name)
  && !(el instanceof HTMLInputElement && ["hidden", "password", "file", "submit", "button"].includes(el.type));

// The fields changed on this page since it loaded (FormDraftRestorer listens).
const touched = new Set<Typed>();

/** Notes a field the person changed: only those are kept. */
export function noteTouched(event: Event): void {
  if (isTyped(event.target)) touched.add(event.target);
}

/** The part of the page a field belongs to (a marked region, else its form), and that part's identity: its label and hidden fields. */
function scopeOf(el: Element): Element | null {
  return el.closest("[data-draft-scope]") ?? el.closest("form");
}

function identity(scope: Element | null): string {
  if (!scope) return "page";
  const typedNames = new Set([...scope.querySelectorAll<Typed>("input[name], select[name], textarea[name]")].filter(isTyped).map((el) => el.name));
  // A hidden field that mirrors a typed one (the policy text sent with the publish) is not identity.
  const hidden = [...scope.querySelectorAll<HTMLInputElement>('input[type="hidden"][name]')].filter((el) => !typedNames.has(el.name)).map((el) => `${el.name}=${el.value}`);
  return JSON.stringify([scope.getAttribute("aria-label") ?? scope.getAttribute("data-draft-scope") ?? "", ...hidden]);
}

/** Each typed field on the page with its scope's identity and its place among the scope's fields of its name. */
function located(): { el: Typed; scope: string; nth: number }[] {
  const seen = new Map<string, number>();
  return [...document.querySelectorAll<Typed>("input[name], select[name], textarea[name]")].filter(isTyped).map((el) => {
    const scope = identity(scopeOf(el));
    const key = `${scope}\u0000${el.name}`;
    const nth = seen.get(key) ?? 0;
    seen.set(key, nth + 1);
    return { el, scope, nth };
  });
}

/** A draft's id: matched, not secret (crypto.randomUUID needs https, which a plain-http start lacks). */
export const newDraftId = () => `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 12)}`;

/** Keeps the fields changed on this page until it comes back from /account/confirm with `#draft=<id>`. */
export function saveFormDraft(id: string): void {
  const fields = located().filter(({ el }) => touched.has(el)).map(({ el, scope, nth }): Field => ({
    scope, name: el.name, nth, value: el.value,
    ...(el instanceof HTMLInputElement && (el.type === "checkbox" || el.type === "radio") && { checked: el.checked }),
  }));
  try {
    sessionStorage.setItem(KEY, JSON.stringify({ id, path: here(), at: Date.now(), fields } satisfies Draft));
  } catch {
    // Storage full or refused: the page comes back as it would have.
  }
}

/** Forgets any kept draft (signing in or out: what one person typed is never put back for another). */
export function forgetFormDraft(): void {
  sessionStorage.removeItem(KEY);
}

// React keeps controlled fields in state: the native setter plus an input event reach their onChange.
function setValue(el: Typed, field: Field): void {
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

/** Puts back the kept fields whose scope is on the page as it was; returns those not placed (yet). */
function apply(fields: Field[]): Field[] {
  const now = located();
  return fields.filter((field) => {
    const match = now.find((candidate) => candidate.scope === field.scope && candidate.el.name === field.name && candidate.nth === field.nth);
    if (!match) return true;
    setValue(match.el, field);
    return false;
  });
}

/**
 * On the way back from /account/confirm (the address ends in #draft=<its id>): puts the kept
 * fields back, once, in two passes (fields a first value reveals, a response's settings, come
 * second). Any other page leaves the draft be (the confirm page itself comes between); it is
 * replaced by the next, ignored after 30 minutes, and forgotten on the sign-in pages.
 */
export function restoreFormDraft(): void {
  const returning = HASH.exec(window.location.hash)?.[1];
  let draft: Draft | null = null;
  try {
    draft = JSON.parse(sessionStorage.getItem(KEY) ?? "null") as Draft | null;
  } catch {
    draft = null;
  }
  if (!returning) return;
  forgetFormDraft();
  history.replaceState(history.state, "", here());
  if (!draft || draft.id !== returning || draft.path !== here() || Date.now() - draft.at > MAX_AGE_MS) return;
  const left = apply(draft.fields);
  if (left.length) setTimeout(() => apply(left), 50);
}
