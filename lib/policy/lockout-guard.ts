import "server-only";
import { decide, preparse } from "./cedar";
import { consoleRequest, timesCompared, type AuthStrength, type ConsoleSubject } from "./pdp";
import type { ConsoleAction, ConsoleSection } from "./schema";
import { countryOf } from "../geo";

// The lockout guard: a policy set is refused unless some active admin keeps a way back to the
// policy editor in every week tried, since a publish nobody can reach is one nobody can undo.

/** A user as the policies see one: lib/auth owns users and hands them in. */
export type PolicyPrincipal = { userId: string; email: string; roles: readonly string[]; groups: readonly string[] };

const CANDIDATE = "gatehouse-candidate";

function allows(subject: ConsoleSubject, section: ConsoleSection, action: ConsoleAction, at: Date): boolean {
  return decide(CANDIDATE, consoleRequest(subject, section, action, at)).decision === "allow";
}

// Pages are read long after the sign-in's second factor, so a view must work with and without a
// fresh one; publish and rollback demand a step-up first (guardedAction), so they run with one.
const withAndWithoutFreshMfa = (subject: ConsoleSubject, allowed: (s: ConsoleSubject) => boolean) =>
  allowed({ ...subject, mfaFresh: false }) && allowed({ ...subject, mfaFresh: true });

type Step = { does: string; allowed: (subject: ConsoleSubject, at: Date) => boolean };

/**
 * The way back, asked as lib/auth/access.ts asks: the policies page (requireAccess) and its publish
 * and rollback actions. The console's layout (requireConsole) needs a view of any one section, and
 * the policies page is one. Manage comes first only because it is the single cheapest decision.
 */
const WAY_BACK: readonly Step[] = [
  { does: "manage the policies (publish or roll back)", allowed: (s, at) => allows({ ...s, mfaFresh: true }, "policies", "manage", at) },
  { does: "open the policies page", allowed: (s, at) => withAndWithoutFreshMfa(s, (f) => allows(f, "policies", "view", at)) },
];

// How an admin may choose to sign in, all on account pages no policy governs: with an
// authenticator app or a passkey (admins must have a second factor, and any user can enrol a
// passkey), on a remembered device or not. The risk score is 0, as for a sign-in from the admin's
// usual device and network; the address is the publisher's, where an admin is now.
const SIGN_INS: readonly { authStrength: AuthStrength; deviceTrusted: boolean }[] = (["mfa", "phishing_resistant"] as const).flatMap((authStrength) =>
  [false, true].map((deviceTrusted) => ({ authStrength, deviceTrusted })),
);

const HOUR_MS = 3_600_000;
const HOURS_A_WEEK = 7 * 24;
/** Years from now of the weeks tried: time conditions can end access tomorrow or in years, and a server clock can be set back. */
const YEARS_TRIED = [0, 1, 10, -1, -10] as const;

// A set comparing the time with many dates is unusual; past this many, the first ones coming are tried.
const MAX_DATES_TRIED = 24;

/**
 * Every hour of each week tried: every weekday and hour of the day, so office-hours rules still pass
 * and "after <date>" rules do not. The weeks: this one, one and ten years on and back, and the week
 * from each coming date the policies compare the time with, so a window that shuts everyone out
 * from a date to another (a change freeze with a wrong end) is found wherever it falls.
 */
function weeksTried(text: string, now: Date): { yearsFromNow: number | null; start: Date; hours: Date[] }[] {
  const hoursFrom = (start: Date) => Array.from({ length: HOURS_A_WEEK }, (_, hour) => new Date(start.getTime() + hour * HOUR_MS));
  const years = YEARS_TRIED.map((yearsFromNow) => {
    const start = new Date(now);
    start.setUTCFullYear(start.getUTCFullYear() + yearsFromNow);
    return { yearsFromNow, start, hours: hoursFrom(start) };
  });
  const dates = timesCompared(text).filter((at) => at > now).sort((a, b) => a.getTime() - b.getTime()).slice(0, MAX_DATES_TRIED);
  return [...years, ...dates.map((start) => ({ yearsFromNow: null, start, hours: hoursFrom(start) }))];
}

/** How many steps of the way back this admin gets through at `at` (all of them: in). */
function stepsPassed(subject: ConsoleSubject, at: Date): number {
  const blocked = WAY_BACK.findIndex((step) => !step.allowed(subject, at));
  return blocked === -1 ? WAY_BACK.length : blocked;
}

// Only a user literal or the email attribute tells two users apart; roles and groups aside, the
// policies otherwise decide alike for every admin. Missing some other way would only refuse more,
// never let a lockout through: every admin tried is a real one.
const NAMES_USERS = /Gatehouse\s*::\s*User\s*::|email/;

/** The admins worth trying: all of them when a policy names users, else one per set of roles and groups. */
function distinctAdmins(text: string, admins: readonly PolicyPrincipal[]): readonly PolicyPrincipal[] {
  if (NAMES_USERS.test(text)) return admins;
  return [...new Map(admins.map((admin) => [`${[...admin.roles].sort().join()}|${[...admin.groups].sort().join()}`, admin])).values()];
}

/** What nobody could do (the step no admin got past at any hour), and the week it happened in (years from now, or null for the week from a date the policies name). */
export type Lockout = { does: string; yearsFromNow: number | null; weekFrom: Date };

/** Which week tried a lockout is in, the same for two judgements of one text a moment apart. */
export const lockedWeekKey = (lockout: Lockout) => (lockout.yearsFromNow === null ? `from ${lockout.weekFrom.toISOString()}` : `years ${lockout.yearsFromNow}`);

/** Null if, in each week tried, some admin signed in some way at some hour gets all the way back; else the first week where none does. */
export function findLockout(text: string, from: string | null, admins: readonly PolicyPrincipal[], now = new Date()): Lockout | null {
  return lockedWeeks(text, from, admins, now, { firstOnly: true })[0] ?? null;
}

/** Each week tried in which no admin gets all the way back (findLockout's judgement, for every week). */
export function lockedWeeks(text: string, from: string | null, admins: readonly PolicyPrincipal[], now = new Date(), { firstOnly = false } = {}): Lockout[] {
  preparse(CANDIDATE, text);
  const tried = distinctAdmins(text, admins);
  // The publisher's country, looked up once for the thousands of decisions below.
  const country = countryOf(from);
  const locked: Lockout[] = [];
  for (const { yearsFromNow, start, hours } of weeksTried(text, now)) {
    let furthest = 0;
    const wayBack = tried.some((admin) => hours.some((at) => SIGN_INS.some((signIn) => {
      const passed = stepsPassed({ ...admin, ...signIn, ip: from, country, risk: 0, mfaFresh: false }, at);
      furthest = Math.max(furthest, passed);
      return passed === WAY_BACK.length;
    })));
    if (wayBack) continue;
    locked.push({ does: WAY_BACK[furthest]!.does, yearsFromNow, weekFrom: start });
    if (firstOnly) break;
  }
  return locked;
}
