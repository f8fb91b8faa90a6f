import "server-only";
import { z } from "zod";
import { db, Prisma } from "../db/client";
import { openSealed } from "../crypto/open-columns";
import { decryptInWorker } from "../crypto/parallel-decrypt";
import { AUDIT_OUTCOMES, AUDIT_TYPES, type StoredEvent } from "./events";
import { SENSITIVE_CONTEXT } from "./record";
import { canonicalIpFilter, ipFilterHashes } from "./ip-filter";
import { GENESIS_HASH } from "./hash";
import { parseStoredEvent, storedHashHolds } from "./chain-range";
import { readChainHead, readEvents, readRange, selectEvents } from "./store";
import { indexCommittedEvents, matchingText, type TextQuery } from "./text-index";
import { vouchedCheckpoint } from "./verify";

const optionalText = (max: number) =>
  z.string().trim().max(max).refine((v) => !v.includes("\u0000"), "Remove the NUL character.").optional().transform((v) => v || undefined);
const optionalDate = z
  .string()
  .trim()
  .max(40)
  .optional()
  .transform((v, ctx) => {
    if (!v) return undefined;
    // <input type="datetime-local"> has no zone: the console works in UTC.
    const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
    // JavaScript takes years PostgreSQL does not (-010000); nothing in the trail is that old or new.
    if (Number.isNaN(date.getTime()) || date.getUTCFullYear() < 1970 || date.getUTCFullYear() > 9999) {
      ctx.addIssue({ code: "custom", message: "Enter a date and time between 1970 and 9999." });
      return z.NEVER;
    }
    return date;
  });

// A select's value: "" is "Any"; anything not listed (a hand-edited URL) names the field.
const chosen = <T extends readonly [string, ...string[]]>(options: T, message: string) =>
  z.preprocess((v) => (v === "" ? undefined : v), z.enum(options, { error: message }).optional());

export const auditFiltersSchema = z.object({
  from: optionalDate,
  to: optionalDate,
  actor: optionalText(320),
  type: chosen(AUDIT_TYPES, "Choose a type from the list."),
  action: optionalText(64),
  outcome: chosen(AUDIT_OUTCOMES, "Choose an outcome from the list."),
  ip: optionalText(64).transform((v, ctx) => {
    if (!v) return undefined;
    const parsed = canonicalIpFilter(v);
    if ("filter" in parsed) return parsed.filter;
    ctx.addIssue({ code: "custom", message: parsed.error });
    return z.NEVER;
  }),
  resourceType: optionalText(64),
  resourceId: optionalText(200),
  q: optionalText(200),
});
export type AuditFilters = z.infer<typeof auditFiltersSchema>;

/** The filters as applied, as text (dates in ISO form): what an export's manifest says it holds. */
export function appliedFilters(filters: Partial<AuditFilters>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(filters).flatMap(([key, value]) => (value === undefined ? [] : [[key, value instanceof Date ? value.toISOString() : value]])),
  );
}

const MAX_SEQ = BigInt("9223372036854775807");

/** An event's sequence number from a URL, or null: digits only, within PostgreSQL's bigint. */
export function parseSeq(text: string | undefined): bigint | null {
  if (!text || !/^\d{1,19}$/.test(text)) return null;
  const seq = BigInt(text);
  return seq <= MAX_SEQ ? seq : null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An actor as typed: a user's id (any case), an email, or else a client's id (case matters) or a
 * system actor's label (as shown, e.g. "playbook: Lock account"). An email is the account that
 * has it now, by id (events written with the id alone: sign-outs, the provider's token events,
 * and those from before an email change), and the address as recorded (sign-ins of an unknown
 * or since deleted account); emails are recorded in lower case. Otherwise one column, so the
 * search walks its (column, seq) index newest first; which one an id-or-label is, one index probe tells.
 */
async function actorClause(actor: string): Promise<Prisma.Sql> {
  if (UUID.test(actor)) return Prisma.sql`actor_id = ${actor.toLowerCase()}`;
  if (actor.includes("@")) {
    const email = actor.toLowerCase();
    const account = await db().user.findUnique({ where: { email }, select: { id: true } });
    return account ? Prisma.sql`(actor_id = ${account.id} OR actor_label = ${email})` : Prisma.sql`actor_label = ${email}`;
  }
  const [asId] = await db().$queryRaw<unknown[]>`SELECT 1 FROM audit_events WHERE actor_id = ${actor} LIMIT 1`;
  return asId ? Prisma.sql`actor_id = ${actor}` : Prisma.sql`actor_label = ${actor}`;
}

/** The free text of a set of filters, with the filters the text index holds too (see matchingText). */
const textQuery = (f: Partial<AuditFilters>): TextQuery | null => (f.q ? { q: f.q, type: f.type, outcome: f.outcome } : null);

/**
 * The WHERE clause for a set of filters. A time range becomes a range of sequence numbers
 * (time and sequence rise together, since both are assigned under the chain lock), so every
 * query walks one (filter, seq) index backwards from the newest match. `textWithin` (SQL on a
 * bare `seq`) bounds the free-text matches fetched to the range the query reads.
 */
export async function filterClause(f: Partial<AuditFilters>, textWithin: Prisma.Sql = Prisma.empty): Promise<Prisma.Sql> {
  const parts: Prisma.Sql[] = [];
  if (f.from) {
    const [row] = await db().$queryRaw<{ seq: bigint }[]>`SELECT seq FROM audit_events WHERE at >= ${f.from} ORDER BY at, seq LIMIT 1`;
    parts.push(Prisma.sql`seq >= ${row?.seq ?? MAX_SEQ}`);
  }
  if (f.to) {
    const [row] = await db().$queryRaw<{ seq: bigint }[]>`SELECT seq FROM audit_events WHERE at < ${f.to} ORDER BY at DESC, seq DESC LIMIT 1`;
    parts.push(Prisma.sql`seq <= ${row?.seq ?? BigInt(0)}`);
  }
  if (f.actor) parts.push(await actorClause(f.actor));
  if (f.type) parts.push(Prisma.sql`type = ${f.type}`);
  if (f.action) parts.push(Prisma.sql`action = ${f.action}`);
  if (f.outcome) parts.push(Prisma.sql`outcome = ${f.outcome}`);
  if (f.ip) {
    const hashes = ipFilterHashes(f.ip);
    parts.push(hashes.length === 1 ? Prisma.sql`ip_hash = ${hashes[0]}` : Prisma.sql`ip_hash = ANY(${hashes}::text[])`);
  }
  if (f.resourceType) parts.push(Prisma.sql`resource_type = ${f.resourceType}`);
  if (f.resourceId) parts.push(Prisma.sql`resource_id = ${f.resourceId}`);
  const text = textQuery(f);
  if (text) {
    await indexCommittedEvents();
    parts.push(Prisma.sql`seq IN (${matchingText(text, textWithin)})`);
  }
  return parts.length ? Prisma.sql`AND ${Prisma.join(parts, " AND ")}` : Prisma.empty;
}

/** An event as a person reads it: sensitive fields decrypted. */
export type AuditEventView = StoredEvent & { ip: string | null; userAgent: string | null };

export function revealEvent<E extends Pick<StoredEvent, "ipCipher" | "userAgentCipher">>(event: E): E & { ip: string | null; userAgent: string | null } {
  return { ...event, ip: openSealed(event.ipCipher, SENSITIVE_CONTEXT.ip), userAgent: openSealed(event.userAgentCipher, SENSITIVE_CONTEXT.userAgent) };
}

/**
 * revealEvent for a whole batch, decrypted on a worker thread (exports: lib/crypto/parallel-decrypt.ts).
 * The opened values are added to the events given, which the caller read for this and shares with
 * nothing: copying every event (21 fields) cost an export as much as its decryption did.
 */
export async function revealEvents<E extends Pick<StoredEvent, "ipCipher" | "userAgentCipher">>(events: E[]): Promise<(E & { ip: string | null; userAgent: string | null })[]> {
  if (events.length === 0) return [];
  const [ips, userAgents] = await decryptInWorker([
    { values: events.map((e) => e.ipCipher), context: SENSITIVE_CONTEXT.ip },
    { values: events.map((e) => e.userAgentCipher), context: SENSITIVE_CONTEXT.userAgent },
  ]);
  const revealed = events as (E & { ip: string | null; userAgent: string | null })[];
  for (let i = 0; i < revealed.length; i++) {
    revealed[i]!.ip = ips![i] ?? null;
    revealed[i]!.userAgent = userAgents![i] ?? null;
  }
  return revealed;
}

export const AUDIT_PAGE_SIZE = 50;

/** How many events match the filters (an IP range is not supported): nothing read or decrypted, for checks that only count. */
export async function countAuditEvents(filters: Omit<Partial<AuditFilters>, "ip">): Promise<number> {
  const [row] = await db().$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM audit_events WHERE true ${await filterClause(filters)}`;
  return Number(row?.n ?? 0);
}

/** Newest first; `before` is the keyset cursor (a sequence number). */
export async function searchAuditEvents(filters: Partial<AuditFilters>, before?: bigint, { firstWindow = FIRST_WINDOW } = {}) {
  // An IP range is matched per address (see newestMatches), free text per window (see
  // pageInWindows), the other filters as a WHERE clause.
  const { ip, q: _, ...others } = filters;
  const ipRange = ip?.includes("/") ? ipFilterHashes(ip) : null;
  const where = await filterClause(ipRange ? others : { ...others, ip });
  const wanted = AUDIT_PAGE_SIZE + 1;
  const text = textQuery(filters);
  const events = text ? await pageInWindows(where, text, before, wanted, firstWindow, ipRange) : await newestMatches(where, before ? Prisma.sql`AND seq < ${before}` : Prisma.empty, wanted, ipRange);
  const page = events.slice(0, AUDIT_PAGE_SIZE).map(revealEvent);
  return { events: page, nextBefore: events.length > AUDIT_PAGE_SIZE ? page.at(-1)!.seq : null };
}

/**
 * The newest `limit` events matching `where` within `range`. With an IP range (its addresses'
 * blind indexes), PostgreSQL would walk the table newest first testing every row against thousands
 * of hashes (most ranges match few events: 0.8 s at a million events); instead each address's
 * newest matches come from its (ip_hash, seq) index, and the newest of those are the page.
 */
async function newestMatches(where: Prisma.Sql, range: Prisma.Sql, limit: number, ipRange: string[] | null = null): Promise<StoredEvent[]> {
  const condition = ipRange
    ? Prisma.sql`AND audit_events.seq IN (SELECT newest.seq FROM unnest(${ipRange}::text[]) AS address(hash)
        CROSS JOIN LATERAL (SELECT seq FROM audit_events WHERE ip_hash = address.hash ${where} ${range} ORDER BY seq DESC LIMIT ${limit}) newest)`
    : Prisma.sql`${where} ${range}`;
  return (await selectEvents(condition, "desc", limit)).map(parseStoredEvent);
}

// The full-text index cannot hand out matches newest first, so PostgreSQL would fetch and sort
// every match of a common word to show 50 (hundreds of ms at a million events). Instead the page
// is looked for in the newest 50,000 events below the cursor, then in windows four times larger,
// until it is full: a common word fills it in the first window, a rare one has few matches to fetch.
const FIRST_WINDOW = BigInt(50_000);

async function pageInWindows(where: Prisma.Sql, text: TextQuery, before: bigint | undefined, wanted: number, firstWindow: bigint, ipRange: string[] | null): Promise<StoredEvent[]> {
  await indexCommittedEvents();
  // The chain head holds the newest sequence number (Prisma's aggregate would scan the table for it).
  let upper = before ?? (await readChainHead()).seq + BigInt(1);
  const found: StoredEvent[] = [];
  // A window of at least one event, so the loop always moves down (tests pass tiny windows).
  for (let size = firstWindow > BigInt(0) ? firstWindow : BigInt(1); upper > BigInt(0) && found.length < wanted; size *= BigInt(4)) {
    const lower = upper > size ? upper - size : BigInt(0);
    const window = Prisma.sql`AND seq >= ${lower} AND seq < ${upper}`;
    found.push(...(await newestMatches(Prisma.sql`${where} AND seq IN (${matchingText(text, window)})`, window, wanted - found.length, ipRange)));
    upper = lower;
  }
  return found;
}

export async function findAuditEvent(seq: bigint): Promise<AuditEventView | null> {
  const [row] = await readEvents([seq]);
  return row ? revealEvent(parseStoredEvent(row)) : null;
}

export type AuditEventCheck = {
  event: AuditEventView;
  hashHolds: boolean;
  /** Links to the previous event, or to the signed checkpoint a retention purge left at its place. */
  linkHolds: boolean;
  /** The previous event was purged by retention, and the link is to its checkpoint. */
  previousPurged: boolean;
  /** The next event links to this one; null when this is the newest event. */
  nextLinkHolds: boolean | null;
  /** Past the chain head even as read after the event: inserted outside the chain (the head moves in the insert's transaction). */
  beyondHead: boolean;
  /** All of the above hold. An event edited with its hash recomputed still breaks the next link; one whose neighbours were deleted to hide that breaks too. */
  intact: boolean;
};

/** One event and its place in the chain (see checkAuditEvents). */
export async function checkAuditEvent(seq: bigint): Promise<AuditEventCheck | null> {
  return (await checkAuditEvents([seq])).get(seq.toString()) ?? null;
}

/**
 * Events by sequence number, each with its hash recomputed (as the chain walk does) and its links
 * to its neighbours. A missing neighbour is a break, unless the previous one was purged by
 * retention (its checkpoint holds its hash) or this is the newest event.
 */
export async function checkAuditEvents(seqs: bigint[]): Promise<Map<string, AuditEventCheck>> {
  if (seqs.length === 0) return new Map();
  const before = seqs.map((s) => s - BigInt(1));
  // The head first: an event appended after it was read is a next event, not a missing one.
  const head = await readChainHead();
  const [rows, neighbours, purgeAnchors] = await Promise.all([
    readEvents(seqs),
    db().auditEvent.findMany({ where: { seq: { in: seqs.flatMap((s) => [s - BigInt(1), s + BigInt(1)]).filter((s) => s >= BigInt(0) && s <= MAX_SEQ) } }, select: { seq: true, hash: true, prevHash: true } }),
    db().auditCheckpoint.findMany({ where: { seq: { in: before }, reason: "purge" }, select: { seq: true, hash: true, reason: true, keyId: true, signature: true } }),
  ]);
  // Read again after the events: an event the chain wrote is at or below the head by now.
  const headAfter = await readChainHead();
  const around = new Map(neighbours.map((n) => [n.seq.toString(), n]));
  // A purge's checkpoint stands in for the purged event only if its signature holds.
  const anchors = new Map(purgeAnchors.flatMap((c) => {
    const judged = vouchedCheckpoint(c, head.seq);
    return "checkpoint" in judged && judged.checkpoint.reason === "purge" ? [[c.seq.toString(), c.hash] as const] : [];
  }));
  return new Map(rows.map((row) => {
    const event = revealEvent(parseStoredEvent(row));
    const seq = BigInt(row.seq);
    const previousKey = (seq - BigInt(1)).toString();
    const previousEvent = around.get(previousKey);
    const previousPurged = !previousEvent && anchors.has(previousKey);
    const previous = seq === BigInt(1) ? GENESIS_HASH : (previousEvent?.hash ?? anchors.get(previousKey) ?? null);
    const next = around.get((seq + BigInt(1)).toString());
    const hashHolds = storedHashHolds(row, head.canonicalJsonFrom);
    const linkHolds = previous !== null && previous === row.prevHash;
    const beyondHead = seq > headAfter.seq;
    const nextLinkHolds = next ? next.prevHash === row.hash : seq >= head.seq ? null : false;
    return [row.seq, { event, hashHolds, linkHolds, previousPurged, nextLinkHolds, beyondHead, intact: hashHolds && linkHolds && nextLinkHolds !== false && !beyondHead }];
  }));
}

/** Events after a sequence number, oldest first (detection in lib/incidents reads the trail this way). */
export async function auditEventsAfter(seq: bigint, limit: number): Promise<AuditEventView[]> {
  return (await readRange(seq, limit)).map((row) => revealEvent(parseStoredEvent(row)));
}

export type DistinctMetadataQuery = {
  actions: readonly string[];
  outcome?: AuditFilters["outcome"];
  since: Date;
  /** The metadata key whose values are collected. */
  key: string;
  /** When set, the value is a list in one string (such as an OAuth `scope`): each word counts. */
  separator?: string;
};

/**
 * The distinct (resourceId, value) pairs of one metadata key over matching events, aggregated in
 * PostgreSQL so that months of events are never loaded into Node. Events without a resource or
 * without the key are skipped.
 */
export async function distinctMetadataValues(q: DistinctMetadataQuery): Promise<{ resourceId: string; value: string }[]> {
  if (q.actions.length === 0) return [];
  const where = await filterClause({ from: q.since, outcome: q.outcome });
  const values = q.separator === undefined ? Prisma.sql`ARRAY[metadata->>${q.key}]` : Prisma.sql`string_to_array(metadata->>${q.key}, ${q.separator})`;
  return db().$queryRaw<{ resourceId: string; value: string }[]>`
    SELECT DISTINCT resource_id AS "resourceId", v AS value
    FROM audit_events CROSS JOIN LATERAL unnest(${values}) AS v
    WHERE action IN (${Prisma.join(q.actions)}) AND resource_id IS NOT NULL AND v <> '' ${where}
    ORDER BY 1, 2`;
}
