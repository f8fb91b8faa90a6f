// `npm run users:unlock -- <email> "<why>"`: break-glass for an account locked out of every way in (an
// incident's "lock accounts" on the last admins, a sign-in the risk engine blocked): lifts its
// sign-in lock and failed-password count, audited as done by the command line (actor system,
// "cli" and the operating-system user) with the reason given. Whoever runs it has the server's
// shell and database, so it asks for nothing more. On the embedded database, stop the server first.
import { userInfo } from "node:os";
import { z } from "zod";
import { withDatabase } from "./with-database";

const email = z.string().trim().toLowerCase().pipe(z.email()).safeParse(process.argv[2] ?? "");
const reason = z.string().trim().min(3).max(500).safeParse(process.argv[3] ?? "");
if (!email.success || !reason.success) {
  console.error('Usage: npm run users:unlock -- <email> "<why, for the audit trail>"');
  process.exit(2);
}

await withDatabase(async () => {
  const { findPrincipalByEmail, unlockSignIn } = await import("../lib/auth/users");
  const { SYSTEM_CONTEXT } = await import("../lib/audit/context");
  const account = await findPrincipalByEmail(email.data);
  if (!account) {
    console.error(`No account signs in as ${email.data}.`);
    process.exitCode = 1;
    return;
  }
  const operator = `cli (${userInfo().username})`;
  const unlocked = await unlockSignIn(account.userId, { ...SYSTEM_CONTEXT, actor: { type: "system", id: null, label: operator }, justification: reason.data });
  console.log(unlocked ? `${email.data} may sign in again (audited as account.unlock by the command line).` : `${email.data} is not locked: nothing to lift.`);
});
