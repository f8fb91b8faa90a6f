import { randomBytes } from "node:crypto";
import { createUser } from "@/lib/auth/users";
import { SYSTEM_CONTEXT } from "@/lib/audit/context";
import type { RoleName } from "@/lib/auth/roles";

export const TEST_PASSWORD = "correct horse battery staple";

export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}@example.test`;
}

/** A new account, in no group (as a Granter: the groups it acts with). */
export async function makeUser(overrides: { email?: string; roles?: RoleName[]; password?: string } = {}) {
  const user = await createUser({
    email: overrides.email ?? uniqueEmail(),
    name: "Test User",
    password: overrides.password ?? TEST_PASSWORD,
    roles: Array.from(new Set<RoleName>(["user", ...(overrides.roles ?? [])])),
  }, SYSTEM_CONTEXT, null);
  return { ...user, groups: [] as string[] };
}

export const client = (ip = "198.51.100.7") => ({ ip, userAgent: "vitest" });

export { SYSTEM_CONTEXT as ctx };
