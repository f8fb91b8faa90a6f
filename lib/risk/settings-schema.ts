// The risk engine's settings: what admins edit on /admin/risk/settings. Not "server-only": the
// settings form validates with the same schema.
import { z } from "zod";
import { FACTOR_CODES, type FactorCode } from "./scoring";

// A form's number: an emptied field is refused, not read as 0 (as z.coerce.number reads ""): a
// cleared weight would otherwise switch its factor off without a word.
const emptyAsMissing = (value: unknown) => (typeof value === "string" && value.trim() === "" ? undefined : value);
const number = (error: string) => z.coerce.number({ error });
const formNumber = <T extends z.ZodType>(inner: T) => z.preprocess(emptyAsMissing, inner);

// The form shows a group's problems together (weights, thresholds): the message says which.
const WEIGHT = "Every weight is a number from 0 to 1.";
const weight = formNumber(number(WEIGHT).min(0, WEIGHT).max(1, WEIGHT));
const THRESHOLD = "Every threshold is a number above 0, at most 1.";
const threshold = formNumber(number(THRESHOLD).gt(0, THRESHOLD).max(1, THRESHOLD));
const count = (min: number, max: number) => formNumber(number("Enter a number.").int().min(min).max(max));

export const riskSettingsSchema = z
  .object({
    weights: z.object(Object.fromEntries(FACTOR_CODES.map((code) => [code, weight])) as Record<FactorCode, typeof weight>),
    thresholds: z.object({
      watch: threshold,
      mfa: threshold,
      phishingResistant: threshold,
      block: threshold,
    }),
    /** Faster than this between two sign-ins is impossible travel. */
    maxTravelKmh: count(100, 20_000),
    /** Failure velocity is counted over this window. */
    failureWindowMinutes: count(1, 24 * 60),
    /** Failures on one account in the window for the full account_failures strength. */
    accountFailureLimit: count(1, 1000),
    /** Failures from one IP, or distinct accounts failed from it, for the full ip_failures strength. */
    ipFailureLimit: count(1, 10_000),
    ipAccountLimit: count(1, 10_000),
    /** A hour (with its neighbours) holding less than this share of past sign-ins is unusual… */
    unusualHourShare: formNumber(number("Enter a number.").min(0).max(1)),
    /** …once the user has at least this many sign-ins to judge by. */
    hourBaselineMinimum: count(1, 10_000),
    /** How long a blocked sign-in locks the account. */
    blockLockMinutes: count(1, 7 * 24 * 60),
  })
  .refine(({ thresholds: t }) => t.watch < t.mfa && t.mfa < t.phishingResistant && t.phishingResistant < t.block, {
    path: ["thresholds"],
    message: "Thresholds must rise: watch < MFA < passkey < block.",
  });

export type RiskSettings = z.infer<typeof riskSettingsSchema>;

/**
 * What a save must also meet: the IP rules page promises that a block rule refuses every sign-in
 * from its range. Not asked of stored versions (a version saved before the rule still reads as
 * saved, rather than every setting falling back to the defaults).
 */
export const newRiskSettingsSchema = riskSettingsSchema.refine(({ weights, thresholds }) => weights.ip_blocklisted >= thresholds.block, {
  path: ["weights", "ip_blocklisted"],
  message: "An address on the block list must score at least the block threshold, or block rules would not block.",
});

// The ladder from the design notes; weights chosen so one strong signal (impossible travel plus
// the new country and network it implies) demands a passkey, and a new device on top blocks.
export const DEFAULT_RISK_SETTINGS: RiskSettings = {
  weights: {
    impossible_travel: 0.5,
    new_country: 0.15,
    new_network: 0.05,
    new_device: 0.25,
    unusual_hour: 0.1,
    account_failures: 0.3,
    ip_failures: 0.9,
    ip_blocklisted: 1,
    ip_allowlisted: 0.3,
  },
  thresholds: { watch: 0.3, mfa: 0.5, phishingResistant: 0.7, block: 0.9 },
  maxTravelKmh: 1000,
  failureWindowMinutes: 15,
  accountFailureLimit: 5,
  ipFailureLimit: 20,
  ipAccountLimit: 10,
  unusualHourShare: 0.05,
  hourBaselineMinimum: 10,
  blockLockMinutes: 60,
};

/**
 * The settings a stored version holds; version 0, the defaults above, until an admin saves one.
 * A version saved before a setting existed (a factor added since) takes that setting's default
 * and keeps the rest: an admin's stricter settings must not quietly give way to the defaults.
 */
/**
 * The settings a stored version makes: what it set, with the defaults for what it predates.
 * One that cannot be read as settings at all gives the defaults as version 0, and names itself
 * as `unreadable` (the version a save replaces: a form showing version 0 would be refused as stale).
 */
export function settingsInForce(row: { version: number; settings: unknown } | null): { version: number; settings: RiskSettings; unreadable?: number } {
  if (!row) return { version: 0, settings: DEFAULT_RISK_SETTINGS };
  const stored = (typeof row.settings === "object" && row.settings !== null ? row.settings : {}) as Partial<Record<keyof RiskSettings, unknown>>;
  const filled = {
    ...DEFAULT_RISK_SETTINGS, ...stored,
    weights: { ...DEFAULT_RISK_SETTINGS.weights, ...(stored.weights as object | undefined) },
    thresholds: { ...DEFAULT_RISK_SETTINGS.thresholds, ...(stored.thresholds as object | undefined) },
  };
  const parsed = riskSettingsSchema.safeParse(filled);
  if (parsed.success) return { version: row.version, settings: parsed.data };
  console.error(`[risk] settings version ${row.version} does not read as settings; the defaults apply: ${parsed.error.issues.map((i) => i.path.join(".")).join(", ")}`);
  return { version: 0, settings: DEFAULT_RISK_SETTINGS, unreadable: row.version };
}
