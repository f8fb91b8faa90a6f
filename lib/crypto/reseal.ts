import "server-only";
import { db } from "../db/client";
import { decrypt, encrypt, keyRing } from "./index";

// Re-sealing stored secrets under the current encryption key (the first of
// GATEHOUSE_ENCRYPTION_KEYS), so that an old key can leave the list (npm run keys:reseal), and
// which key seals how many values, so an operator knows when it may. A value is rewritten only if
// it is still what was read: a change made meanwhile (a new TOTP secret) wins.

/** A column of values sealed with encrypt(), the row id beside it, and the context that opens them. Names come from code, never from input. */
export type SealedField = { table: string; column: string; id: string; context: string };

const BATCH = 200;
const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
// A sealed value is "kid.iv.ciphertext.tag"; anything else (a legacy plaintext snapshot) is not one.
const SEALED = `~ '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.'`;

/** How many values of the column each key id sealed. */
export async function sealedBy(column: SealedField): Promise<Map<string, number>> {
  const rows = await db().$queryRawUnsafe<{ kid: string; count: bigint }[]>(
    `SELECT split_part(${quoted(column.column)}, '.', 1) AS kid, count(*) AS count FROM ${quoted(column.table)} WHERE ${quoted(column.column)} ${SEALED} GROUP BY 1 ORDER BY 1`,
  );
  return new Map(rows.map((row) => [row.kid, Number(row.count)]));
}

/** Seals again under the current key every value of the column sealed under another; `unreadable`: values no configured key opens. */
export async function resealColumn(column: SealedField): Promise<{ resealed: number; unreadable: number }> {
  const current = keyRing().encryption.current.id;
  const [table, value, id] = [quoted(column.table), quoted(column.column), quoted(column.id)];
  let resealed = 0;
  let unreadable = 0;
  let after = "";
  for (;;) {
    const rows = await db().$queryRawUnsafe<{ id: string; value: string }[]>(
      `SELECT ${id}::text AS id, ${value} AS value FROM ${table} WHERE ${value} ${SEALED} AND split_part(${value}, '.', 1) <> $1 AND ${id}::text > $2 ORDER BY ${id}::text LIMIT ${BATCH}`,
      current, after,
    );
    if (rows.length === 0) return { resealed, unreadable };
    for (const row of rows) {
      after = row.id;
      let plaintext: string;
      try {
        plaintext = decrypt(row.value, column.context);
      } catch {
        unreadable++;
        continue;
      }
      resealed += await db().$executeRawUnsafe(`UPDATE ${table} SET ${value} = $1 WHERE ${id}::text = $2 AND ${value} = $3`, encrypt(plaintext, column.context), row.id, row.value);
    }
  }
}
