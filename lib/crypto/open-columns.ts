// Columns of sealed values opened in one go: what a worker thread is asked to do
// (decrypt-worker.ts), and what this thread does when there is no worker.
import { decrypt, keyRing } from "./index";

/** Shown in place of a value that no configured key opens (a key removed from GATEHOUSE_ENCRYPTION_KEYS). */
export const UNDECRYPTABLE = "(cannot decrypt: key not configured)";

export type SealedColumn = { values: (string | null)[]; context: string };
export type DecryptRequest = { id: number; columns: SealedColumn[]; keys: [string, Uint8Array][] };

/** A stored sealed value for reading: null stays null, and one no configured key opens says so. */
export function openSealed(value: string | null, context: string, keys: ReadonlyMap<string, Uint8Array> = keyRing().encryption.byId): string | null {
  if (!value) return null;
  try {
    return decrypt(value, context, keys);
  } catch {
    return UNDECRYPTABLE;
  }
}

/** Each column's values opened under its context (openSealed). */
export function openSealedColumns({ columns, keys }: Pick<DecryptRequest, "columns" | "keys">): (string | null)[][] {
  const byId = new Map(keys);
  return columns.map(({ values, context }) => values.map((value) => openSealed(value, context, byId)));
}
