import "server-only";
import { createHash } from "node:crypto";
import { ZxcvbnFactory } from "@zxcvbn-ts/core";
import * as zxcvbnCommon from "@zxcvbn-ts/language-common";
import * as zxcvbnEnglish from "@zxcvbn-ts/language-en";
import { readConfig } from "../config";

// NIST SP 800-63B §3.1.1.2: a new password is checked against values known to be commonly used,
// expected or compromised. Two checks, both only when a password is chosen (never on sign-in, so
// an outage of the breach list cannot lock anyone out):
// - zxcvbn's estimate of how many guesses the password takes, against ~40,000 common passwords,
//   English words and names, keyboard patterns, dates, l33t spellings, and the account's own
//   email and name (always on, offline);
// - the Pwned Passwords range API (GATEHOUSE_PWNED_PASSWORDS_URL, https://api.pwnedpasswords.com
//   or a mirror inside your network): only the first five hex digits of the password's SHA-1 are
//   sent, and the answer is padded, so neither the password nor whether it was found leaves here.

export type PasswordScreening = { ok: true } | { ok: false; reason: "guessable" | "breached"; message: string };

/** Whose password it is: their email address and name are the first thing an attacker tries. */
export type PasswordOwner = { email: string; name?: string | null };

let zxcvbn: ZxcvbnFactory | null = null;

// zxcvbn's time grows steeply with length and with the l33t spellings it tries (1.4 s for 128
// random characters with its defaults, during which this process serves nothing else): only the
// first 40 characters are judged (40 that pass are plenty; a longer password with a weak
// beginning is refused, which costs its owner little), with at most 10 l33t substitutions (as
// good at finding "P@$$w0rd"-like passwords as 100). Worst case measured: ~70 ms.
const JUDGED_LENGTH = 40;
const L33T_SUBSTITUTIONS = 10;

function estimator(): ZxcvbnFactory {
  // Built on first use: the dictionaries take a few megabytes and ~100 ms to load.
  zxcvbn ??= new ZxcvbnFactory({
    dictionary: { ...zxcvbnCommon.dictionary, ...zxcvbnEnglish.dictionary },
    graphs: zxcvbnCommon.adjacencyGraphs,
    translations: zxcvbnEnglish.translations,
    maxLength: JUDGED_LENGTH,
    l33tMaxSubstitutions: L33T_SUBSTITUTIONS,
  });
  return zxcvbn;
}

/** The owner's own words, which zxcvbn treats like the most common passwords. */
function ownerWords(owner: PasswordOwner): string[] {
  const [local = "", domain = ""] = owner.email.toLowerCase().split("@");
  const words = [owner.email.toLowerCase(), local, ...local.split(/[._+-]+/), ...domain.split("."), "gatehouse"];
  if (owner.name) words.push(...owner.name.toLowerCase().split(/\s+/));
  return words.filter((word) => word.length >= 3);
}

function guessability(password: string, owner: PasswordOwner): PasswordScreening {
  const result = estimator().check(password, ownerWords(owner));
  if (result.score >= readConfig().GATEHOUSE_PASSWORD_MIN_SCORE) return { ok: true };
  const why = result.feedback.warning ?? "It would be guessed quickly.";
  const how = result.feedback.suggestions[0] ?? "Add more words that are less common.";
  return { ok: false, reason: "guessable", message: `This password is too easy to guess. ${why} ${how}` };
}

const PWNED_TIMEOUT_MS = 3_000;
// A padded range answer is 800–1,000 lines of 40 bytes; anything far larger is not one.
const PWNED_MAX_BYTES = 256 * 1024;

/** How often the password appears in the breach corpus; null when the service did not answer usably. */
async function breachCount(base: string, password: string): Promise<number | null> {
  const digest = createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();
  const prefix = digest.slice(0, 5);
  const suffix = digest.slice(5);
  try {
    const response = await fetch(new URL(`range/${prefix}`, base.endsWith("/") ? base : `${base}/`), {
      headers: { "Add-Padding": "true", "User-Agent": "Gatehouse" },
      signal: AbortSignal.timeout(PWNED_TIMEOUT_MS),
      redirect: "error",
    });
    if (!response.ok) return null;
    const body = await textUpTo(response, PWNED_MAX_BYTES);
    if (body === null) return null;
    for (const line of body.split("\n")) {
      const [lineSuffix, count] = line.trim().split(":");
      // Padding lines carry a count of 0: they are not breached passwords.
      if (lineSuffix === suffix) return Number.parseInt(count ?? "0", 10) || 0;
    }
    return 0;
  } catch {
    return null;
  }
}

/** The body as text, or null (and the rest left unread) once it is larger than `maxBytes`. */
async function textUpTo(response: Response, maxBytes: number): Promise<string | null> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    // Leaving the loop cancels the rest of the body.
    if (size > maxBytes) return null;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

async function breached(password: string): Promise<PasswordScreening> {
  const base = readConfig().GATEHOUSE_PWNED_PASSWORDS_URL;
  if (!base) return { ok: true };
  const count = await breachCount(base, password);
  if (count === null) {
    // Fail open: the estimate above still ran, and a breach list that is down must not stop
    // people from changing a password that may be compromised. Nothing about the password is logged.
    console.error(`[auth] the Pwned Passwords service at ${new URL(base).host} did not answer; a new password was accepted without the breach check`);
    return { ok: true };
  }
  if (count === 0) return { ok: true };
  return { ok: false, reason: "breached", message: "This password has appeared in a data breach, so attackers try it. Choose a different one." };
}

/** Whether `password` may become `owner`'s new password (lengths are checked by newPasswordSchema). */
export async function screenNewPassword(password: string, owner: PasswordOwner): Promise<PasswordScreening> {
  const estimate = guessability(password, owner);
  if (!estimate.ok) return estimate;
  return breached(password);
}

/** A refused new password where the caller reports failures by throwing (account creation, admin resets). */
export class PasswordRefusedError extends Error {
  constructor(readonly screening: Extract<PasswordScreening, { ok: false }>) {
    super(screening.message);
  }
}
