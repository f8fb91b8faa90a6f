import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPasskey, signInWithPassword, type SignInResult } from "@/lib/auth/sign-in";
import { checkAccountLock, checkSignInThrottle } from "@/lib/auth/throttle";
import { findActiveSession } from "@/lib/auth/sessions";
import { addIpRule, IpRuleRefusedError, newIpRuleSchema, currentRiskSettings, DEFAULT_RISK_SETTINGS, purgeLoginAttempts, riskOverview, riskSettingsSchema, newRiskSettingsSchema, saveRiskSettings, signInRiskSummary, trustAttemptPlace } from "@/lib/risk";
import { reportUnrecognizedSignIn, signInReachedApp } from "@/lib/auth/sessions";
import { reportSignIn } from "@/lib/risk/reports";
import { blockRulesFor, listIpRules } from "@/lib/risk/ip-rules";
import { resetDatabase } from "../support/db";
import { assertion, codeAt, enrollTotp, withPasskey } from "../support/mfa";
import { completeMfaStep } from "@/lib/auth/mfa-step";
import { knownDevice, trustDevice } from "@/lib/devices";
import { userContext } from "@/lib/audit/context";
import { TEST_PASSWORD, ctx, makeUser, uniqueEmail } from "../support/factories";

// Places known from the shipped DB-IP City Lite database.
const BERLIN = "85.214.132.117";
const TOKYO = "133.242.0.1";
const MONDAY_9AM = new Date("2026-11-16T09:00:00Z");
const at = (base: Date, minutes: number) => new Date(base.getTime() + minutes * 60_000);
const from = (ip: string) => ({ ip, userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0" });

beforeEach(resetDatabase);

function expectSession(result: SignInResult) {
  if (!result.ok) throw new Error(`expected a session, got ${JSON.stringify(result)}`);
  return result;
}

const signIn = (email: string, ip: string, deviceToken: string | null, now: Date, password = TEST_PASSWORD) =>
  signInWithPassword({ email, password }, from(ip), deviceToken, now);

async function lastAttempt(email: string) {
  return db().loginAttempt.findFirstOrThrow({ where: { email }, orderBy: { at: "desc" } });
}

const factorCodes = (attempt: { factors: unknown }) => (attempt.factors as { code: string }[]).map((f) => f.code).sort();

/**
 * A user with a history and no second factor yet (so each sign-in completes at once and teaches
 * the baseline): `days` sign-ins from Berlin on one device, one a day at 09:00 before Monday.
 */
async function berlinRegular(days = 1) {
  const user = await makeUser();
  let deviceToken: string | null = null;
  for (let day = days; day >= 1; day--) {
    deviceToken = expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, -day * 1440))).newDeviceToken ?? deviceToken;
  }
  expect(deviceToken, "the first sign-in sets a device cookie").not.toBeNull();
  return { user, deviceToken };
}

describe("risk signals", () => {
  it("Berlin, then Tokyo an hour later: impossible travel, and TOTP alone cannot satisfy it", async () => {
    const { user, deviceToken } = await berlinRegular();
    expectSession(await signIn(user.email, BERLIN, deviceToken, MONDAY_9AM));
    await enrollTotp(user);

    const tokyo = await signIn(user.email, TOKYO, deviceToken, at(MONDAY_9AM, 60));
    const attempt = await lastAttempt(user.email);
    expect(factorCodes(attempt)).toEqual(["impossible_travel", "new_country", "new_network"]);
    expect(attempt.riskScore).toBeCloseTo(0.7);
    expect(attempt.decision).toBe("phishing_resistant");
    expect(attempt.country).toBe("JP");
    expect((attempt.factors as { code: string; detail: string }[]).find((f) => f.code === "impossible_travel")!.detail).toMatch(/km from Berlin, DE/);
    expect(tokyo).toEqual({ ok: false, reason: "refused", refusal: "passkey_unavailable" });
    const events = await db().auditEvent.findMany({ where: { action: "risk.sign_in_refused" } });
    expect(events).toHaveLength(1);
  });

  it("a device cookie handed out to a sign-in that stopped at the MFA step does not make the next try a known device", async () => {
    const { user, deviceToken } = await berlinRegular();
    await enrollTotp(user);
    // Someone with the password, from elsewhere, on a browser of their own: the MFA step stops them.
    const first = expectSession(await signIn(user.email, TOKYO, null, MONDAY_9AM));
    expect(first.newDeviceToken).not.toBeNull();
    expect(factorCodes(await lastAttempt(user.email))).toContain("new_device");
    // The cookie it got is not a known device of the account the next time.
    await signIn(user.email, TOKYO, first.newDeviceToken, at(MONDAY_9AM, 5));
    expect(factorCodes(await lastAttempt(user.email))).toContain("new_device");
    expect(await knownDevice(user.id, first.newDeviceToken)).toBeNull();
    // The owner's browser, where sign-ins completed, is.
    expect(await knownDevice(user.id, deviceToken)).not.toBeNull();
  });

  it("an analyst who confirmed the trip trusts its place: the next sign-in from there is neither new nor impossible travel", async () => {
    const { user, deviceToken } = await berlinRegular();
    expectSession(await signIn(user.email, BERLIN, deviceToken, MONDAY_9AM));
    await enrollTotp(user);
    expect(await signIn(user.email, TOKYO, deviceToken, at(MONDAY_9AM, 60))).toMatchObject({ ok: false, refusal: "passkey_unavailable" });
    const held = await lastAttempt(user.email);
    expect(factorCodes(held)).toEqual(["impossible_travel", "new_country", "new_network"]);

    const anyone = async () => true;
    expect(await trustAttemptPlace(held.id, ctx, async () => false)).toEqual({ ok: false, refusal: "not_permitted" });
    expect(await trustAttemptPlace(held.id, ctx, anyone)).toEqual({ ok: true });
    expect(await trustAttemptPlace(held.id, ctx, anyone)).toEqual({ ok: false, refusal: "already_trusted" });
    expect(await db().auditEvent.findFirst({ where: { action: "risk.place.trust", resourceId: user.id } })).toMatchObject({ metadata: expect.objectContaining({ attemptId: held.id, country: "JP" }) });
    const next = await signIn(user.email, TOKYO, deviceToken, at(MONDAY_9AM, 70));
    const went = await lastAttempt(user.email);
    expect(factorCodes(went)).toEqual([]);
    expect(next).toMatchObject({ ok: true });
    // Only a held attempt is trusted here (one that went through is learned when it completes), and only one of an account.
    expect(await trustAttemptPlace(went.id, ctx, anyone)).toEqual({ ok: false, refusal: "not_held" });
    const unknown = await signIn(uniqueEmail("nobody"), TOKYO, null, at(MONDAY_9AM, 71));
    expect(unknown.ok).toBe(false);
    expect(await trustAttemptPlace((await db().loginAttempt.findFirstOrThrow({ where: { userId: null } })).id, ctx, anyone)).toEqual({ ok: false, refusal: "no_account" });
  });

  it("a source refused before its password was checked proved nothing: its place cannot be trusted", async () => {
    const { user, deviceToken } = await berlinRegular();
    await addIpRule({ cidr: "133.242.0.0/16", kind: "block", note: "credential stuffing" }, ctx);
    // A wrong password from the blocked range: refused before the password is looked at.
    expect(await signIn(user.email, TOKYO, null, MONDAY_9AM, "a random guess")).toMatchObject({ ok: false, refusal: "source_blocked" });
    const blocked = await lastAttempt(user.email);
    expect(blocked).toMatchObject({ outcome: "blocked", credentialsProven: false });
    expect(factorCodes(blocked)).toContain("new_country");
    expect(await trustAttemptPlace(blocked.id, ctx, async () => true)).toEqual({ ok: false, refusal: "not_held" });
    // The owner's next sign-in from home is still home, and Tokyo is still new.
    expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, 5)));
    expect(factorCodes(await lastAttempt(user.email))).toEqual([]);
  });

  it("with a passkey, the same sign-in waits for the passkey, never a TOTP code", async () => {
    const { user, deviceToken } = await berlinRegular();
    const secret = await enrollTotp(user);
    const { authenticator } = await withPasskey(user.id);
    // Refresh the last place: the history ends in Berlin at 09:00 (MFA-completed through a passkey sign-in).
    expectSession(await signInWithPasskey(await assertion(authenticator, null), from(BERLIN), deviceToken, MONDAY_9AM));

    const tokyo = expectSession(await signIn(user.email, TOKYO, deviceToken, at(MONDAY_9AM, 60)));
    const session = await findActiveSession(tokyo.sessionId);
    expect(session).toMatchObject({ stage: "mfa_required", requiredFactor: "passkey" });
    const pending = { ...session!.user, groups: [], sessionId: tokyo.sessionId, mfaVerifiedAt: null, passwordVerifiedAt: null, authMethods: ["password"], riskScore: 0.7, deviceTrusted: false, deviceId: null, stage: "mfa_required" as const, requiredFactor: "passkey" as const };
    const withTotpCode = await completeMfaStep(pending, { method: "totp", code: await codeAt(secret, new Date()) }, false, userContext(user, null));
    expect(withTotpCode).toEqual({ ok: false, message: "This sign-in needs a passkey." });
    expect((await completeMfaStep(pending, { method: "passkey", ...(await assertion(authenticator, user.id)) }, false, userContext(user, null))).ok).toBe(true);
    expect(await findActiveSession(tokyo.sessionId)).toMatchObject({ stage: "active" });
  });

  it("a new device raises the score", async () => {
    const { user, deviceToken } = await berlinRegular();
    expectSession(await signIn(user.email, BERLIN, deviceToken, MONDAY_9AM));
    expect((await lastAttempt(user.email)).riskScore).toBe(0);

    expectSession(await signIn(user.email, BERLIN, null, at(MONDAY_9AM, 5)));
    const attempt = await lastAttempt(user.email);
    expect(factorCodes(attempt)).toEqual(["new_device"]);
    expect(attempt.riskScore).toBeCloseTo(DEFAULT_RISK_SETTINGS.weights.new_device);
  });

  it("a remembered device skips the MFA step at low risk, not when risk requires MFA", async () => {
    const { user, deviceToken } = await berlinRegular();
    await enrollTotp(user);
    await trustDevice(user.id, (await knownDevice(user.id, deviceToken))!.id, ctx);
    const usual = expectSession(await signIn(user.email, BERLIN, deviceToken, MONDAY_9AM));
    expect(await findActiveSession(usual.sessionId)).toMatchObject({ stage: "active" });

    await saveRiskSettings({ ...DEFAULT_RISK_SETTINGS, weights: { ...DEFAULT_RISK_SETTINGS.weights, new_country: 0.5 } }, "a new country needs MFA", ctx);
    const abroad = expectSession(await signIn(user.email, "8.8.8.8", deviceToken, at(MONDAY_9AM, 24 * 60)));
    expect(await lastAttempt(user.email)).toMatchObject({ decision: "mfa" });
    expect(await findActiveSession(abroad.sessionId)).toMatchObject({ stage: "mfa_required", requiredFactor: "any" });
  });

  it("a user's first sign-in is not scored as new in every way", async () => {
    const user = await makeUser();
    expectSession(await signIn(user.email, TOKYO, null, MONDAY_9AM));
    expect(await lastAttempt(user.email)).toMatchObject({ riskScore: 0, decision: "allow", country: "JP" });
  });

  it("an hour far outside the user's habits adds the unusual-hour factor", async () => {
    const { user, deviceToken } = await berlinRegular(DEFAULT_RISK_SETTINGS.hourBaselineMinimum);
    expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, -6 * 60))); // 03:00 UTC
    expect(factorCodes(await lastAttempt(user.email))).toEqual(["unusual_hour"]);
  });

  it("twenty failures from one IP across accounts block that IP's next attempt, before its password is checked", async () => {
    const { user, deviceToken } = await berlinRegular();
    const attacker = "203.0.113.66";
    for (let i = 0; i < DEFAULT_RISK_SETTINGS.ipFailureLimit; i++) {
      await signIn(uniqueEmail(), attacker, null, at(MONDAY_9AM, i / 10), "stuffed-password");
    }
    const fromAttacker = await signIn(user.email, attacker, deviceToken, at(MONDAY_9AM, 3));
    expect(fromAttacker).toEqual({ ok: false, reason: "refused", refusal: "source_blocked" });
    expect(await lastAttempt(user.email)).toMatchObject({ outcome: "blocked", decision: "block" });
    // The victim's account is not locked by someone else's stuffing run.
    expect(await checkSignInThrottle(user.email, null, at(MONDAY_9AM, 3))).toEqual({ allowed: true });
    expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, 4)));
    // Once the window has passed, those failures no longer count against the IP.
    const later = uniqueEmail();
    await signIn(later, attacker, null, at(MONDAY_9AM, 30), "another-guess");
    expect(factorCodes(await lastAttempt(later))).toEqual([]);
  });

  it("a burst of attempts sent at once from one IP meets the same limit as the attempts sent one by one", async () => {
    const attacker = "203.0.113.67";
    const burst = Array.from({ length: 40 }, () => uniqueEmail("stuffed"));
    const results = await Promise.all(burst.map((email) => signIn(email, attacker, null, MONDAY_9AM, "stuffed-password")));
    // Sent one by one, the eleventh account's attempt is refused before its password is checked.
    const checked = await db().loginAttempt.count({ where: { outcome: "invalid_credentials", email: { in: burst } } });
    expect(checked).toBeLessThanOrEqual(DEFAULT_RISK_SETTINGS.ipAccountLimit);
    expect(results.filter((r) => !r.ok && r.reason === "refused")).toHaveLength(burst.length - checked);
    // Nothing stays counted as in flight once the burst is over: the next attempt from elsewhere starts clean.
    const next = uniqueEmail();
    await signIn(next, "198.51.100.200", null, MONDAY_9AM, "a guess");
    expect(factorCodes(await lastAttempt(next))).toEqual([]);
    expect(await db().signInInFlight.findMany({ orderBy: { source: "asc" }, select: { source: true, attempts: true, accounts: true } })).toEqual([
      { source: "198.51.100.200", attempts: 0, accounts: {} },
      { source: attacker, attempts: 0, accounts: {} },
    ]);
    // Sources idle for a day are swept.
    const { sweepIdleSources } = await import("@/lib/risk/assess");
    expect(await sweepIdleSources(new Date(MONDAY_9AM.getTime() + 2 * 86_400_000))).toBe(2);
  });

  it("counters left behind are swept once a day past their window, unless they hold a lock", async () => {
    const { sweepCounters } = await import("@/lib/rate-limit/counters");
    await db().rateLimitCounter.createMany({ data: [
      { key: "signin:acct:old", count: 3, windowEndsAt: new Date(Date.now() - 2 * 86_400_000) },
      { key: "signin:lock:held", count: 1, windowEndsAt: new Date(0), lockedUntil: new Date(Date.now() + 3_600_000) },
      { key: "signin:acct:recent", count: 1, windowEndsAt: new Date(Date.now() - 3_600_000) },
    ] });
    expect(await sweepCounters()).toBe(1);
    expect((await db().rateLimitCounter.findMany({ orderBy: { key: "asc" } })).map((c) => c.key)).toEqual(["signin:acct:recent", "signin:lock:held"]);
  });

  it("people behind one address signing in at the same moment are not held back by each other", async () => {
    const office = "198.51.100.90";
    const colleagues = await Promise.all(Array.from({ length: 6 }, () => makeUser()));
    const results = await Promise.all(colleagues.map((c) => signIn(c.email, office, null, MONDAY_9AM)));
    expect(results.map((r) => r.ok)).toEqual(colleagues.map(() => true));
    const attempts = await db().loginAttempt.findMany({ where: { email: { in: colleagues.map((c) => c.email) } } });
    expect(attempts.flatMap((a) => factorCodes(a))).not.toContain("ip_failures");
  });

  it("a score of 0.9 blocks the sign-in, locks the account and raises a security event", async () => {
    const { user } = await berlinRegular();
    // Tokyo an hour later on an unknown device: travel 0.5 + country 0.15 + network 0.05 + device 0.25.
    const result = await signIn(user.email, TOKYO, null, at(MONDAY_9AM, -1440 + 60));
    expect(result).toMatchObject({ ok: false, reason: "refused", refusal: "risk_blocked" });
    expect(await lastAttempt(user.email)).toMatchObject({ outcome: "blocked", decision: "block" });
    expect((await lastAttempt(user.email)).riskScore).toBeGreaterThanOrEqual(0.9);
    expect(await checkAccountLock(user.email, at(MONDAY_9AM, -1440 + 61))).toMatchObject({ allowed: false });
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "risk.sign_in_blocked" } });
    expect(event).toMatchObject({ type: "security", outcome: "blocked", metadata: { lockedUntil: expect.any(String) } });
  });

  it("a blocked sign-in does not lock an account with a second factor: whoever holds the password cannot shut the owner out", async () => {
    const { user, deviceToken } = await berlinRegular();
    await enrollTotp(user);
    const result = await signIn(user.email, TOKYO, null, at(MONDAY_9AM, -1440 + 60));
    expect(result).toEqual({ ok: false, reason: "refused", refusal: "risk_blocked" });
    expect(await checkAccountLock(user.email, at(MONDAY_9AM, -1440 + 61))).toEqual({ allowed: true });
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "risk.sign_in_blocked" } });
    expect(event.metadata).toMatchObject({ lockedUntil: null });
    // The owner, from their usual place, goes on to the second step as ever.
    expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, -1440 + 62)));
  });

  it("the baseline learns from completed sign-ins only", async () => {
    const { user, deviceToken } = await berlinRegular(2);
    await signIn(user.email, TOKYO, deviceToken, MONDAY_9AM, "wrong password");
    await enrollTotp(user);
    expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, 10))); // waits for its MFA step
    const baseline = await db().riskBaseline.findUniqueOrThrow({ where: { userId: user.id } });
    expect(baseline.signIns).toBe(2);
    expect(baseline.countries).toEqual({ DE: 2 });
    expect(baseline.hours[9]).toBe(2);
  });
});

describe("IP lists and settings", () => {
  it("a blocked range refuses every attempt from it; an allowed one lowers the score", async () => {
    const { user, deviceToken } = await berlinRegular();
    await addIpRule({ cidr: "133.242.0.0/16", kind: "block", note: "test range" }, ctx);
    expect(await signIn(user.email, TOKYO, deviceToken, MONDAY_9AM)).toEqual({ ok: false, reason: "refused", refusal: "source_blocked" });

    await addIpRule({ cidr: "85.214.0.0/16", kind: "allow", note: "office" }, ctx);
    expectSession(await signIn(user.email, BERLIN, null, at(MONDAY_9AM, 1)));
    const attempt = await lastAttempt(user.email);
    expect(factorCodes(attempt)).toEqual(["ip_allowlisted", "new_device"]);
    expect(attempt.riskScore).toBe(0);
  });

  it("reads a rule's address as written out in full, and IPv4-mapped addresses as IPv4, so it lands on the network meant", () => {
    const cidr = (value: string) => newIpRuleSchema.safeParse({ cidr: value, kind: "block", note: "n" });
    expect(cidr("203.0.113.77/24").data?.cidr).toBe("203.0.113.0/24");
    expect(cidr("::ffff:203.0.113.7").data?.cidr).toBe("203.0.113.7/32");
    expect(cidr("::ffff:203.0.113.0/120").data?.cidr).toBe("203.0.113.0/24");
    expect(cidr("2001:DB8::1/64").data?.cidr).toBe("2001:db8::/64");
    // ipaddr.js alone reads "203.0.113/24" as 203.0.0.0/24: another network than the one meant.
    for (const typo of ["203.0.113/24", "10.20/16", "203.0.113.7/33", "0x7f.1", "203.0.113.7/24/8", "::ffff:1.2.3.4/64"]) expect(cidr(typo).success, typo).toBe(false);
  });

  it("refuses a block wider than a /16 or /32, an allow wider than a /8 or /32, or a block covering the address of whoever adds it", async () => {
    await expect(addIpRule({ cidr: "0.0.0.0/0", kind: "block", note: "oops" }, ctx)).rejects.toThrow("block at most a /16 (IPv4)");
    await expect(addIpRule({ cidr: "2001:db8::/16", kind: "block", note: "oops" }, ctx)).rejects.toThrow("block at most a /32 (IPv6)");
    const fromTokyo = { ...ctx, client: { ip: TOKYO, userAgent: "vitest" } };
    await expect(addIpRule({ cidr: "133.242.0.0/16", kind: "block", note: "my own network" }, fromTokyo)).rejects.toBeInstanceOf(IpRuleRefusedError);
    // An allow may cover a private network, not the Internet; a /16 block from elsewhere is fine.
    await expect(addIpRule({ cidr: "0.0.0.0/0", kind: "allow", note: "let everyone in" }, ctx)).rejects.toThrow("allow at most a /8 (IPv4)");
    await expect(addIpRule({ cidr: "::/0", kind: "allow", note: "let everyone in" }, ctx)).rejects.toThrow("allow at most a /32 (IPv6)");
    await addIpRule({ cidr: "10.0.0.0/8", kind: "allow", note: "the office network" }, fromTokyo);
    await addIpRule({ cidr: "133.242.0.0/16", kind: "block", note: "the attack" }, ctx);
    expect((await db().ipRule.findMany({ select: { cidr: true, kind: true }, orderBy: { cidr: "asc" } }))).toEqual([
      { cidr: "10.0.0.0/8", kind: "allow" }, { cidr: "133.242.0.0/16", kind: "block" },
    ]);
  });

  it("past the newest 500 rules the list says how many there are and a search finds any; a playbook's duplicate check sees them all", async () => {
    const old = new Date("2026-01-01T00:00:00Z");
    await db().ipRule.createMany({ data: Array.from({ length: 502 }, (_, i) => ({ cidr: `198.18.${Math.floor(i / 250)}.${i % 250}/32`, kind: "block", note: i === 0 ? "the oldest, from INC-7" : "bulk", createdAt: new Date(old.getTime() + i * 1000) })) });
    const all = await listIpRules();
    expect([all.rules.length, all.total]).toEqual([500, 502]);
    expect(all.rules.map((r) => r.cidr)).not.toContain("198.18.0.0/32");
    expect((await listIpRules("inc-7")).rules.map((r) => r.cidr)).toEqual(["198.18.0.0/32"]);
    expect((await listIpRules("198.18.0.0/")).rules.map((r) => r.cidr)).toEqual(["198.18.0.0/32"]);
    expect((await blockRulesFor(["198.18.0.0/32", "203.0.113.1/32"])).map((r) => r.cidr)).toEqual(["198.18.0.0/32"]);
  });

  it("settings are versioned and audited, and a stricter ladder takes effect at once", async () => {
    const { user } = await berlinRegular();
    expect(riskSettingsSchema.safeParse({ ...DEFAULT_RISK_SETTINGS, thresholds: { watch: 0.5, mfa: 0.4, phishingResistant: 0.7, block: 0.9 } }).success).toBe(false);
    const stricter = { ...DEFAULT_RISK_SETTINGS, weights: { ...DEFAULT_RISK_SETTINGS.weights, new_device: 0.6 } };
    const saved = await saveRiskSettings(stricter, "new devices need MFA", ctx, 0);
    if (!saved.ok) throw new Error("not saved");
    const { version } = saved;
    expect((await currentRiskSettings()).version).toBe(version);
    // A form still showing version 0 would undo it: refused, nothing saved, the refusal audited.
    expect(await saveRiskSettings(DEFAULT_RISK_SETTINGS, "from an old page", ctx, 0)).toEqual({ ok: false, newest: version });
    expect((await currentRiskSettings()).settings.weights.new_device).toBe(0.6);
    expect(await db().auditEvent.count({ where: { action: "risk.settings.update", outcome: "failure" } })).toBe(1);
    // A cleared field is refused, not read as 0; nor may the block list score below a block.
    const flat = (weights: Record<string, unknown>) => newRiskSettingsSchema.safeParse({ ...DEFAULT_RISK_SETTINGS, weights: { ...DEFAULT_RISK_SETTINGS.weights, ...weights } });
    expect(flat({ ip_blocklisted: "" }).error?.issues).toMatchObject([{ path: ["weights", "ip_blocklisted"], message: "Every weight is a number from 0 to 1." }]);
    expect(flat({ ip_blocklisted: "0.85" }).error?.issues).toMatchObject([{ path: ["weights", "ip_blocklisted"], message: expect.stringContaining("block rules would not block") }]);
    expect(flat({ new_device: "0.6" }).success).toBe(true);
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "risk.settings.update" } });
    expect(event.metadata).toMatchObject({ changes: { "weights.new_device": { from: 0.25, to: 0.6 } } });

    await enrollTotp(user);
    const session = expectSession(await signIn(user.email, BERLIN, null, MONDAY_9AM));
    expect(await lastAttempt(user.email)).toMatchObject({ decision: "mfa", settingsVersion: version });
    expect(await findActiveSession(session.sessionId)).toMatchObject({ stage: "mfa_required", requiredFactor: "any" });
    // A version saved before that rule still reads as it was saved (not as the defaults).
    const older = await saveRiskSettings({ ...stricter, weights: { ...stricter.weights, ip_blocklisted: 0.85 } }, "before the rule", ctx);
    expect(await currentRiskSettings()).toMatchObject({ version: older.ok && older.version, settings: { weights: { ip_blocklisted: 0.85, new_device: 0.6 } } });
    await saveRiskSettings(stricter, "back", ctx);
    // A version that cannot be read (written by hand): the defaults apply, and the page's form,
    // sent with the version named as unreadable, replaces it (with version 0 it would be stale forever).
    const broken = await db().riskSettingsVersion.create({ data: { settings: { weights: { new_device: 7 } }, comment: "by hand" } });
    expect(await currentRiskSettings()).toEqual({ version: 0, settings: DEFAULT_RISK_SETTINGS, unreadable: broken.version });
    expect(await saveRiskSettings(stricter, "new devices need MFA, again", ctx, broken.version)).toEqual({ ok: true, version: broken.version + 1 });
  });
});

describe("views", () => {
  it("“this wasn't me” ends the session it opened, for its owner only", async () => {
    const { user } = await berlinRegular();
    const stranger = await makeUser();
    const other = expectSession(await signIn(user.email, BERLIN, null, MONDAY_9AM));
    const attempt = await lastAttempt(user.email);

    expect(await reportUnrecognizedSignIn(stranger.id, attempt.id, userContext(stranger, null))).toBeNull();
    expect(await findActiveSession(other.sessionId)).not.toBeNull();

    expect(await reportUnrecognizedSignIn(user.id, attempt.id, userContext(user, null))).toEqual({ sessionEnded: true, alreadyReported: false });
    expect(await findActiveSession(other.sessionId)).toBeNull();
    expect((await db().loginAttempt.findUniqueOrThrow({ where: { id: attempt.id } })).reportedAt).not.toBeNull();
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "risk.user_reported_sign_in" } });
    expect(event).toMatchObject({ type: "security", resourceId: attempt.id });
    // Reported again (twice at once, even): the security event, and so the alert, is raised once.
    const again = await Promise.all([1, 2].map(() => reportUnrecognizedSignIn(user.id, attempt.id, userContext(user, null))));
    expect(again).toEqual([{ sessionEnded: false, alreadyReported: true }, { sessionEnded: false, alreadyReported: true }]);
    expect(await db().auditEvent.count({ where: { action: "risk.user_reported_sign_in" } })).toBe(1);
  });

  it("a reported sign-in teaches the risk engine nothing: its place is not the user's, its browser is a new device again", async () => {
    const { user, deviceToken } = await berlinRegular();
    // Someone with the password signs in from Tokyo a day later (no second factor: let in, and learned from).
    const stolen = expectSession(await signIn(user.email, TOKYO, null, MONDAY_9AM));
    const attempt = await lastAttempt(user.email);
    expect(await reportUnrecognizedSignIn(user.id, attempt.id, userContext(user, null))).toMatchObject({ sessionEnded: true });
    // The owner, back in Berlin an hour later: Tokyo was never theirs, so no impossible travel.
    expectSession(await signIn(user.email, BERLIN, deviceToken, at(MONDAY_9AM, 60)));
    expect(factorCodes(await lastAttempt(user.email))).toEqual([]);
    // The attacker's browser is a stranger again: a new device from a new country, mailed to the owner as such.
    await signIn(user.email, TOKYO, stolen.newDeviceToken, at(MONDAY_9AM, 24 * 60));
    expect(factorCodes(await lastAttempt(user.email))).toEqual(expect.arrayContaining(["new_country", "new_device"]));
    const signInEvent = await db().auditEvent.findFirstOrThrow({ where: { action: "auth.sign_in", outcome: "success" }, orderBy: { seq: "desc" } });
    expect(signInEvent.metadata).toMatchObject({ newDevice: true });
  });

  it("a sign-in reported while its second step was pending is never learned, even if the step is passed after", async () => {
    const { user } = await berlinRegular();
    await enrollTotp(user);
    const pending = expectSession(await signIn(user.email, TOKYO, null, MONDAY_9AM));
    expect((await findActiveSession(pending.sessionId))?.stage).toBe("mfa_required");
    const attempt = await lastAttempt(user.email);
    await reportSignIn(user.id, attempt.id, userContext(user, null));
    await signInReachedApp(pending.sessionId);
    expect((await db().riskBaseline.findUniqueOrThrow({ where: { userId: user.id } })).countries).toEqual({ DE: 1 });
    // Reported again (say, the first report stopped part way): nothing is taken back twice.
    await reportSignIn(user.id, attempt.id, userContext(user, null));
    expect((await db().riskBaseline.findUniqueOrThrow({ where: { userId: user.id } })).signIns).toBe(1);
  });

  it("the overview counts decisions and ranks the riskiest attempts, users and IPs", async () => {
    const { user } = await berlinRegular();
    await signIn(user.email, TOKYO, null, at(MONDAY_9AM, -1440 + 60)); // blocked: 0.95
    await signIn(uniqueEmail(), "203.0.113.9", null, at(MONDAY_9AM, -1440 + 61), "a-wrong-guess");
    const overview = await riskOverview("7d", MONDAY_9AM);
    expect(overview.decisions).toMatchObject({ allow: 2, block: 1 });
    expect(overview.riskiestAttempts[0]).toMatchObject({ email: user.email, decision: "block", outcome: "blocked", place: "Chiyoda City, JP" });
    expect(overview.riskiestUsers[0]).toMatchObject({ userId: user.id, maxScore: 0.95, elevated: 1 });
    expect(overview.riskiestIps[0]).toMatchObject({ ip: TOKYO, maxScore: 0.95 });
    expect(overview.distribution.reduce((n, b) => n + b.attempts, 0)).toBe(3);
    // A week in six-hour periods (UTC, from the one holding its start): 28, and the current one.
    expect(overview.timeline).toHaveLength(29);
    expect(overview.timeline.reduce((n, p) => n + p.attempts, 0)).toBe(3);
    expect(overview.timeline.find((p) => p.at === "2026-11-15T06:00:00.000Z")).toMatchObject({ attempts: 3, blocked: 1, maxScore: 0.95 });
    // A quiet period has no score: the chart draws no line through it.
    expect(overview.timeline[0]).toEqual({ at: "2026-11-09T06:00:00.000Z", attempts: 0, blocked: 0, avgScore: null, maxScore: null });
  });
});

describe("the console overview's sign-in summary", () => {
  it("counts the last 24 hours' attempts, those refused or blocked, and those that demanded a passkey or blocked", async () => {
    const attempt = (minutesAgo: number, outcome: string, decision: string | null) =>
      db().loginAttempt.create({ data: { at: at(MONDAY_9AM, -minutesAgo), email: uniqueEmail(), outcome, decision, riskScore: decision ? 0.5 : null } });
    expect(await signInRiskSummary(24, MONDAY_9AM)).toEqual({ attempts: 0, refused: 0, highRisk: 0 });
    await attempt(10, "success", "allow");
    await attempt(20, "invalid_credentials", "mfa");
    await attempt(30, "blocked", "block");
    await attempt(40, "success", "phishing_resistant"); // a passkey was demanded and given: high risk, not refused
    await attempt(50, "refused", "phishing_resistant"); // …and not given
    await attempt(60, "rate_limited", null);
    await attempt(25 * 60, "blocked", "block"); // the day before: not counted
    await attempt(-5, "blocked", "block"); // after `now`: not counted
    expect(await signInRiskSummary(24, MONDAY_9AM)).toEqual({ attempts: 6, refused: 3, highRisk: 3 });
  });
});

describe("retention of sign-in attempts", () => {
  it("deletes attempts older than the retention period, keeps newer ones, and audits the purge", async () => {
    const now = new Date();
    const daysAgo = (days: number) => new Date(now.getTime() - days * 86_400_000);
    for (const [email, at] of [["old@example.test", daysAgo(91)], ["recent@example.test", daysAgo(89)]] as const) {
      await db().loginAttempt.create({ data: { email, at, ipAddress: "198.51.100.23", outcome: "invalid_credentials" } });
    }
    expect(await purgeLoginAttempts(90, now)).toBe(1);
    expect((await db().loginAttempt.findMany({ select: { email: true } })).map((a) => a.email)).toEqual(["recent@example.test"]);
    const event = await db().auditEvent.findFirstOrThrow({ where: { action: "risk.attempts.purge" } });
    expect(event.metadata).toMatchObject({ days: 90, purged: 1 });
    // Nothing older left: nothing deleted, nothing audited.
    expect(await purgeLoginAttempts(90, now)).toBe(0);
    expect(await db().auditEvent.count({ where: { action: "risk.attempts.purge" } })).toBe(1);
  });
});
