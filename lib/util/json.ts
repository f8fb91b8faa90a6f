/** JSON.parse that answers null for malformed input instead of throwing. */
export function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
