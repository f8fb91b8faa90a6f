// Quick start only: with the embedded database and no secrets in the environment, Gatehouse
// keeps generated secrets in <data dir>/secrets.json (mode 0600) so sessions, encrypted fields
// and signatures survive restarts. With an external PostgreSQL (several instances) the secrets
// must come from the environment (`npm run keys:generate` prints a set).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateKeyEnv, rotateSigningKeyEnv } from "./crypto/keys";

export const SECRET_VARIABLES = ["AUTH_SECRET", "GATEHOUSE_ENCRYPTION_KEYS", "GATEHOUSE_INDEX_KEY", "GATEHOUSE_SIGNING_KEY"] as const;
/** Kept in secrets.json once there is something to keep (after a rotation), never generated. */
const OPTIONAL_VARIABLES = ["GATEHOUSE_SIGNING_PREVIOUS_KEYS"] as const;
type Secrets = Record<(typeof SECRET_VARIABLES)[number], string> & Partial<Record<(typeof OPTIONAL_VARIABLES)[number], string>>;

const secretsFile = (dataDir: string) => path.join(dataDir, "secrets.json");

/** Written beside and renamed over: a crash mid-write cannot leave a truncated file (and lose every key). */
function writeSecrets(file: string, secrets: Secrets): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  renameSync(temporary, file);
}

export function generateSecrets(): Secrets {
  return { AUTH_SECRET: randomBytes(32).toString("base64url"), ...generateKeyEnv() };
}

/**
 * Fills any secret missing from the environment from secrets.json, creating or extending it. A
 * secret the environment supplies is what the data was written with, so the file keeps that one
 * (not a generated one that would silently take over, unable to read anything, should the variable
 * be dropped later); an environment value that differs from the file's is warned about.
 */
export function applyLocalSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = secretsFile(dataDir);
  const stored: Partial<Secrets> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const supplied = Object.fromEntries(SECRET_VARIABLES.filter((name) => env[name]).map((name) => [name, env[name]!]));
  const complete = { ...generateSecrets(), ...supplied, ...stored };
  if (SECRET_VARIABLES.some((name) => !stored[name])) writeSecrets(file, complete);
  const differing = SECRET_VARIABLES.filter((name) => stored[name] && env[name] && env[name] !== stored[name]);
  if (differing.length) console.warn(`${differing.join(", ")} from the environment differ from ${file}: the environment's are used.`);
  // process.env turns an assigned undefined into the string "undefined": set only what there is.
  for (const name of [...SECRET_VARIABLES, ...OPTIONAL_VARIABLES]) if (complete[name] !== undefined) env[name] ??= complete[name];
}

/**
 * Quick start: rotates the audit signing key kept in secrets.json (the current public key joins
 * the retired ones, so what it signed still verifies). Takes effect at the next start. Returns
 * the new key's variables, or null when there is no secrets.json in `dataDir`.
 */
export function rotateLocalSigningKey(dataDir: string): ReturnType<typeof rotateSigningKeyEnv> | null {
  const file = secretsFile(dataDir);
  if (!existsSync(file)) return null;
  const stored = JSON.parse(readFileSync(file, "utf8")) as Secrets;
  const rotated = rotateSigningKeyEnv(stored.GATEHOUSE_SIGNING_KEY, stored.GATEHOUSE_SIGNING_PREVIOUS_KEYS);
  writeSecrets(file, { ...stored, ...rotated });
  return rotated;
}

/** A secret as secrets.json in `dataDir` keeps it, if it does. */
export function storedLocalSecret(dataDir: string, name: (typeof SECRET_VARIABLES)[number]): string | undefined {
  const file = secretsFile(dataDir);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Partial<Secrets>)[name] : undefined;
}

export function missingSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return SECRET_VARIABLES.filter((name) => !env[name]);
}
