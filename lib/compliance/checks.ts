import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { keyRing } from "../crypto";
import { encryptionKeyUsage } from "../sealed-columns";
import { publicUrl, readConfig } from "../config";
import { databaseTransport, type DatabaseProtection } from "../db/transport";
import { mailTransport, type MailProtection } from "../mail";
import { isLoopbackHostname } from "../util/loopback";
import { logFiles, scanLogsForSecrets, SECRET_PATTERNS } from "../log";
// lib/auth's index also loads next-auth (Next.js only); this module also runs in CLI scripts.
import { listActiveUsersWithRole, listConsoleManagers, listIdleActiveUsers } from "../auth/users";
import { checkTotpSecretsSealed, secondFactorsOf, withoutSecondFactor } from "../mfa";
import { checkSigningKeysSealed, checkTokensHashed, clientScopesUsedSince, listActiveClients, listActiveSigningKeys, redirectUriProblem } from "../oidc";
import { lastChainVerification } from "../audit";
import { checkChannelSecretsSealed, countFailedRuns, countPlaybooksInForce, countUnfinishedRuns, listOverdueCriticalIncidents, listPlaybookVersionAttribution, listRuleVersionAttribution } from "../incidents";
import { listPolicyVersionAttribution, type ConsoleSection } from "../policy";
import { listRiskSettingsVersionAttribution } from "../risk";
import { counted, formatDateTime } from "../util/format";
import { parseJsonOrNull } from "../util/json";
import { accessReviewDue, ACCESS_REVIEW_INTERVAL_DAYS } from "./access-reviews";

const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

// Automated tests of the live system: each reads Gatehouse's own state (read-only) and says pass or
// fail with the data it looked at, which the run stores as evidence with its hash (runs.ts). Every
// fact comes from the owning domain's public functions: no check reads another domain's tables.

// A failed automated response counts against CC7.4 for a week: long enough to be reviewed.
const FAILED_RUNS_WINDOW_MS = 7 * 86_400_000;

export type CheckOutcome = {
  pass: boolean;
  summary: string;
  evidence: Record<string, unknown>;
  /** Passed with nothing to look at (no analyst, no client): stored in the evidence, so it is never shown as tested. */
  nothingToCheck?: boolean;
};

/**
 * One thing a result is about (an account, a client, a key), and where the console opens it. Its
 * key names the thing itself, not how it reads (a date in the label is formatted for people): an
 * exception is approved for the findings' keys, and a finding with another key is not excepted.
 */
export type Finding = { key: string; label: string; link?: { section: ConsoleSection; href: string } };

/** A stored result's evidence as the check reads it back: the run's time and the check's data, whatever shape it had then. */
export type StoredEvidence = { at: string; data: Record<string, unknown> };

export type Check = {
  key: string;
  control: string;
  title: string;
  run(now: Date): Promise<CheckOutcome>;
  /**
   * The accounts or objects a result names, read from its evidence, for people to read and open.
   * Every way the test fails names something, if only the way itself (no log file to scan): an
   * exception is approved for what was named, so a failure naming nothing would be excepted whole.
   */
  findings?(evidence: StoredEvidence): Finding[];
  /**
   * The finding a failure of this test names that until 2026-12-06 named nothing: the one way it
   * failed with nothing to name then. An exception approved for such a failure stored no findings
   * for the test, and covers this one (exceptions.ts).
   */
  formerlyUnnamedFailure?: string;
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const daysAgo = (now: Date, days: number) => new Date(now.getTime() - days * DAY);
const none = (problems: unknown[], ok: string, [one, many]: [string, string]): Pick<CheckOutcome, "pass" | "summary"> =>
  problems.length === 0 ? { pass: true, summary: ok } : { pass: false, summary: counted(problems.length, one, many) };
const nothingToCheck = (summary: string): Pick<CheckOutcome, "pass" | "summary" | "nothingToCheck"> => ({ pass: true, summary, nothingToCheck: true });

/** SOC 2 CC6.1 as Gatehouse tests it: automatic logoff after at most this long, and passwords of at least this zxcvbn score. */
const MAX_IDLE_MINUTES = 60;
const MIN_PASSWORD_SCORE = 3;

const TRANSIT_PROTECTION: Record<DatabaseProtection | MailProtection, string> = {
  tls: "over TLS", starttls_required: "over STARTTLS (required)", this_machine: "on this machine", in_process: "in-process", none: "in clear",
};

/** SOC 2 CC7.3 as Gatehouse tests it: someone takes a critical incident up within hours, and contains it within days. */
const CRITICAL_TAKE_UP_HOURS = 4;
const CRITICAL_CONTAIN_DAYS = 3;

/** SOC 2 CC6.1 as Gatehouse tests it: an active signing key older than this is due for rotation. */
export const SIGNING_KEY_MAX_AGE_DAYS = 90;

/** The active signing keys, and those due for rotation at `now`: the CC6.1 test and the console overview read the same. */
export async function signingKeyRotation(now = new Date()) {
  const active = await listActiveSigningKeys();
  return { active, due: active.filter((k) => k.createdAt < daysAgo(now, SIGNING_KEY_MAX_AGE_DAYS)) };
}

// Reading findings back out of stored evidence: an item of another shape (older evidence) is skipped, never a crash.
const itemsOf = <T>(list: unknown, item: z.ZodType<T>): T[] => z.array(z.unknown()).catch([]).parse(list).flatMap((v) => {
  const parsed = item.safeParse(v);
  return parsed.success ? [parsed.data] : [];
});
const userLink = (userId: string) => ({ section: "users" as const, href: `/admin/users/${encodeURIComponent(userId)}` });
const clientLink = (clientId: string) => ({ section: "clients" as const, href: `/admin/clients/${encodeURIComponent(clientId)}` });
// Evidence recorded before accounts carried their id names them by email only: listed, not linked.
const account = z.union([z.object({ userId: z.string(), email: z.string() }), z.string().transform((email) => ({ userId: null, email }))]);
const accounts = (list: unknown): Finding[] => itemsOf(list, account).map((a) => ({ key: a.email, label: a.email, ...(a.userId && { link: userLink(a.userId) }) }));
/** Plain labels as findings; a label listed twice (two plaintext secrets of a kind) is two findings. */
const labels = (list: unknown): Finding[] => {
  const seen = new Map<string, number>();
  return itemsOf(list, z.string()).map((label) => {
    const n = (seen.get(label) ?? 0) + 1;
    seen.set(label, n);
    return { key: n === 1 ? label : `${label} #${n}`, label };
  });
};

// The findings of failures that have nothing else to name: the way the test failed.
const NO_REVIEW_SIGNED_OFF: Finding = { key: "no_review_signed_off", label: "No user access review has been signed off", link: { section: "compliance", href: "/admin/compliance/access-reviews" } };
const NO_LOG_FILE: Finding = { key: "no_log_file", label: "No application log to scan (GATEHOUSE_LOG_FILE)" };
const NO_RECENT_VERIFICATION: Finding = { key: "no_recent_verification", label: "No verification of the audit chain in the last 24 hours", link: { section: "audit", href: "/admin/audit" } };

export const CHECKS: readonly Check[] = [
  {
    key: "admins_have_mfa", control: "CC6.1", title: "Everyone who may manage part of the console has a second factor",
    // Not only the admin role: a policy may let an analyst or a group manage users or policies.
    async run(now) {
      const managers = await listConsoleManagers(now);
      const without = (await withoutSecondFactor(managers)).map((a) => ({ userId: a.userId, email: a.email }));
      const evidence = { managers: managers.map((m) => ({ userId: m.userId, email: m.email })), withoutSecondFactor: without };
      if (managers.length === 0) return { ...nothingToCheck("Nobody may manage any part of the console: nothing to check."), evidence };
      return { ...none(without, `Everyone who may manage part of the console (${managers.length}) has a second factor.`, ["account without a second factor", "accounts without a second factor"]), evidence };
    },
    findings: ({ data }) => accounts(data.withoutSecondFactor),
  },
  {
    key: "analysts_phishing_resistant", control: "CC6.1", title: "Every active analyst has a passkey (phishing-resistant)",
    async run() {
      const analysts = await listActiveUsersWithRole(["analyst"]);
      const factors = await secondFactorsOf(analysts.map((a) => a.userId));
      const without = analysts.filter((a) => factors.get(a.userId)!.passkeys === 0).map((a) => ({ userId: a.userId, email: a.email }));
      const evidence = { analysts: analysts.length, withoutPasskey: without };
      if (analysts.length === 0) return { ...nothingToCheck("No active analyst: nothing to check."), evidence };
      return { ...none(without, `Every active analyst (${analysts.length}) has a passkey.`, ["analyst without a passkey", "analysts without a passkey"]), evidence };
    },
    findings: ({ data }) => accounts(data.withoutPasskey),
  },
  {
    key: "sessions_and_passwords", control: "CC6.1", title: `Idle sessions end within ${MAX_IDLE_MINUTES} minutes and new passwords are screened`,
    async run() {
      const config = readConfig();
      const idleMinutes = config.GATEHOUSE_SESSION_IDLE_MINUTES;
      const passwordMinScore = config.GATEHOUSE_PASSWORD_MIN_SCORE;
      const breachCheck = config.GATEHOUSE_PWNED_PASSWORDS_URL !== undefined;
      const problems = [
        ...(idleMinutes === 0 ? ["Sessions never end for inactivity (GATEHOUSE_SESSION_IDLE_MINUTES=0)"] : []),
        ...(idleMinutes > MAX_IDLE_MINUTES ? [`Idle sessions end only after ${idleMinutes} minutes (GATEHOUSE_SESSION_IDLE_MINUTES)`] : []),
        ...(passwordMinScore < MIN_PASSWORD_SCORE ? [`New passwords need only a zxcvbn score of ${passwordMinScore} (GATEHOUSE_PASSWORD_MIN_SCORE)`] : []),
      ];
      const ok = `Sessions end after ${idleMinutes} idle minutes (${config.GATEHOUSE_SESSION_HOURS} hours at most); new passwords need a zxcvbn score of ${passwordMinScore}${breachCheck ? " and are checked against breached passwords" : ""}.`;
      // The settings of the instance that ran the check: every instance should run with the same.
      return { ...none(problems, ok, ["setting too weak", "settings too weak"]), evidence: { sessionHours: config.GATEHOUSE_SESSION_HOURS, idleMinutes, passwordMinScore, breachCheck, problems } };
    },
    // Keyed by the setting: an exception for a weak setting still covers it made less weak (120 idle minutes, then 90).
    findings: ({ data }) => labels(data.problems).map((f) => ({ ...f, key: /GATEHOUSE_[A-Z_]+/.exec(f.label)?.[0] ?? f.key })),
  },
  {
    key: "signing_keys_rotated", control: "CC6.1", title: `OIDC signing keys rotated within ${SIGNING_KEY_MAX_AGE_DAYS} days`,
    async run(now) {
      const { active, due } = await signingKeyRotation(now);
      const evidence = { active: active.map((k) => ({ ...k, createdAt: k.createdAt.toISOString() })) };
      if (active.length === 0) return { ...nothingToCheck("No active signing key: nothing to check."), evidence };
      const days = SIGNING_KEY_MAX_AGE_DAYS;
      return { ...none(due, `${counted(active.length, "active key", "active keys")}, each rotated within ${days} days.`, [`active signing key older than ${days} days`, `active signing keys older than ${days} days`]), evidence };
    },
    findings: ({ at, data }) =>
      itemsOf(data.active, z.object({ kid: z.string(), alg: z.string(), createdAt: z.iso.datetime() }))
        .filter((k) => new Date(k.createdAt) < daysAgo(new Date(at), SIGNING_KEY_MAX_AGE_DAYS))
        .map((k) => ({ key: k.kid, label: `${k.alg} key ${k.kid.slice(0, 12)}…, created ${formatDateTime(new Date(k.createdAt))}`, link: { section: "keys", href: "/admin/keys" } })),
  },
  {
    key: "inactive_accounts_disabled", control: "CC6.2", title: "Accounts inactive for 90 days are disabled",
    async run(now) {
      const cutoff = daysAgo(now, 90);
      const stale = await listIdleActiveUsers(cutoff);
      return {
        ...none(stale, "No active account has been idle for 90 days.", ["active account idle for 90 days or more", "active accounts idle for 90 days or more"]),
        evidence: { cutoff: cutoff.toISOString(), idle: stale.map((u) => ({ userId: u.id, email: u.email, lastSignInAt: u.lastSignInAt?.toISOString() ?? null })) },
      };
    },
    findings: ({ data }) =>
      itemsOf(data.idle, z.object({ userId: z.string().optional(), email: z.string(), lastSignInAt: z.iso.datetime().nullable() })).map((u) => ({
        key: u.email,
        label: `${u.email} (${u.lastSignInAt ? `last signed in ${formatDateTime(new Date(u.lastSignInAt))}` : "never signed in"})`,
        // Evidence recorded before it carried the id names the account by email: the link searches for it.
        link: u.userId ? userLink(u.userId) : { section: "users", href: `/admin/users?q=${encodeURIComponent(u.email)}` },
      })),
  },
  {
    key: "client_scopes_used", control: "CC6.3", title: "No client holds scopes it has not used in 90 days",
    async run(now) {
      const since = daysAgo(now, 90);
      const [clients, used] = await Promise.all([listActiveClients().then((all) => all.filter((c) => c.createdAt < since)), clientScopesUsedSince(since)]);
      const unused = clients.flatMap((c) => {
        const idle = c.scopes.filter((s) => s !== "openid" && !used.get(c.id)?.has(s));
        return idle.length ? [{ client: c.name, clientId: c.id, unusedScopes: idle }] : [];
      });
      const evidence = { since: since.toISOString(), unused };
      if (clients.length === 0) return { ...nothingToCheck("No client is older than 90 days: nothing to check."), evidence };
      return { ...none(unused, `${counted(clients.length, "client", "clients")} older than 90 days, each using every scope it holds.`, ["client holds scopes unused for 90 days", "clients hold scopes unused for 90 days"]), evidence };
    },
    // One finding per scope: a client that comes to use one of them narrows what an exception covers, not breaks it.
    findings: ({ data }) =>
      itemsOf(data.unused, z.object({ client: z.string(), clientId: z.string(), unusedScopes: z.array(z.string()) })).flatMap((c) =>
        c.unusedScopes.map((scope) => ({ key: `${c.clientId} ${scope}`, label: `${c.client}: ${scope} unused`, link: clientLink(c.clientId) }))),
  },
  {
    key: "access_review_current", control: "CC6.3", title: `A user access review was signed off in the last ${ACCESS_REVIEW_INTERVAL_DAYS} days`,
    async run(now) {
      const { last, dueBy } = await accessReviewDue();
      const evidence = { last: last && { ...last, startedAt: last.startedAt.toISOString(), completedAt: last.completedAt.toISOString() }, dueBy: dueBy?.toISOString() ?? null };
      const due = dueBy ? formatDateTime(dueBy) : null;
      if (!dueBy) return { ...nothingToCheck("No account yet: nothing to review."), evidence };
      if (!last) {
        return dueBy > now
          ? { ...nothingToCheck(`No review yet: the first is due by ${due}.`), evidence }
          : { pass: false, summary: `No user access review has been signed off (the first was due by ${due}).`, evidence };
      }
      const signed = `(access as of ${formatDateTime(last.startedAt)}) signed off ${formatDateTime(last.completedAt)}${last.completedBy ? ` by ${last.completedBy}` : ""}`;
      return dueBy > now
        ? { pass: true, summary: `Last review ${signed} (${counted(last.accounts, "account", "accounts")}); the next is due by ${due}.`, evidence }
        : { pass: false, summary: `The last review ${signed}: the next was due by ${due}.`, evidence };
    },
    findings: ({ at, data }) => {
      // No review ever signed off fails once the first is due (before, there is nothing to check).
      const dueBy = z.iso.datetime().nullable().catch(null).parse(data.dueBy ?? null);
      if (data.last == null) return dueBy && new Date(dueBy) <= new Date(at) ? [NO_REVIEW_SIGNED_OFF] : [];
      return itemsOf([data.last], z.object({ id: z.string(), completedAt: z.iso.datetime() })).map((r) => ({
        key: r.id,
        label: `Review signed off ${formatDateTime(new Date(r.completedAt))}`,
        link: { section: "compliance", href: `/admin/compliance/access-reviews/${encodeURIComponent(r.id)}` },
      }));
    },
    formerlyUnnamedFailure: NO_REVIEW_SIGNED_OFF.key,
  },
  {
    key: "clients_oauth21", control: "CC6.6", title: "Every client uses PKCE S256 and only https or loopback redirect URIs",
    async run() {
      const clients = await listActiveClients();
      const bad = clients.flatMap((c) => {
        const problems = c.redirectUris.flatMap((uri) => (redirectUriProblem(uri) ? [{ uri, problem: redirectUriProblem(uri) }] : []));
        return problems.length ? [{ client: c.name, clientId: c.id, problems }] : [];
      });
      // PKCE is the provider's setting for every client (lib/oidc/provider.ts: required, S256 only).
      const evidence = { clients: clients.length, pkce: { required: true, methods: ["S256"] }, bad };
      if (clients.length === 0) return { ...nothingToCheck("No active client: nothing to check."), evidence };
      return { ...none(bad, `${counted(clients.length, "client", "clients")}: PKCE S256 required by the provider, redirect URIs https or loopback.`, ["client with a non-compliant redirect URI", "clients with a non-compliant redirect URI"]), evidence };
    },
    // One finding per redirect URI, as for unused scopes.
    findings: ({ data }) =>
      itemsOf(data.bad, z.object({ client: z.string(), clientId: z.string(), problems: z.array(z.object({ uri: z.string(), problem: z.string().nullable() })) })).flatMap((c) =>
        c.problems.map((p) => ({ key: `${c.clientId} ${p.uri}`, label: `${c.client}: ${p.uri} (${p.problem})`, link: clientLink(c.clientId) }))),
  },
  {
    key: "secrets_encrypted", control: "CC6.7", title: "Secrets are encrypted at rest",
    async run() {
      const encryptionKeys = keyRing().encryption.byId.size;
      // Each domain attests its own secrets: how many it checked, how many look plaintext.
      const [totp, keys, channels, tokens] = await Promise.all([checkTotpSecretsSealed(), checkSigningKeysSealed(), checkChannelSecretsSealed(), checkTokensHashed()]);
      const plaintext = [
        ...Array<string>(totp.plaintext).fill("totp secret"),
        ...Array<string>(keys.plaintext).fill("signing key"),
        ...Array<string>(channels.plaintext).fill("webhook secret"),
        ...Array<string>(tokens.plaintext).fill("oauth token or code"),
      ];
      const sealed = totp.checked + keys.checked + channels.checked;
      return {
        ...none(
          plaintext,
          `${counted(encryptionKeys, "encryption key", "encryption keys")} configured; ${counted(sealed, "stored secret", "stored secrets")} sealed and ${counted(tokens.checked, "stored token", "stored tokens")} hashed.`,
          ["secret stored in plaintext", "secrets stored in plaintext"],
        ),
        evidence: {
          encryptionKeys, checked: { totp: totp.checked, signingKeys: keys.checked, webhookSecrets: channels.checked, oauthTokens: tokens.checked }, plaintext,
          passwords: "argon2id hashes", backupCodes: "HMAC", oauthTokens: "SHA-256 of the value", recoveryLinks: "SHA-256 of the token", emailVerificationLinks: "SHA-256 of the token",
        },
      };
    },
    findings: ({ data }) => labels(data.plaintext),
  },
  {
    key: "encryption_keys_cover_data", control: "CC6.7", title: "Every sealed value opens with a configured encryption key",
    async run() {
      // A key taken out of GATEHOUSE_ENCRYPTION_KEYS while values still needed it (npm run keys:reseal
      // says when one may leave): those secrets, or those audit fields, can no longer be read.
      const usage = await encryptionKeyUsage();
      const missing = usage.filter((key) => !key.configured).map((key) => ({ keyId: key.keyId, secrets: key.secrets, audit: key.audit }));
      const current = usage.find((key) => key.current)!;
      const evidence = { keys: usage, currentKey: current.keyId };
      return {
        ...none(missing, `${counted(usage.filter((k) => k.configured).length, "encryption key", "encryption keys")} configured; every sealed value names one of them (${counted(current.secrets, "secret", "secrets")} under the current key ${current.keyId}).`, ["key that sealed values is not configured", "keys that sealed values are not configured"]),
        evidence,
      };
    },
    findings: ({ data }) =>
      itemsOf(data.keys, z.object({ keyId: z.string(), configured: z.boolean(), secrets: z.number(), audit: z.number() })).filter((k) => !k.configured).map((k) => ({
        key: k.keyId, label: `Key ${k.keyId} is not configured, yet seals ${counted(k.secrets, "secret", "secrets")} and ${counted(k.audit, "audit value", "audit values")}`,
      })),
  },
  {
    key: "data_in_transit_encrypted", control: "CC6.7", title: "Data that crosses a network is encrypted in transit",
    async run() {
      // Each link Gatehouse's data takes off this machine: users' browsers and apps (the public
      // address: https, or loopback only), PostgreSQL (as the server reports this connection) and
      // the mail relay. Webhooks and back-channel logout URIs need https (or loopback) to be saved.
      const site = publicUrl();
      const mail = mailTransport();
      const links: { link: string; host: string; protection: keyof typeof TRANSIT_PROTECTION }[] = [
        { link: "public address", host: site.host, protection: site.protocol === "https:" ? "tls" : isLoopbackHostname(site.hostname) ? "this_machine" : "none" },
        { link: "database", ...(await databaseTransport()) },
        ...(mail ? [{ link: "mail relay", ...mail }] : []),
      ];
      const clear = links.filter((l) => l.protection === "none");
      const described = links.map((l) => `${l.link} ${TRANSIT_PROTECTION[l.protection]}`).join(", ");
      return { ...none(clear, `${described}.`, ["link that may carry data in clear", "links that may carry data in clear"]), evidence: { links, mail: mail ? "configured" : "not configured" } };
    },
    findings: ({ data }) =>
      itemsOf(data.links, z.object({ link: z.string(), host: z.string(), protection: z.string() })).filter((l) => l.protection === "none").map((l) => ({
        key: l.link, label: `The ${l.link} (${l.host}) is reached without TLS`,
      })),
  },
  {
    key: "logs_free_of_secrets", control: "CC6.7", title: "No credential or token pattern in the application log",
    async run() {
      const scan = await scanLogsForSecrets(logFiles());
      const scanned = scan.files.filter((f) => f.scanned);
      const evidence = { ...scan, patterns: SECRET_PATTERNS.map((p) => p.name) };
      if (scanned.length === 0) return { pass: false, summary: "No application log to scan (see GATEHOUSE_LOG_FILE).", evidence };
      const lines = scanned.reduce((n, f) => n + f.lines, 0);
      if (lines === 0) return { ...nothingToCheck("The application log is empty: nothing to scan."), evidence };
      return { ...none(scan.findings, `${counted(lines, "log line", "log lines")} scanned: no credential or token found.`, ["log line with a credential or token", "log lines with a credential or token"]), evidence };
    },
    // The evidence names the file, line and kind, never the secret.
    findings: ({ data }) => [
      ...(itemsOf(data.files, z.object({ scanned: z.boolean() })).some((f) => f.scanned) ? [] : [NO_LOG_FILE]),
      ...itemsOf(data.findings, z.object({ file: z.string(), line: z.number(), kind: z.string() })).map((f) => ({ key: `${f.file}:${f.line}: ${f.kind}`, label: `${path.basename(f.file)} line ${f.line}: ${f.kind}` })),
    ],
    formerlyUnnamedFailure: NO_LOG_FILE.key,
  },
  {
    key: "dependencies_pinned", control: "CC6.8", title: "Dependencies are pinned to exact versions with a lockfile",
    async run() {
      const root = process.cwd();
      const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
      const all = { ...pkg.dependencies, ...pkg.devDependencies };
      // Exact versions only: a range, a tag ("latest", "next"), "2", a git or workspace reference all move.
      const ranged = Object.entries(all).filter(([, v]) => !EXACT_VERSION.test(v)).map(([name, v]) => `${name}@${v}`);
      let lockfile = true;
      let locked: Record<string, string> = {};
      try {
        const lock = JSON.parse(readFileSync(path.join(root, "package-lock.json"), "utf8")) as { packages?: Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }> };
        locked = { ...lock.packages?.[""]?.dependencies, ...lock.packages?.[""]?.devDependencies };
      } catch {
        lockfile = false;
      }
      // A lockfile written for other versions than package.json names pins nothing.
      const unlocked = lockfile ? Object.entries(all).filter(([name, v]) => locked[name] !== v).map(([name, v]) => `${name}@${v} not in package-lock.json`) : [];
      const problems = [...ranged, ...unlocked, ...(lockfile ? [] : ["package-lock.json missing"])];
      return { ...none(problems, `${counted(Object.keys(all).length, "dependency", "dependencies")} pinned exactly; lockfile present.`, ["dependency problem", "dependency problems"]), evidence: { dependencies: Object.keys(all).length, ranged, unlocked, lockfile } };
    },
    findings: ({ data }) => [...labels(data.ranged), ...labels(data.unlocked), ...(data.lockfile === false ? [{ key: "package-lock.json missing", label: "package-lock.json missing" }] : [])],
  },
  {
    key: "audit_chain_verified", control: "CC7.2", title: "The audit chain was verified in the last 24 hours",
    async run(now) {
      const latest = await lastChainVerification();
      const last = latest && new Date(latest.at) >= daysAgo(now, 1) ? latest : null;
      const pass = last?.outcome === "success";
      const when = last && formatDateTime(new Date(last.at));
      return {
        pass,
        summary: !last ? "No verification in the last 24 hours." : pass ? `Verified ${when}.` : `The last verification (${when}) failed.`,
        evidence: { lastVerification: last },
      };
    },
    // Two ways to fail, each its own finding: an exception approved while the instance was down (no
    // verification) does not cover a verification that later finds the chain broken.
    findings: ({ data }) => {
      if (data.lastVerification == null) return [NO_RECENT_VERIFICATION];
      const last = z.object({ seq: z.string(), outcome: z.string() }).safeParse(data.lastVerification);
      return last.success && last.data.outcome !== "success" ? [{ key: `audit event ${last.data.seq}`, label: `Audit event #${last.data.seq}: the failed verification`, link: { section: "audit", href: `/admin/audit/${last.data.seq}` } }] : [];
    },
    formerlyUnnamedFailure: NO_RECENT_VERIFICATION.key,
  },
  {
    key: "critical_incidents_handled", control: "CC7.3",
    title: `Critical incidents are taken up within ${CRITICAL_TAKE_UP_HOURS} hours and contained within ${CRITICAL_CONTAIN_DAYS} days`,
    async run(now) {
      const overdue = await listOverdueCriticalIncidents(now, { takeUpMs: CRITICAL_TAKE_UP_HOURS * HOUR, containMs: CRITICAL_CONTAIN_DAYS * DAY });
      const notTakenUp = overdue.filter((i) => i.overdue === "take_up").length;
      const notContained = overdue.length - notTakenUp;
      const problems = [
        ...(notTakenUp ? [`${counted(notTakenUp, "critical incident", "critical incidents")} not taken up within ${CRITICAL_TAKE_UP_HOURS} hours`] : []),
        ...(notContained ? [`${counted(notContained, "critical incident", "critical incidents")} not contained within ${CRITICAL_CONTAIN_DAYS} days`] : []),
      ];
      return {
        pass: overdue.length === 0,
        summary: overdue.length === 0 ? "Every critical incident was taken up and contained in time." : problems.join("; "),
        evidence: { overdue: overdue.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })) },
      };
    },
    // Results stored before 2026-12-05 list `stale` incidents (still "open" after 4 hours), some without an id.
    findings: ({ data }) =>
      [
        ...itemsOf(data.overdue, z.object({ id: z.string(), number: z.number(), title: z.string(), createdAt: z.iso.datetime(), overdue: z.enum(["take_up", "containment"]) })),
        ...itemsOf(data.stale, z.object({ id: z.string().optional(), number: z.number(), title: z.string(), createdAt: z.iso.datetime() })),
      ].map((i) => ({
        key: `INC-${i.number}${"overdue" in i ? `: ${i.overdue}` : ""}`,
        label: `INC-${i.number} ${i.title}, opened ${formatDateTime(new Date(i.createdAt))}${"overdue" in i ? (i.overdue === "take_up" ? ": not taken up in time" : ": not contained in time") : ""}`,
        link: { section: "incidents", href: i.id ? `/admin/incidents/${encodeURIComponent(i.id)}` : `/admin/incidents?q=INC-${i.number}` },
      })),
  },
  {
    key: "incident_response_runs", control: "CC7.4", title: "Incident playbooks are in force and their runs succeed",
    async run(now) {
      const [inForce, stuck, failed] = await Promise.all([
        countPlaybooksInForce(), countUnfinishedRuns(new Date(now.getTime() - HOUR)), countFailedRuns(new Date(now.getTime() - FAILED_RUNS_WINDOW_MS)),
      ]);
      const pass = inForce > 0 && stuck === 0 && failed === 0;
      const problems = [
        ...(stuck ? [`${counted(stuck, "playbook run", "playbook runs")} unfinished after an hour`] : []),
        ...(failed ? [`${counted(failed, "playbook run", "playbook runs")} failed in the last 7 days`] : []),
      ];
      const summary = pass ? `${counted(inForce, "playbook", "playbooks")} in force; no run stuck or failed.` : inForce === 0 ? "No playbook is enabled." : `${problems.join("; ")}.`;
      return { pass, summary, evidence: { playbooksInForce: inForce, stuckRuns: stuck, failedRunsLast7Days: failed } };
    },
    // One finding for each way the test fails, keyed by the way: an exception approved for failed
    // runs does not cover playbooks all switched off, nor runs stuck.
    findings: ({ data }) => {
      // A result whose check could not run stored no counts: it names nothing.
      const count = (value: unknown) => z.number().int().nullable().catch(null).parse(value ?? null);
      const [inForce, stuck, failed] = [count(data.playbooksInForce), count(data.stuckRuns), count(data.failedRunsLast7Days)];
      const link = { section: "incidents" as const, href: "/admin/incidents/playbooks" };
      return [
        ...(inForce === 0 ? [{ key: "no_playbook", label: "No playbook is enabled", link }] : []),
        ...(stuck ? [{ key: "stuck_runs", label: `${counted(stuck, "playbook run", "playbook runs")} unfinished after an hour`, link }] : []),
        ...(failed ? [{ key: "failed_runs", label: `${counted(failed, "playbook run", "playbook runs")} failed in the last 7 days`, link }] : []),
      ];
    },
  },
  {
    key: "changes_attributed", control: "CC8.1", title: "Policy, playbook, risk-setting and detection-rule changes have an author and a comment",
    async run() {
      const [policies, playbooks, risk, rules] = await Promise.all([listPolicyVersionAttribution(), listPlaybookVersionAttribution(), listRiskSettingsVersionAttribution(), listRuleVersionAttribution()]);
      const unattributed = [
        ...policies.filter((p) => !p.authorId || !p.comment.trim()).map((p) => `policy v${p.version}`),
        ...playbooks.filter((p) => !p.authorId || !p.comment.trim()).map((p) => `playbook ${p.playbookId} v${p.version}`),
        ...risk.filter((r) => !r.authorId || !r.comment.trim()).map((r) => `risk settings v${r.version}`),
        ...rules.filter((r) => !r.authorId || !r.comment.trim()).map((r) => `detection rule ${r.rule} v${r.version}`),
      ];
      const changes = policies.length + playbooks.length + risk.length + rules.length;
      const evidence = { checked: { policies: policies.length, playbooks: playbooks.length, riskSettings: risk.length, detectionRules: rules.length }, unattributed };
      if (changes === 0) return { ...nothingToCheck("No policy, playbook, risk-setting or detection-rule change yet: nothing to check."), evidence };
      return { ...none(unattributed, `${counted(changes, "change", "changes")}, each with an author and a comment.`, ["change without an author or comment", "changes without an author or comment"]), evidence };
    },
    findings: ({ data }) => labels(data.unattributed),
  },
];

/** The findings a stored result names, from its evidence as stored (canonical JSON of { check, control, at, data, … }: runs.ts). */
export function storedFindings(result: { check: string; status: string; evidence: string; at: Date }): Finding[] {
  // A check that could not run names that: an exception approved for it then covers no real
  // finding later (it would cover the whole test, had it named nothing).
  if (result.status === "error") return [{ key: CHECK_ERROR, label: "The check could not run" }];
  const stored = parseJsonOrNull(result.evidence) as { at?: unknown; data?: unknown } | null;
  const data = stored?.data && typeof stored.data === "object" ? (stored.data as Record<string, unknown>) : {};
  const named = CHECKS.find((c) => c.key === result.check)?.findings?.({ at: String(stored?.at ?? result.at.toISOString()), data }) ?? [];
  // Every failure names something (above); evidence of a shape no check reads names its failure
  // as such, so an exception approved for it covers no finding a later failure names.
  return result.status !== "pass" && named.length === 0 ? [{ key: UNNAMED_FAILURE, label: "The test failed; its evidence names nothing more" }] : named;
}

const CHECK_ERROR = "check_error";
const UNNAMED_FAILURE = "unnamed_failure";

/** What an exception approved while `check` failed naming nothing covers (see Check.formerlyUnnamedFailure). */
export const formerlyUnnamedFailure = (check: string) => CHECKS.find((c) => c.key === check)?.formerlyUnnamedFailure;

/** A check's title by its key (a key no longer in the catalog reads as itself). */
export const checkTitle = (key: string) => CHECKS.find((c) => c.key === key)?.title ?? key;
