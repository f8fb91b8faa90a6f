import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPasskey, signInWithPassword, UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR } from "@/lib/auth/sign-in";
import { ACCOUNT_FAILURE_LIMIT, LOCKOUT_MS, checkSignInThrottle, takePasswordTry } from "@/lib/auth/throttle";
import { findActiveSession } from "@/lib/auth/sessions";
import { setDisabled } from "@/lib/auth/users";
import { resetDatabase } from "../support/db";
import { TEST_PASSWORD, client, ctx, makeUser, uniqueEmail } from "../support/factories";

beforeEach(resetDatabase);

describe("password sign-in", () => {
  it("creates an active session and records the attempt", async () => {
    const user = await makeUser();
    const result = await signInWithPassword({ email: user.email.toUpperCase(), password: TEST_PASSWORD }, client(), null);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const session = await findActiveSession(result.sessionId);
    expect(session?.user.id).toBe(user.id);
    expect(session?.ipAddress).toBe("198.51.100.7");
    const attempts = await db().loginAttempt.findMany({ where: { userId: user.id } });
    expect(attempts.map((a) => a.outcome)).toEqual(["success"]);
  });

  it("answers a wrong password and an unknown account identically", async () => {
    const user = await makeUser();
    const wrong = await signInWithPassword({ email: user.email, password: "not the password" }, client(), null);
    const unknown = await signInWithPassword({ email: uniqueEmail(), password: "not the password" }, client(), null);
    expect(wrong).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(unknown).toEqual(wrong);
  });

  it("rejects malformed input without throwing", async () => {
    for (const input of [null, 42, {}, { email: "x", password: "y" }, { email: ["a@b.c"], password: TEST_PASSWORD }, { email: "a@b.c", password: "p".repeat(10_000) }]) {
      await expect(signInWithPassword(input, client(), null)).resolves.toEqual({ ok: false, reason: "invalid_credentials" });
    }
  });

  it("refuses a disabled account even with the right password", async () => {
    const user = await makeUser({ roles: [] });
    await makeUser({ roles: ["admin"] }); // someone must stay admin
    await setDisabled(user.id, true, ctx);
    const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    expect(result).toEqual({ ok: false, reason: "invalid_credentials" });
  });
});

describe("throttling", () => {
  it(`locks an account name after ${ACCOUNT_FAILURE_LIMIT} failures, even against the right password`, async () => {
    const user = await makeUser();
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) {
      await signInWithPassword({ email: user.email, password: `wrong-${i}` }, client(`203.0.113.${i}`), null);
    }
    const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("203.0.113.99"), null);
    expect(result.ok).toBe(false);
    if (result.ok || result.reason !== "throttled") throw new Error("expected throttled");
    expect(result.retryAfterSeconds).toBeGreaterThan(LOCKOUT_MS / 1000 - 5);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(LOCKOUT_MS / 1000);
  });

  it("locks unknown account names the same way (no enumeration)", async () => {
    const email = uniqueEmail("ghost");
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await signInWithPassword({ email, password: "nope-nope" }, client(), null);
    const verdict = await checkSignInThrottle(email, null);
    expect(verdict).toMatchObject({ allowed: false });
  });

  it("strangers' guesses lock the account name, but not the browser its owner signed in on before", async () => {
    const user = await makeUser();
    const first = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null);
    if (!first.ok || !first.newDeviceToken) throw new Error("expected a device cookie");
    const ownersBrowser = first.newDeviceToken;
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await signInWithPassword({ email: user.email, password: `guess-${i}` }, client("192.0.2.60"), null);
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("192.0.2.60"), null)).toMatchObject({ ok: false, reason: "throttled" });
    expect(await checkSignInThrottle(user.email, null)).toMatchObject({ allowed: false });

    expect(await checkSignInThrottle(user.email, ownersBrowser)).toEqual({ allowed: true });
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), ownersBrowser)).toMatchObject({ ok: true });
    // The owner's browser has tries of its own, and the stranger's lock stays.
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await signInWithPassword({ email: user.email, password: `typo-${i}` }, client(), ownersBrowser);
    expect(await checkSignInThrottle(user.email, ownersBrowser)).toMatchObject({ allowed: false });
    expect(await checkSignInThrottle(user.email, null)).toMatchObject({ allowed: false });
    // Another account's device cookie buys nothing.
    const other = await makeUser();
    const others = await signInWithPassword({ email: other.email, password: TEST_PASSWORD }, client(), null);
    if (!others.ok || !others.newDeviceToken) throw new Error("expected a device cookie");
    expect(await checkSignInThrottle(user.email, others.newDeviceToken)).toMatchObject({ allowed: false });
  });

  it("lets the account in again once the lockout has passed", async () => {
    const user = await makeUser();
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await signInWithPassword({ email: user.email, password: "wrong-pass" }, client(), null);
    const later = new Date(Date.now() + LOCKOUT_MS + 1000);
    expect(await checkSignInThrottle(user.email, null, later)).toEqual({ allowed: true });
  });

  it("a success clears the account's failure count", async () => {
    const user = await makeUser();
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT - 1; i++) await signInWithPassword({ email: user.email, password: "wrong-pass" }, client(), null);
    expect((await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client(), null)).ok).toBe(true);
    await signInWithPassword({ email: user.email, password: "wrong-pass" }, client(), null);
    expect(await checkSignInThrottle(user.email, null)).toEqual({ allowed: true });
  });

  it("doubles the lockout each time it is reached again within a day", async () => {
    const email = uniqueEmail("doubling");
    const t0 = new Date();
    const tryFive = async (at: Date) => { for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) expect(await takePasswordTry(email, at)).toMatchObject({ allowed: true }); };
    await tryFive(t0);
    expect(await takePasswordTry(email, t0)).toEqual({ allowed: false, retryAfterSeconds: LOCKOUT_MS / 1000 });
    const afterFirst = new Date(t0.getTime() + LOCKOUT_MS + 1000);
    await tryFive(afterFirst);
    expect(await takePasswordTry(email, afterFirst)).toEqual({ allowed: false, retryAfterSeconds: (2 * LOCKOUT_MS) / 1000 });
  });

  it("counts failures as consecutive until a day passes without one: a burst either side of a day's end still locks", async () => {
    const email = uniqueEmail("burst");
    const t0 = new Date();
    const at = (ms: number) => new Date(t0.getTime() + ms);
    const DAY = 86_400_000;
    expect(await takePasswordTry(email, t0)).toMatchObject({ allowed: true });
    for (let i = 0; i < 3; i++) expect(await takePasswordTry(email, at(DAY - 1000))).toMatchObject({ allowed: true });
    // The fifth try within a day of the fourth: it locks if wrong, and the next is refused.
    expect(await takePasswordTry(email, at(DAY + 1000))).toEqual({ allowed: true, locksIfWrong: true });
    expect(await takePasswordTry(email, at(DAY + 2000))).toMatchObject({ allowed: false });
    // A quiet day after the lock: the count starts again.
    const later = at(2 * DAY + LOCKOUT_MS + 3000);
    expect(await takePasswordTry(email, later)).toEqual({ allowed: true, locksIfWrong: false });
  });

  it("a flood of refusals that check no secret, from one address, writes a bounded number of audit events of each kind, and says how many went unrecorded", async () => {
    const user = await makeUser();
    const from = client("203.0.113.77");
    for (let i = 0; i < ACCOUNT_FAILURE_LIMIT; i++) await signInWithPassword({ email: user.email, password: `wrong-${i}` }, from, null);
    const cap = UNCHECKED_REFUSALS_AUDITED_PER_SOURCE_PER_HOUR;
    const extra = 2 * cap + 10;
    for (let i = 0; i < extra; i++) expect(await signInWithPassword({ email: user.email, password: `wrong-again-${i}` }, from, null)).toMatchObject({ ok: false, reason: "throttled" });
    // Worthless passkey answers from the same address are a kind of their own: they use up nothing of the above.
    for (let i = 0; i < 10; i++) expect(await signInWithPasskey({ challengeId: "x", response: "x" }, from, null)).toEqual({ ok: false, reason: "invalid_credentials" });
    expect(await db().auditEvent.count({ where: { action: "auth.sign_in", outcome: "blocked" } })).toBe(cap);
    expect(await db().auditEvent.count({ where: { action: "auth.sign_in", outcome: "failure", actorLabel: null } })).toBe(10);
    // One event for each further batch: the 51st and the 101st.
    const unrecorded = await db().auditEvent.findMany({ where: { action: "auth.sign_in.refusals_unrecorded" }, orderBy: { seq: "asc" } });
    expect(unrecorded.map((e) => e.metadata)).toEqual([
      expect.objectContaining({ kind: "auth.sign_in:blocked", refusedThisHour: cap + 1 }),
      expect.objectContaining({ kind: "auth.sign_in:blocked", refusedThisHour: 2 * cap + 1 }),
    ]);
    // Every refusal was still counted where the risk engine and the lock look.
    expect(await db().loginAttempt.count({ where: { email: user.email, outcome: "rate_limited" } })).toBe(extra);
    // Another address's refusals are audited as before.
    await signInWithPassword({ email: user.email, password: "wrong" }, client("203.0.113.78"), null);
    expect(await db().auditEvent.count({ where: { action: "auth.sign_in", outcome: "blocked", actorLabel: user.email } })).toBe(cap + 1);
  });

  it("bounds passkey sign-ins per address, before any challenge is read", async () => {
    const from = client("203.0.113.90");
    for (let i = 0; i < 300; i++) await signInWithPasskey({ challengeId: "x", response: "x" }, from, null);
    expect(await signInWithPasskey({ challengeId: "x", response: "x" }, from, null)).toEqual({ ok: false, reason: "throttled", retryAfterSeconds: 60 });
    expect(await signInWithPasskey({ challengeId: "x", response: "x" }, client("203.0.113.91"), null)).toEqual({ ok: false, reason: "invalid_credentials" });
  });

  it("checks no more passwords when guesses are sent at once than when they are sent one by one", async () => {
    const user = await makeUser();
    const guesses = Array.from({ length: 12 }, (_, i) => signInWithPassword({ email: user.email, password: `wrong-pass-${i}` }, client("192.0.2.50"), null));
    const results = await Promise.all(guesses);
    const attempts = await db().loginAttempt.findMany({ where: { email: user.email } });
    // Each try is taken before its password is checked, and the fifth locks at once.
    expect(attempts.filter((a) => a.outcome === "invalid_credentials")).toHaveLength(ACCOUNT_FAILURE_LIMIT);
    expect(attempts.filter((a) => a.outcome === "rate_limited")).toHaveLength(12 - ACCOUNT_FAILURE_LIMIT);
    expect(results.filter((r) => !r.ok && r.reason === "throttled")).toHaveLength(12 - ACCOUNT_FAILURE_LIMIT);
    expect(await db().auditEvent.count({ where: { action: "account.lockout", resourceId: user.id } })).toBe(1);
    expect(await checkSignInThrottle(user.email, null)).toMatchObject({ allowed: false });
    // The right password is refused too until the lock ends.
    expect(await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, client("192.0.2.51"), null)).toMatchObject({ ok: false, reason: "throttled" });
  });
});
