// For the few pages written as HTML strings rather than React (the OpenID provider's own pages,
// the compliance report): every value they show goes through here.
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** `value` as HTML text, safe in element content and in quoted attributes. */
export const escapeHtml = (value: unknown): string => String(value ?? "").replace(/[&<>"']/g, (c) => ENTITIES[c]!);
