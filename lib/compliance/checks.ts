import "server-only";
import { readFileSync } from "node:fs";
import path from "node:path";
import { db } from "../db/client";
import { keyRing } from "../crypto";
import { redirectUriProblem } from "../oidc/clients";
import { logFiles, scanLogsForSecrets, SECRET_PATTERNS } from "../log";

// Automated tests of the live system: each reads Gatehouse's own state (read-only) and says pass or
// fail with the data it looked at, which the run stores as evidence with its hash (runs.ts).

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
      const admins = await db().user.findMany({
        where: { disabledAt: null, roles: { has: "admin" } },
        select: { email: true, totp: { select: { activatedAt: true } }, _count: { select: { passkeys: true } } },
      });
      const without = admins.filter((a) => !a.totp?.activatedAt && a._count.passkeys === 0).map((a) => a.email);
      return { ...none(without, `All ${admins.length} admins have a second factor.`, "admin(s) without a second factor"), evidence: { admins: admins.length, withoutSecondFactor: without } };
    },
  },
  {
    key: "analysts_phishing_resistant", control: "CC6.1", title: "Every active analyst has a passkey (phishing-resistant)",
    async run() {
      const analysts = await db().user.findMany({ where: { disabledAt: null, roles: { has: "analyst" } }, select: { email: true, _count: { select: { passkeys: true } } } });
      const without = analysts.filter((a) => a._count.passkeys === 0).map((a) => a.email);
      return { ...none(without, `All ${analysts.length} analysts have a passkey.`, "analyst(s) without a passkey"), evidence: { analysts: analysts.length, withoutPasskey: without } };
    },
  },
  {
    key: "signing_keys_rotated", control: "CC6.1", title: "OIDC signing keys rotated within 90 days",
    async run(now) {
      const active = await db().oidcSigningKey.findMany({ where: { state: "active" }, select: { kid: true, alg: true, createdAt: true } });
      const stale = active.filter((k) => k.createdAt < daysAgo(now, 90));
      return { ...none(stale, `${active.length} active keys, newest rotation within 90 days.`, "active signing key(s) older than 90 days"), evidence: { active: active.map((k) => ({ ...k, createdAt: k.createdAt.toISOString() })) } };
    },
  },
  {
    key: "inactive_accounts_disabled", control: "CC6.2", title: "Accounts inactive for 90 days are disabled",
    async run(now) {
      const cutoff = daysAgo(now, 90);
      const stale = await db().user.findMany({
        where: { disabledAt: null, OR: [{ lastSignInAt: { lt: cutoff } }, { lastSignInAt: null, createdAt: { lt: cutoff } }] },
        select: { email: true, lastSignInAt: true, createdAt: true },
      });
      return { ...none(stale, "No active account has been idle for 90 days.", "active account(s) idle for 90 days or more"), evidence: { cutoff: cutoff.toISOString(), idle: stale.map((u) => ({ email: u.email, lastSignInAt: u.lastSignInAt?.toISOString() ?? null })) } };
    },
  },
  {
    key: "client_scopes_used", control: "CC6.3", title: "No client holds scopes it has not used in 90 days",
    async run(now) {
      const since = daysAgo(now, 90);
      const clients = await db().oAuthClient.findMany({ where: { disabledAt: null, createdAt: { lt: since } }, select: { id: true, name: true, metadata: true } });
      const consents = await db().oAuthConsent.findMany({ where: { updatedAt: { gte: since } }, select: { clientId: true, scopes: true } });
      const authorizations = await db().auditEvent.findMany({ where: { action: { in: ["oauth.authorize", "oauth.token.issue"] }, outcome: "success", at: { gte: since } }, select: { resourceId: true, metadata: true } });
      const used = new Map<string, Set<string>>();
      const markUsed = (clientId: string | null, scopes: string[]) => clientId && scopes.forEach((s) => (used.get(clientId) ?? used.set(clientId, new Set()).get(clientId)!).add(s));
      for (const c of consents) markUsed(c.clientId, c.scopes);
      for (const e of authorizations) markUsed(e.resourceId, String((e.metadata as Record<string, unknown>).scope ?? "").split(" ").filter(Boolean));
      const unused = clients.flatMap((c) => {
        const m = c.metadata as Record<string, unknown>;
        const held = [...String(m.scope ?? "").split(" ").filter(Boolean), ...((m.gatehouse_api_scopes as string[] | undefined) ?? [])];
        const idle = held.filter((s) => s !== "openid" && !used.get(c.id)?.has(s));
        return idle.length ? [{ client: c.name, clientId: c.id, unusedScopes: idle }] : [];
      });
      return { ...none(unused, `${clients.length} clients older than 90 days use every scope they hold.`, "client(s) hold scopes unused for 90 days"), evidence: { since: since.toISOString(), unused } };
    },
  },
  {
    key: "clients_oauth21", control: "CC6.6", title: "Every client uses PKCE S256 and only https or loopback redirect URIs",
    async run() {
      const clients = await db().oAuthClient.findMany({ where: { disabledAt: null }, select: { id: true, name: true, metadata: true } });
      const bad = clients.flatMap((c) => {
        const uris = ((c.metadata as Record<string, unknown>).redirect_uris as string[] | undefined) ?? [];
        const problems = uris.flatMap((uri) => (redirectUriProblem(uri) ? [{ uri, problem: redirectUriProblem(uri) }] : []));
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
      const [totp, keys, channels] = await Promise.all([
        db().totpFactor.findMany({ select: { secretCipher: true }, take: 1000 }),
        db().oidcSigningKey.findMany({ select: { privateJwkCipher: true } }),
        db().notificationChannel.findMany({ where: { secretCipher: { not: null } }, select: { secretCipher: true } }),
      ]);
      // A plaintext TOTP secret is base32; a plaintext private JWK is JSON: neither looks like our sealed form.
      const plaintext = [
        ...totp.filter((t) => /^[A-Z2-7]+=*$/.test(t.secretCipher)).map(() => "totp secret"),
        ...keys.filter((k) => k.privateJwkCipher.trimStart().startsWith("{")).map(() => "signing key"),
        ...channels.filter((c) => c.secretCipher!.startsWith("whsec_")).map(() => "webhook secret"),
      ];
      return {
        ...none(plaintext, `Encryption keys configured (${encryptionKeys}); ${totp.length + keys.length + channels.length} stored secrets are sealed.`, "secret(s) stored in plaintext"),
        evidence: { encryptionKeys, checked: { totp: totp.length, signingKeys: keys.length, webhookSecrets: channels.length }, plaintext, passwords: "argon2id hashes", backupCodes: "HMAC" },
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
      const last = await db().auditEvent.findFirst({ where: { action: "audit.chain.verify", at: { gte: daysAgo(now, 1) } }, orderBy: { seq: "desc" }, select: { seq: true, at: true, outcome: true, metadata: true } });
      const pass = last?.outcome === "success";
      return {
        pass,
        summary: !last ? "No verification in the last 24 hours." : pass ? `Verified ${last.at.toISOString()}.` : `The last verification (${last.at.toISOString()}) failed.`,
        evidence: { lastVerification: last ? { seq: last.seq.toString(), at: last.at.toISOString(), outcome: last.outcome, metadata: last.metadata } : null },
      };
    },
  },
  {
    key: "critical_incidents_handled", control: "CC7.3", title: "No critical incident open for more than 4 hours",
    async run(now) {
      const stale = await db().incident.findMany({ where: { severity: "critical", status: "open", createdAt: { lt: new Date(now.getTime() - 4 * 3_600_000) } }, select: { number: true, title: true, createdAt: true } });
      return { ...none(stale, "No critical incident has waited over 4 hours.", "critical incident(s) open for over 4 hours"), evidence: { stale: stale.map((i) => ({ ...i, createdAt: i.createdAt.toISOString() })) } };
    },
  },
  {
    key: "incident_response_runs", control: "CC7.4", title: "Incident playbooks are in force and their runs finish",
    async run(now) {
      const [enabled, stuck] = await Promise.all([
        db().playbookVersion.findMany({ distinct: ["playbookId"], orderBy: [{ playbookId: "asc" }, { version: "desc" }], select: { playbookId: true, enabled: true } }),
        db().playbookRun.count({ where: { status: { in: ["queued", "running"] }, createdAt: { lt: new Date(now.getTime() - 3_600_000) } } }),
      ]);
      const inForce = enabled.filter((p) => p.enabled).length;
      const pass = inForce > 0 && stuck === 0;
      return { pass, summary: pass ? `${inForce} playbooks in force; no run stuck.` : inForce === 0 ? "No playbook is enabled." : `${stuck} playbook run(s) unfinished after an hour.`, evidence: { playbooksInForce: inForce, stuckRuns: stuck } };
    },
  },
  {
    key: "changes_attributed", control: "CC8.1", title: "Policy, playbook and risk-setting changes have an author and a comment",
    async run() {
      const [policies, playbooks, risk] = await Promise.all([
        db().policyVersion.findMany({ select: { version: true, authorId: true, comment: true } }),
        db().playbookVersion.findMany({ where: { comment: { not: "Built in." } }, select: { playbookId: true, version: true, authorId: true, comment: true } }),
        db().riskSettingsVersion.findMany({ select: { version: true, authorId: true, comment: true } }),
      ]);
      const unattributed = [
        ...policies.filter((p) => !p.authorId || !p.comment.trim()).map((p) => `policy v${p.version}`),
        ...playbooks.filter((p) => !p.authorId || !p.comment.trim()).map((p) => `playbook ${p.playbookId} v${p.version}`),
        ...risk.filter((r) => !r.authorId || !r.comment.trim()).map((r) => `risk settings v${r.version}`),
      ];
      return { ...none(unattributed, `${policies.length + playbooks.length + risk.length} changes, each with an author and a comment.`, "change(s) without an author or comment"), evidence: { checked: { policies: policies.length, playbooks: playbooks.length, riskSettings: risk.length }, unattributed } };
    },
  },
];
