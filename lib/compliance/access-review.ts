import "server-only";
import { createHash } from "node:crypto";
// lib/auth's index also loads next-auth (Next.js only); the users module is enough here.
import { listAccountsForReview } from "../auth/users";
import type { PasswordState } from "../auth/password";
import { factorNames } from "../mfa";
import { audit, type AuditContext } from "../audit";
import { csvRows } from "../util/csv";

// The periodic user access review (SOC 2 CC6.2 and CC6.3): every account with its roles, groups, status,
// second factors, password and last sign-in, as one CSV a reviewer signs off line by line. Its
// SHA-256 goes into the audit trail with the download, so the file kept as evidence can be shown
// to be the one Gatehouse produced at that time.

const COLUMNS = [
  "email", "name", "roles", "groups", "status", "created_at", "last_sign_in_at", "second_factors", "passkeys", "password_changed_at", "password_state", "active_sessions",
] as const;

export type AccessReview = { csv: string; accounts: number; digest: string; generatedAt: string };

const iso = (date: Date | null) => date?.toISOString() ?? "";

const PASSWORD_STATES: Record<PasswordState, string> = {
  none: "none (passkey only)", set: "set", temporary: "temporary: to be replaced", distrusted: "distrusted: new one required",
};

export async function buildAccessReview(now = new Date()): Promise<AccessReview> {
  const accounts = await listAccountsForReview(now);
  const rows = accounts.map((a) => [
    a.email, a.name, a.roles.join(" "), a.groups.join(" "), a.disabledAt ? `disabled ${iso(a.disabledAt)}` : "active", iso(a.createdAt), iso(a.lastSignInAt),
    factorNames(a.secondFactors).join(" + ") || "none", String(a.secondFactors.passkeys), iso(a.passwordChangedAt), PASSWORD_STATES[a.passwordState], String(a.activeSessions),
  ]);
  // csvRows escapes formulas: a name typed as =HYPERLINK(…) must not run in the reviewer's spreadsheet.
  const csv = csvRows([COLUMNS, ...rows]);
  return { csv, accounts: accounts.length, digest: createHash("sha256").update(csv).digest("hex"), generatedAt: now.toISOString() };
}

export function auditAccessReviewDownload(review: AccessReview, ctx: AuditContext) {
  return audit(ctx, {
    type: "compliance", action: "compliance.access_review", outcome: "success", resource: { type: "access_review", id: review.digest },
    metadata: { accounts: review.accounts, generatedAt: review.generatedAt, sha256: review.digest },
  });
}
