// Quick start only: with the embedded database and no secrets in the environment, Gatehouse
// keeps generated secrets in <data dir>/secrets.json (mode 0600) so sessions, encrypted fields
// and signatures survive restarts. With an external PostgreSQL (several instances) the secrets
// must come from the environment (`npm run keys:generate` prints a set).
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { generateKeyEnv } from "./crypto/keys";

export const SECRET_VARIABLES = ["AUTH_SECRET", "GATEHOUSE_ENCRYPTION_KEYS", "GATEHOUSE_INDEX_KEY", "GATEHOUSE_SIGNING_KEY"] as const;
type Secrets = Record<(typeof SECRET_VARIABLES)[number], string>;

export function generateSecrets(): Secrets {
  return { AUTH_SECRET: randomBytes(32).toString("base64url"), ...generateKeyEnv() };
}

/** Fills any secret missing from the environment from secrets.json, creating or extending it. */
export function applyLocalSecrets(dataDir: string, env: NodeJS.ProcessEnv = process.env): void {
  const file = path.join(dataDir, "secrets.json");
  const stored: Partial<Secrets> = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  const complete = { ...generateSecrets(), ...stored };
  if (SECRET_VARIABLES.some((name) => !stored[name])) writeFileSync(file, JSON.stringify(complete, null, 2), { mode: 0o600 });
  for (const name of SECRET_VARIABLES) env[name] ??= complete[name];
}

export function missingSecrets(env: NodeJS.ProcessEnv = process.env): string[] {
  return SECRET_VARIABLES.filter((name) => !env[name]);
}
