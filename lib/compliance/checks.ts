import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import { keyRing } from "../crypto";
import { logFiles, scanLogsForSecrets, SECRET_PATTERNS } from "../log";
// lib/auth's index also loads next-auth (Next.js only); this module also runs in CLI scripts.
import { listActiveUsersWithRole, listIdleActiveUsers } from "../auth/users";
import { checkTotpSecretsSealed, hasSecondFactor, secondFactorsOf } from "../mfa";
import { checkSigningKeysSealed, checkTokensHashed, clientScopesUsedSince, listActiveClients, listActiveSigningKeys, redirectUriProblem } from "../oidc";
import { searchAuditEvents } from "../audit";
import { checkChannelSecretsSealed, countPlaybooksInForce, countUnfinishedRuns, listOpenCriticalIncidents, listPlaybookVersionAttribution } from "../incidents";
import { listPolicyVersionAttribution } from "../policy";
import { listRiskSettingsVersionAttribution } from "../risk";

// Automated tests of the live system: each reads Gatehouse's own state (read-only) and says pass or
// fail with the data it looked at, which the run stores as evidence with its hash (runs.ts). Every
// fact comes from the owning domain's public functions: no check reads another domain's tables.

export type CheckOutcome = { pass: boolean; summary: string; evidence: Record<string, unknown> };
export type Check = { key: string; control: string; title: string; run(now: Date): Promise<CheckOutcome> };

const DAY = 86_400_000;
const daysAgo = (now: Date, days: number) => new Date(now.getTime() - days * DAY);
const none = (items: unknown[], ok: string, bad: string): Pick<CheckOutcome, "pass" | "summary"> =>
  items.length === 0 ? { pass: true, summary: ok } : { pass: false, summary: `${items.length} ${bad}` };

export const CHECKS: readonly Check[] = [
  {
    key: "admins_have_mfa", control: "CC6.1", title: "Every active admin has a second factor",
    async run() {
      const admins = await listActiveUsersWithRole(["admin"]);
      const factors = await secondFactorsOf(admins.map((a) => a.userId));
      const without = admins.filter((a) => !hasSecondFactor(factors.get(a.userId)!)).map((a) => a.email);
      return { ...none(without, `All ${admins.length} admins have a second factor.`, "admin(s) without a second factor"), evidence: { admins: admins.length, withoutSecondFactor: without } };
    },
  },
  {
    key: "analysts_phishing_resistant", control: "CC6.1", title: "Every active analyst has a passkey (phishing-resistant)",
    async run() {
      const analysts = await listActiveUsersWithRole(["analyst"]);
      const factors = await secondFactorsOf(analysts.map((a) => a.userId));
      const without = analysts.filter((a) => factors.get(a.userId)!.passkeys === 0).map((a) => a.email);
      return { ...none(without, `All ${analysts.length} analysts have a passkey.`, "analyst(s) without a passkey"), evidence: { analysts: analysts.length, withoutPasskey: without } };
    },
  },
  {
    key: "signing_keys_rotated", control: "CC6.1", title: "OIDC signing keys rotated within 90 days",
    async run(now) {
      const active = await listActiveSigningKeys();
      const stale = active.filter((k) => k.createdAt < daysAgo(now, 90));
      return { ...none(stale, `${active.length} active keys, newest rotation within 90 days.`, "active signing key(s) older than 90 days"), evidence: { active: active.map((k) => ({ ...k, createdAt: k.createdAt.toISOString() })) } };
    },
  },
  {
    key: "inactive_accounts_disabled", control: "CC6.2", title: "Accounts inactive for 90 days are disabled",
    async run(now) {
      const cutoff = daysAgo(now, 90);
      const stale = await listIdleActiveUsers(cutoff);
      return { ...none(stale, "No active account has been idle for 90 days.", "active account(s) idle for 90 days or more"), evidence: { cutoff: cutoff.toISOString(), idle: stale.map((u) => ({ email: u.email, lastSignInAt: u.lastSignInAt?.toISOString() ?? null })) } };
    },
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
      return { ...none(unused, `${clients.length} clients older than 90 days use every scope they hold.`, "client(s) hold scopes unused for 90 days"), evidence: { since: since.toISOString(), unused } };
    },
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
      return { ...none(bad, `${clients.length} clients: PKCE S256 required by the provider, redirect URIs https or loopback.`, "client(s) with a non-compliant redirect URI"), evidence: { clients: clients.length, pkce: { required: true, methods: ["S256"] }, bad } };
    },
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
      return {
        ...none(plaintext, `Encryption keys configured (${encryptionKeys}); ${totp.checked + keys.checked + channels.checked} stored secrets are sealed and ${tokens.checked} stored tokens hashed.`, "secret(s) stored in plaintext"),
        evidence: {
          encryptionKeys, checked: { totp: totp.checked, signingKeys: keys.checked, webhookSecrets: channels.checked, oauthTokens: tokens.checked }, plaintext,
          passwords: "argon2id hashes", backupCodes: "HMAC", oauthTokens: "SHA-256 of the value", recoveryLinks: "SHA-256 of the token",
        },
      };
    },
  },
  {
    key: "logs_free_of_secrets", control: "CC6.7", title: "No credential or token pattern in the application log",
    async run() {
      const scan = await scanLogsForSecrets(logFiles());
      const scanned = scan.files.filter((f) => f.scanned);
      const evidence = { ...scan, patterns: SECRET_PATTERNS.map((p) => p.name) };
      if (scanned.length === 0) return { pass: false, summary: "No application log to scan (see GATEHOUSE_LOG_FILE).", evidence };
      const lines = scanned.reduce((n, f) => n + f.lines, 0);
      return { ...none(scan.findings, `${lines} log lines scanned: no credential or token found.`, "log line(s) with a credential or token"), evidence };
    },
  },
  {
    key: "dependencies_pinned", control: "CC6.8", title: "Dependencies are pinned to exact versions with a lockfile",
    async run() {
      const root = process.cwd();
      const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as Record<string, Record<string, string> | undefined>;
      const all = { ...pkg.dependencies, ...pkg.devDependencies };
      const ranged = Object.entries(all).filter(([, v]) => /^[\^~><*]|\bx\b|latest/.test(v)).map(([name, v]) => `${name}@${v}`);
      let lockfile = true;
      try {
        readFileSync(path.join(root, "package-lock.json"));
      } catch {
        lockfile = false;
      }
      const problems = [...ranged, ...(lockfile ? [] : ["package-lock.json missing"])];
      return { ...none(problems, `${Object.keys(all).length} dependencies pinned exactly; lockfile present.`, "dependency problem(s)"), evidence: { dependencies: Object.keys(all).length, ranged, lockfile } };
    },
  },
  {
    key: "audit_chain_verified", control: "CC7.2", title: "The audit chain was verified in the last 24 hours",
    async run(now) {
      // Newest first: the first event is the latest verification (seq and at are decimal and ISO 8601 strings).
      const last = (await searchAuditEvents({ action: "audit.chain.verify", from: daysAgo(now, 1) })).events[0];
      const pass = last?.outcome === "success";
      return {
        pass,
        summary: !last ? "No verification in the last 24 hours." : pass ? `Verified ${last.at}.` : `The last verification (${last.at}) failed.`,
        evidence: { lastVerification: last ? { seq: last.seq, at: last.at, outcome: last.outcome, metadata: last.metadata } : null },
      };
    },
  },
  {
    key: "critical_incidents_handled", control: "CC7.3", title: "No critical incident open for more than 4 hours",
    async run(now) {
      const stale = await listOpenCriticalIncidents(new Date(now.getTime() - 4 * 3_600_000));
      return { ...none(stale, "No critical incident has waited over 4 hours.", "critical incident(s) open for over 4 hours"), evidence: { stale: stale.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })) } };
    },
  },
  {
    key: "incident_response_runs", control: "CC7.4", title: "Incident playbooks are in force and their runs finish",
    async run(now) {
      const [inForce, stuck] = await Promise.all([countPlaybooksInForce(), countUnfinishedRuns(new Date(now.getTime() - 3_600_000))]);
      const pass = inForce > 0 && stuck === 0;
      return { pass, summary: pass ? `${inForce} playbooks in force; no run stuck.` : inForce === 0 ? "No playbook is enabled." : `${stuck} playbook run(s) unfinished after an hour.`, evidence: { playbooksInForce: inForce, stuckRuns: stuck } };
    },
  },
  {
    key: "changes_attributed", control: "CC8.1", title: "Policy, playbook and risk-setting changes have an author and a comment",
    async run() {
      const [policies, playbooks, risk] = await Promise.all([listPolicyVersionAttribution(), listPlaybookVersionAttribution(), listRiskSettingsVersionAttribution()]);
      const unattributed = [
        ...policies.filter((p) => !p.authorId || !p.comment.trim()).map((p) => `policy v${p.version}`),
        ...playbooks.filter((p) => !p.authorId || !p.comment.trim()).map((p) => `playbook ${p.playbookId} v${p.version}`),
        ...risk.filter((r) => !r.authorId || !r.comment.trim()).map((r) => `risk settings v${r.version}`),
      ];
      return { ...none(unattributed, `${policies.length + playbooks.length + risk.length} changes, each with an author and a comment.`, "change(s) without an author or comment"), evidence: { checked: { policies: policies.length, playbooks: playbooks.length, riskSettings: risk.length }, unattributed } };
    },
  },
];
