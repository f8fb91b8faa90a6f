import { db } from "@/lib/db/client";

/**
 * Empties every application table so each test starts clean. The audit tables refuse TRUNCATE,
 * so this runs as the superuser with triggers off (session_replication_role = replica) for its
 * transaction — exactly the bypass the audit chain verification exists to detect. It first takes
 * the free-text indexer's turn (lib/audit/text-index.ts): an indexer still running after the last
 * test's writes would otherwise hold locks the TRUNCATE needs in another order (a deadlock); so
 * would an audit writer, whose order (the chain head, then the events) the reset takes too.
 */
export async function resetDatabase(): Promise<void> {
  const rows = await db().$queryRaw<{ tablename: string }[]>`
    SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> '_prisma_migrations'`;
  await db().$transaction([
    db().$executeRawUnsafe("SELECT pg_advisory_xact_lock(hashtext('gatehouse.audit_event_text'))"),
    // Then the chain head, which an audit writer locks before the events: taken first here too,
    // a writer still at work (a notice's delivery, say) finishes, and the next waits behind the reset.
    db().$executeRawUnsafe("LOCK TABLE audit_chain_head IN ACCESS EXCLUSIVE MODE"),
    db().$executeRawUnsafe("SET LOCAL session_replication_role = replica"),
    db().$executeRawUnsafe(`TRUNCATE ${rows.map((r) => `"${r.tablename}"`).join(", ")} RESTART IDENTITY CASCADE`),
    db().$executeRawUnsafe(`INSERT INTO audit_chain_head (id, seq, hash) VALUES (1, 0, repeat('0', 64))`),
    db().$executeRawUnsafe(`INSERT INTO detection_cursor (id, last_seq) VALUES (1, 0)`),
  ]);
  // The OpenID provider of this process holds the signing keys just emptied, and notices only every
  // half second (lib/oidc/provider.ts): a token it signed with a gone key would fail as a hint.
  delete (globalThis as Record<symbol, unknown>)[Symbol.for("gatehouse.oidc.provider")];
}
