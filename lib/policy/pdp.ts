import "server-only";
import { performance } from "node:perf_hooks";
import { z } from "zod";
import { readConfig } from "../config";
import { COUNTRY_CODE, countryOf } from "../geo";
import { parseNetwork } from "../http/client-ip";
import { localHourAndDay } from "../util/time-zone";
import { db, type Prisma } from "../db/client";
import { cedarTokens, decide, preparse, type CedarDecision, type CedarEntity, type CedarRequest } from "./cedar";
import { CONSOLE_ACTIONS, CONSOLE_SECTIONS, DEFAULT_POLICIES, type ConsoleAction, type ConsoleSection } from "./schema";
import type { PolicyPrincipal } from "./lockout-guard";

// The decision point. The policy set in force is the newest published version (version 0, the
// built-in roles, until an admin publishes), parsed once into Cedar and reused for every decision.
// Each instance checks for a newer version at most every GATEHOUSE_POLICY_REFRESH_MS (one
// primary-key query), so a publish on one instance takes effect on all within that time.

type InForce = { version: number; preparsedId: string; text: string; checkedAt: number };
let inForce: InForce | null = null;
let refreshing: Promise<InForce> | null = null;

let maxAgeMs: number | null = null;

/**
 * The policy set in force, checked for a newer version at most every GATEHOUSE_POLICY_REFRESH_MS;
 * given `client`, read now on that connection: a change judged under a lock its transaction holds
 * is judged on the policies as they are (and, on one connection, never waits for another).
 */
export async function policySetInForce(client?: Prisma.TransactionClient): Promise<InForce> {
  if (client) return loadNewest(client);
  const maxAge = (maxAgeMs ??= readConfig().GATEHOUSE_POLICY_REFRESH_MS);
  if (inForce && Date.now() - inForce.checkedAt < maxAge) return inForce;
  refreshing ??= loadNewest().finally(() => (refreshing = null));
  return refreshing;
}

async function loadNewest(client: Prisma.TransactionClient = db()): Promise<InForce> {
  const loading = inForce;
  const newest = await client.policyVersion.findFirst({ orderBy: { version: "desc" }, select: { version: true } });
  const version = newest?.version ?? 0;
  // A publish on this instance while this read was on its way has enforced a newer version: the
  // version read here must not replace it.
  if (inForce !== loading) return inForce!;
  if (inForce?.version !== version) {
    const text = await versionText(version, client);
    if (text === null) throw new Error(`Policy version ${version} vanished while loading`);
    if (inForce !== loading) return inForce!;
    enforceVersion(version, text);
  }
  inForce = { ...inForce!, checkedAt: Date.now() };
  return inForce;
}

/** A version's policies; version 0 is the built-in roles. */
export async function versionText(version: number, client: Prisma.TransactionClient = db()): Promise<string | null> {
  if (version === 0) return DEFAULT_POLICIES;
  return (await client.policyVersion.findUnique({ where: { version }, select: { text: true } }))?.text ?? null;
}

/** Makes `text` the set in force on this instance (at start, after a publish, on a newer version). */
export function enforceVersion(version: number, text: string): void {
  const preparsedId = `gatehouse-v${version}`;
  preparse(preparsedId, text);
  inForce = { version, preparsedId, text, checkedAt: Date.now() };
}

export type Decision = CedarDecision & { version: number; micros: number };

/** A decision under the policy set in force (or under `set`, so a batch is decided under one version). */
export async function authorize(request: CedarRequest, set?: InForce): Promise<Decision> {
  const started = performance.now();
  const { version, preparsedId } = set ?? (await policySetInForce());
  return { ...decide(preparsedId, request), version, micros: Math.round((performance.now() - started) * 1000) };
}

/** Who is asking in the console, and how they signed in: what the policies may look at. */
export type ConsoleSubject = {
  userId: string;
  email: string;
  roles: readonly string[];
  groups: readonly string[];
  ip: string | null;
  /** Where the request comes from, when known better than the address's country (a service says so; power checks try several). */
  country?: string;
  risk: number | null;
  authStrength: AuthStrength;
  mfaFresh: boolean;
  deviceTrusted: boolean;
};
export type AuthStrength = "password" | "mfa" | "phishing_resistant";
export const REQUEST_VIAS = ["interactive", "refresh", "client_credentials", "service"] as const;
export type RequestVia = (typeof REQUEST_VIAS)[number];

export function authStrength(authMethods: readonly string[]): AuthStrength {
  if (authMethods.includes("passkey")) return "phishing_resistant";
  return authMethods.some((m) => m === "totp" || m === "backup_code" || m === "trusted_device") ? "mfa" : "password";
}

export function userEntity(subject: { userId: string; email: string; roles: readonly string[]; groups: readonly string[] }): CedarEntity {
  return {
    uid: { type: "Gatehouse::User", id: subject.userId },
    attrs: { email: subject.email },
    parents: [...subject.roles.map((role) => ({ type: "Gatehouse::Role", id: role })), ...subject.groups.map((group) => ({ type: "Gatehouse::Group", id: group }))],
  };
}

/**
 * An address as Cedar's ip() reads it: IPv4 in four decimal parts, an IPv4-mapped IPv6 address
 * as the IPv4 it is (what a dual-stack socket reports; Cedar would read it as IPv6, outside every
 * IPv4 range), IPv6 in its normal form (lib/http/client-ip.ts's parseNetwork, as for IP rules).
 * Anything else is refused rather than decided on.
 */
export const cedarIpSchema = z.string().max(64).transform((value, ctx) => {
  const parsed = value.includes("/") ? null : parseNetwork(value);
  if (!parsed) {
    ctx.addIssue({ code: "custom", message: "Not an IP address (IPv4 as four decimal parts, or IPv6)." });
    return z.NEVER;
  }
  return parsed.network.toString();
});

/** A country as a request may state it (the decision point, the simulator): a code, or "" for unknown. */
export const cedarCountrySchema = z.string().refine((value) => value === "" || COUNTRY_CODE.test(value), 'An ISO 3166-1 alpha-2 country code ("DE"), or "" for unknown.');

// One answer per second of the clock, since every decision asks: reading the configuration costs
// ~9 µs, formatting the date a few more. (A zone's offset is whole seconds: some zones' past ones
// are not whole minutes.) The variable itself is compared, cheaply, so a changed zone is seen at once.
let localSecond: { second: number; zoneVariable: string | undefined; value: { hour: number; dayOfWeek: number } } | null = null;
function localNow(now: Date): { hour: number; dayOfWeek: number } {
  const second = Math.floor(now.getTime() / 1000);
  const zoneVariable = process.env.GATEHOUSE_TIME_ZONE;
  if (localSecond?.second !== second || localSecond.zoneVariable !== zoneVariable) {
    localSecond = { second, zoneVariable, value: localHourAndDay(now, readConfig().GATEHOUSE_TIME_ZONE) };
  }
  return localSecond.value;
}

/**
 * The request context every Gatehouse action carries (see the schema's RequestContext). The
 * country is the IP address's, unless a service asking the decision point says which it is.
 */
export function cedarContext(subject: Omit<ConsoleSubject, "userId" | "email" | "roles" | "groups">, now = new Date(), via: RequestVia = "interactive"): CedarRequest["context"] {
  return {
    now: Math.floor(now.getTime() / 1000),
    hourUtc: now.getUTCHours(),
    dayOfWeekUtc: now.getUTCDay(),
    ...localNow(now),
    ip: { __extn: { fn: "ip", arg: subject.ip ?? "0.0.0.0" } },
    country: subject.country ?? countryOf(subject.ip),
    risk: { __extn: { fn: "decimal", arg: (subject.risk ?? 0).toFixed(4) } },
    authStrength: subject.authStrength,
    mfaFresh: subject.mfaFresh,
    deviceTrusted: subject.deviceTrusted,
    via,
  };
}

export function consoleRequest(subject: ConsoleSubject, section: ConsoleSection, action: ConsoleAction, now = new Date()): CedarRequest {
  return {
    principal: { type: "Gatehouse::User", id: subject.userId },
    action: { type: "Gatehouse::Action", id: action },
    resource: { type: "Gatehouse::Console", id: section },
    context: cedarContext(subject, now),
    entities: [userEntity(subject)],
  };
}

/** An OAuth client as the policies see it: its id, and its name as the console shows it (the schema's Client.name). */
export type PolicyClient = { id: string; name: string };

export const clientEntity = (client: PolicyClient): CedarEntity => ({ uid: { type: "Gatehouse::Client", id: client.id }, attrs: { name: client.name }, parents: [] });

/** May this client have tokens for this user (action issueToken)? Asked when an OAuth login completes, and at each refresh. */
export function tokenRequest(subject: ConsoleSubject, client: PolicyClient, now = new Date(), via: RequestVia = "interactive"): CedarRequest {
  return {
    principal: { type: "Gatehouse::User", id: subject.userId },
    action: { type: "Gatehouse::Action", id: "issueToken" },
    resource: { type: "Gatehouse::Client", id: client.id },
    context: cedarContext(subject, now, via),
    entities: [userEntity(subject), clientEntity(client)],
  };
}

/**
 * May this machine client have its own tokens (client credentials), asked from `ip`? There is no
 * user: no risk score, and the weakest authentication strength (a client secret or key).
 */
export function clientTokenRequest(client: PolicyClient, ip: string | null, now = new Date()): CedarRequest {
  const uid = { type: "Gatehouse::Client", id: client.id };
  return {
    principal: uid,
    action: { type: "Gatehouse::Action", id: "issueToken" },
    resource: uid,
    context: cedarContext({ ip, risk: null, authStrength: "password", mfaFresh: false, deviceTrusted: false }, now, "client_credentials"),
    entities: [clientEntity(client)],
  };
}

/** May this user view (or manage) this section of the console, right now, from here? */
export async function consoleAllows(subject: ConsoleSubject, section: ConsoleSection, action: ConsoleAction, now = new Date()): Promise<boolean> {
  return (await authorize(consoleRequest(subject, section, action, now))).decision === "allow";
}

// The sign-ins a power is judged under: the strongest and the weakest (a policy may ask for a
// fresh passkey, or hold something back from password-only sessions).
const STRONGEST_SIGN_IN = { authStrength: "phishing_resistant", mfaFresh: true, deviceTrusted: true } as const;
const SIGN_INS_JUDGED = [STRONGEST_SIGN_IN, { authStrength: "password", mfaFresh: false, deviceTrusted: false }] as const;


const HOUR_MS = 3_600_000;
const YEAR_MS = 365 * 24 * HOUR_MS;
const NETWORK_LITERAL = /\bip\s*\(\s*"([^"\\]+)"\s*\)/g;
const COMPARISON = String.raw`(?:==|!=|<=|>=|<|>)`;
/** Each number compared, and the values either side of it (a window's edges); `modulo` wraps hours and weekdays. */
const eitherSide = (numbers: number[]) => numbers.flatMap((n) => [n - 1, n, n + 1]);
const around = (numbers: number[], modulo: number) => eitherSide(numbers).map((n) => ((n % modulo) + modulo) % modulo);

/**
 * The moments the policies compare the time (`context.now`, epoch seconds) with, each a second on:
 * where a window they open or close starts. None when some use is not a plain comparison.
 */
export function timesCompared(text: string): Date[] {
  return [...new Set(comparedWith(text, "now").numbers ?? [])].map((seconds) => new Date((seconds + 1) * 1000));
}

/** How often the policies name `context.<field>`, and the numbers they compare it with (all of them, or null if some use is not a plain comparison). */
function comparedWith(text: string, field: string): { uses: number; numbers: number[] | null } {
  const name = String.raw`context\s*\.\s*${field}\b`;
  const uses = text.match(new RegExp(name, "g"))?.length ?? 0;
  const compared = [...text.matchAll(new RegExp(String.raw`${name}\s*${COMPARISON}\s*(-?\d+)|(-?\d+)\s*${COMPARISON}\s*${name}`, "g"))];
  return { uses, numbers: compared.length === uses ? compared.map((m) => Number(m[1] ?? m[2])) : null };
}

/**
 * The moments the local hour and weekday (context.hour, context.dayOfWeek, in GATEHOUSE_TIME_ZONE)
 * are judged at, chosen as momentsJudged chooses the UTC ones: the next moment of each local hour
 * and weekday worth trying, found by walking the coming week hour by hour in the zone (daylight
 * saving time included).
 */
function localMomentsJudged(text: string, now: Date): number[] {
  const hour = comparedWith(text, "hour");
  const day = comparedWith(text, "dayOfWeek");
  if (hour.uses === 0 && day.uses === 0) return [];
  // The values worth trying; null: any (not used, or not only in plain comparisons).
  const worth = (used: { uses: number; numbers: number[] | null }, modulo: number) => (used.uses && used.numbers ? new Set(around(used.numbers, modulo)) : null);
  const hours = worth(hour, 24);
  const days = worth(day, 7);
  const zone = readConfig().GATEHOUSE_TIME_ZONE;
  const found = new Map<string, number>();
  for (let i = 0; i < 7 * 24; i++) {
    const at = now.getTime() + i * HOUR_MS;
    const local = localHourAndDay(new Date(at), zone);
    if ((hours && !hours.has(local.hour)) || (days && !days.has(local.dayOfWeek))) continue;
    const key = `${hour.uses ? local.hour : "*"}|${day.uses ? local.dayOfWeek : "*"}`;
    if (!found.has(key)) found.set(key, at);
  }
  return [...found.values()];
}

/**
 * The moments a power is judged at. The policies see the hour, the weekday and the time (epoch
 * seconds); a decision can change only where a condition compares one of them with a number, so
 * each such number, and the values either side, stand for every other (an hour window's edges);
 * a use that is not a plain comparison, every value (24 hours, 7 days; for the time, one and ten
 * years on). Each chosen hour and weekday is the next such moment from `now`.
 */
function momentsJudged(text: string, now: Date): Date[] {
  const hour = comparedWith(text, "hourUtc");
  const day = comparedWith(text, "dayOfWeekUtc");
  const time = comparedWith(text, "now");
  const every = (count: number) => Array.from({ length: count }, (_, i) => i);
  const hours = hour.uses === 0 ? [now.getUTCHours()] : [now.getUTCHours(), ...(hour.numbers ? around(hour.numbers, 24) : every(24))];
  const days = day.uses === 0 ? null : day.numbers ? around(day.numbers, 7) : every(7);
  const next = (h: number, d: number | null) => {
    const hoursAhead = d === null ? (h - now.getUTCHours() + 24) % 24 : ((d - now.getUTCDay()) * 24 + h - now.getUTCHours() + 168) % 168;
    return now.getTime() + hoursAhead * HOUR_MS;
  };
  const moments = new Set(hours.flatMap((h) => (days ?? [null]).map((d) => next(h, d))));
  for (const at of localMomentsJudged(text, now)) moments.add(at);
  if (time.uses > 0) {
    for (const at of time.numbers ? eitherSide(time.numbers).map((seconds) => seconds * 1000) : [now.getTime() + YEAR_MS, now.getTime() + 10 * YEAR_MS]) moments.add(at);
  }
  return [...moments].map((at) => new Date(at));
}

const COUNTRY_IN_CONTEXT = /\bcontext\s*(?:\.\s*country\b|\[\s*"country"\s*\])/;
const EVERY_CODE = Array.from({ length: 26 * 26 }, (_, i) => String.fromCharCode(65 + Math.floor(i / 26), 65 + (i % 26)));

/**
 * The string literals of policy text outside comments, each with where it stands: the innermost
 * `[…]` list around it (a set it is a member of), or its own place.
 */
function stringLiterals(text: string): { value: string; site: number }[] {
  const found: { value: string; site: number }[] = [];
  const lists: number[] = [];
  for (const token of cedarTokens(text)) {
    if ("string" in token) found.push({ value: token.string, site: lists.at(-1) ?? token.at });
    else if (token.char === "[") lists.push(token.at);
    else if (token.char === "]") lists.pop();
  }
  return found;
}

/** Whether a two-letter code matches a Cedar `like` pattern (`*` any run, `\*` a star); a pattern of more than two other characters never does. */
function likeMatchesCode(pattern: string, code: string): boolean {
  const parts = pattern.split(/(?<!\\)\*/).map((part) => part.replace(/\\\*/g, "*"));
  if (parts.join("").length > 2) return false;
  return new RegExp(`^${parts.map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`).test(code);
}

/**
 * The countries a power is judged from when the policies test the country: unknown ("") and one
 * code for each way the policies can tell codes apart. Codes named in the same places (the same
 * sets, the same comparisons) and answering every `like` pattern alike are decided alike, so one of
 * them stands for all: an allow-list of 27 countries is two cases (in it, not in it), not 28.
 */
function countriesJudged(text: string): string[] {
  if (!COUNTRY_IN_CONTEXT.test(text)) return [];
  const literals = stringLiterals(text);
  const patterns = literals.filter((l) => l.value.includes("*")).map((l) => l.value);
  const sites = new Map<string, number[]>();
  for (const { value, site } of literals) if (COUNTRY_CODE.test(value)) sites.set(value, [...(sites.get(value) ?? []), site]);
  const oneOfEach = new Map<string, string>();
  for (const code of EVERY_CODE) {
    const how = `${[...new Set(sites.get(code) ?? [])].sort((a, b) => a - b).join(",")}|${patterns.map((p) => (likeMatchesCode(p, code) ? 1 : 0)).join("")}`;
    if (!oneOfEach.has(how)) oneOfEach.set(how, code);
  }
  return ["", ...oneOfEach.values()];
}

type Situation = { ip: string | null; country: string; at: Date };
// The last answer: the compliance tests and access reviews ask for every account in turn, under
// the same policies at the same moment; reading the text again for each is work for nothing.
let lastSituations: { text: string; ip: string | null; now: number; situations: Situation[] } | null = null;

/**
 * The moments, addresses and countries a power is judged at. A power a policy grants only at some
 * hours (or from some date) or from some addresses or countries is a power all the same: the
 * account has it then, or there. So the moments of momentsJudged; when the policies test the
 * address, the actor's, none at all, and those the policies name (the first address of each
 * `ip("…")`), each in its own country, and, when the policies test the country, an address no
 * policy names in each country of countriesJudged.
 */
function situationsJudged(text: string, ip: string | null, now: Date): Situation[] {
  if (lastSituations?.text === text && lastSituations.ip === ip && lastSituations.now === now.getTime()) return lastSituations.situations;
  const situations = situationsOf(text, ip, now);
  lastSituations = { text, ip, now: now.getTime(), situations };
  return situations;
}

function situationsOf(text: string, ip: string | null, now: Date): Situation[] {
  const named = /context\s*\.\s*ip\b/.test(text) ? [...text.matchAll(NETWORK_LITERAL)].flatMap(([, literal]) => parseNetwork(literal!)?.network.toString() ?? []) : [];
  // An address named or the actor's is in its own country; "an address no policy names" (none)
  // may be in any country the policies can tell apart.
  const countries = countriesJudged(text);
  const ips = [...new Set([ip, ...(named.length || countries.length ? [null, ...named] : [])])];
  const places = ips.flatMap((address) => (address === null && countries.length ? countries : [countryOf(address)]).map((country) => ({ ip: address, country })));
  return momentsJudged(text, now).flatMap((at) => places.map((place) => ({ ...place, at })));
}

/**
 * May an account holding no role but "user" and no group have console powers under the policies in
 * force: do they tell accounts apart by email (`principal.email like "*@helpdesk.example"`) or by
 * name (`Gatehouse::User::"…"`), or give a plain account powers outright? Then who holds powers is
 * found by asking of each account, not only of those with roles or groups.
 */
export async function policiesSingleOutAccounts(now = new Date()): Promise<boolean> {
  const { text } = await policySetInForce();
  if (/\bprincipal\s*(?:\.\s*email\b|\[\s*"email"\s*\])|\bUser\s*::\s*"/.test(text)) return true;
  return mayManageSomeSection({ userId: "00000000-0000-4000-8000-000000000000", email: "", roles: ["user"], groups: [] }, now);
}

/** May this account manage some part of the console, signed in the strongest way, at some moment and from some address situationsJudged tries? */
export async function mayManageSomeSection(principal: PolicyPrincipal, now = new Date()): Promise<boolean> {
  const { preparsedId, text } = await policySetInForce();
  return situationsJudged(text, null, now).some(({ ip, country, at }) =>
    CONSOLE_SECTIONS.some((section) => decide(preparsedId, consoleRequest({ ...principal, ...STRONGEST_SIGN_IN, ip, country, risk: 0 }, section, "manage", at)).decision === "allow"));
}

/**
 * What `target` may do that `actor` may not, each signed in the same way from the same place at
 * the same moment under the policies in force: in the console ("manage policies", …) and getting
 * tokens for any of `clients` ("get tokens for Payroll"), at any moment and address
 * situationsJudged tries. Empty when the target has no power the actor lacks: what a non-admin may
 * take on through a temporary password or an MFA reset.
 */
export async function consolePowersBeyond(target: PolicyPrincipal, actor: PolicyPrincipal, ip: string | null, now = new Date(), clients: readonly PolicyClient[] = [], client?: Prisma.TransactionClient): Promise<string[]> {
  const { preparsedId, text } = await policySetInForce(client);
  const beyond = new Set<string>();
  const judge = (power: string, request: (who: PolicyPrincipal) => CedarRequest) => {
    if (beyond.has(power)) return;
    const allows = (who: PolicyPrincipal) => decide(preparsedId, request(who)).decision === "allow";
    if (allows(target) && !allows(actor)) beyond.add(power);
  };
  for (const situation of situationsJudged(text, ip, now)) {
    for (const signIn of SIGN_INS_JUDGED) {
      const subject = { ...signIn, ip: situation.ip, country: situation.country, risk: 0 };
      for (const section of CONSOLE_SECTIONS) {
        for (const action of CONSOLE_ACTIONS) judge(`${action} ${section}`, (who) => consoleRequest({ ...who, ...subject }, section, action, situation.at));
      }
      for (const client of clients) judge(`get tokens for ${client.name}`, (who) => tokenRequest({ ...who, ...subject }, client, situation.at));
    }
  }
  return [...beyond];
}
