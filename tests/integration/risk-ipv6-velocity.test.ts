import { beforeEach, describe, expect, it } from "vitest";
import { db } from "@/lib/db/client";
import { signInWithPassword } from "@/lib/auth/sign-in";
import { DEFAULT_RISK_SETTINGS, sourceFailures, type Factor } from "@/lib/risk";
import { blockRange } from "@/lib/incidents/actions";
import { resetDatabase } from "../support/db";
import { TEST_PASSWORD, makeUser, uniqueEmail } from "../support/factories";

// Per-IP failure velocity counts an IPv6 address with its whole /64: one subscriber holds a /64
// and could otherwise rotate to a fresh address for every guess and never trip it.

const MONDAY_9AM = new Date("2026-11-16T09:00:00Z");
const at = (minutes: number) => new Date(MONDAY_9AM.getTime() + minutes * 60_000);
const from = (ip: string) => ({ ip, userAgent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/156.0" });
const LIMIT = DEFAULT_RISK_SETTINGS.ipFailureLimit;

beforeEach(resetDatabase);

/** One wrong password per address, on a different (non-existent) account each, a few seconds apart. */
async function failFrom(addresses: string[]) {
  for (const [i, ip] of addresses.entries()) {
    await signInWithPassword({ email: uniqueEmail(), password: "stuffed-password" }, from(ip), null, at(i / 10));
  }
}

async function attemptFrom(ip: string, minutes: number) {
  const user = await makeUser();
  const result = await signInWithPassword({ email: user.email, password: TEST_PASSWORD }, from(ip), null, at(minutes));
  const attempt = await db().loginAttempt.findFirstOrThrow({ where: { email: user.email } });
  return { result, ipFailures: ((attempt.factors as Factor[] | null) ?? []).find((f) => f.code === "ip_failures") };
}

const range = (n: number, address: (i: number) => string) => Array.from({ length: n }, (_, i) => address(i + 1));

describe("IP failure velocity for IPv6", () => {
  it(`${LIMIT} failures from ${LIMIT} addresses of one /64 block the next address of that /64, naming the /64`, async () => {
    await failFrom(range(LIMIT, (i) => `2001:db8:1:2:${i.toString(16)}::${i.toString(16)}`));
    const { result, ipFailures } = await attemptFrom("2001:db8:1:2:ffff:ffff:ffff:fffe", 3);
    expect(result).toEqual({ ok: false, reason: "refused", refusal: "source_blocked" });
    // Ten accounts (ipAccountLimit) are the full strength: from the eleventh address on, the /64 is
    // refused before any password is checked, and refusals are not failed passwords.
    const accounts = DEFAULT_RISK_SETTINGS.ipAccountLimit;
    expect(ipFailures).toMatchObject({ strength: 1, detail: `${accounts} failures on ${accounts} accounts from 2001:db8:1:2::/64 in ${DEFAULT_RISK_SETTINGS.failureWindowMinutes} min` });
    expect(await db().loginAttempt.count({ where: { outcome: "blocked" } })).toBe(LIMIT - accounts + 1);
  });

  it("failures from addresses in different /64s do not add up", async () => {
    await failFrom(range(LIMIT, (i) => `2001:db8:1:${i.toString(16)}::1`));
    const elsewhere = await attemptFrom("2001:db8:1:ff::1", 3);
    expect(elsewhere.result.ok).toBe(true);
    expect(elsewhere.ipFailures).toBeUndefined();
    // A neighbour /64 that did fail once counts only its own failure.
    const neighbour = await attemptFrom("2001:db8:1:1::2", 3);
    expect(neighbour.result.ok).toBe(true);
    expect(neighbour.ipFailures).toMatchObject({ detail: `1 failures on 1 accounts from 2001:db8:1:1::/64 in ${DEFAULT_RISK_SETTINGS.failureWindowMinutes} min` });
  });

  it("IPv4 is unchanged: counted per address, and the explanation names no network", async () => {
    await failFrom(range(LIMIT, (i) => `203.0.113.${i}`));
    expect((await attemptFrom("203.0.113.200", 3)).ipFailures).toBeUndefined();
    const { ipFailures } = await attemptFrom("203.0.113.1", 3);
    expect(ipFailures).toMatchObject({ detail: `1 failures on 1 accounts in ${DEFAULT_RISK_SETTINGS.failureWindowMinutes} min` });
    // An IPv4-mapped IPv6 address is the IPv4 address it carries.
    await failFrom(range(LIMIT, () => "198.51.100.7"));
    expect((await attemptFrom("::ffff:198.51.100.7", 3)).result).toEqual({ ok: false, reason: "refused", refusal: "source_blocked" });
  });

  it("the credential-stuffing lookup counts the /64 and names it, and a playbook's address block covers it", async () => {
    await failFrom(range(5, (i) => `2001:db8:9:9::${i}`));
    await failFrom(["2001:db8:9:a::1"]);
    expect(await sourceFailures("2001:db8:9:9::ff", 15, at(3))).toEqual({ source: "2001:db8:9:9::/64", failures: 5, accounts: 5 });
    expect(await sourceFailures("203.0.113.5", 15, at(3))).toEqual({ source: "203.0.113.5", failures: 0, accounts: 0 });
    expect(blockRange("2001:db8:9:9::ff", "ip")).toBe("2001:db8:9:9::/64");
    expect(blockRange("2001:db8:9:9::ff", "network")).toBe("2001:db8:9::/48");
    // An alert about stuffing names the /64 it counted: blocked as that, or as its /48.
    expect(blockRange("2001:db8:9:9::/64", "ip")).toBe("2001:db8:9:9::/64");
    expect(blockRange("2001:db8:9:9::/64", "network")).toBe("2001:db8:9::/48");
    expect(blockRange("203.0.113.5", "ip")).toBe("203.0.113.5/32");
  });
});
