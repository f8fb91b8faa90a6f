import { beforeEach, describe, expect, it } from "vitest";
import { listActiveUsersWithRole } from "@/lib/auth/users";
import { mfaRequiredRoles, withoutSecondFactor } from "@/lib/mfa";
import { resetDatabase } from "../support/db";
import { enrollTotp, withPasskey } from "../support/mfa";
import { makeUser } from "../support/factories";

beforeEach(resetDatabase);

describe("who lacks a required second factor (the console overview)", () => {
  it("lists the members of the required roles with neither TOTP nor a passkey", async () => {
    const [bare, withCode, withKey] = [await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] }), await makeUser({ roles: ["admin"] })];
    await enrollTotp(withCode);
    await withPasskey(withKey.id);
    await makeUser(); // a plain user: the default roles do not require a factor of them
    expect(mfaRequiredRoles()).toEqual(["admin"]);
    expect((await withoutSecondFactor(await listActiveUsersWithRole(mfaRequiredRoles()))).map((u) => u.userId)).toEqual([bare.id]);
    expect(await withoutSecondFactor([])).toEqual([]);
  });

  it("follows GATEHOUSE_MFA_REQUIRED_ROLES", async () => {
    const analyst = await makeUser({ roles: ["analyst"] });
    process.env.GATEHOUSE_MFA_REQUIRED_ROLES = "admin,analyst";
    try {
      expect(mfaRequiredRoles()).toEqual(["admin", "analyst"]);
      expect((await withoutSecondFactor(await listActiveUsersWithRole(mfaRequiredRoles()))).map((u) => u.email)).toEqual([analyst.email]);
    } finally {
      delete process.env.GATEHOUSE_MFA_REQUIRED_ROLES;
    }
  });
});
