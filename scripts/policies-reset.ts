// `npm run policies:reset [-- <version>]`: break-glass for a policy publish that shut the admins
// out of the console. Publishes the built-in roles (version 0) again, or an earlier version by its
// number, as a new version: a rollback audited as done by the command line (actor system, "cli").
// Running instances apply it within GATEHOUSE_POLICY_REFRESH_MS; on the embedded database, stop
// the server first.
import { z } from "zod";
import { withDatabase } from "./with-database";

const version = z.coerce.number().int().min(0).max(2 ** 31 - 1).safeParse(process.argv[2] ?? 0);
if (!version.success) {
  console.error("Usage: npm run policies:reset [-- <version>]   (without a version: the built-in roles, version 0)");
  process.exit(2);
}
const toVersion = version.data;

await withDatabase(async () => {
  const { resetPolicies } = await import("../lib/policy/store");
  const { listActiveAdmins } = await import("../lib/auth/users");
  const admins = await listActiveAdmins();
  if (admins.length === 0) {
    console.error("There is no active admin: no policy would let anyone into the console. Nothing published.");
    process.exitCode = 1;
    return;
  }
  const result = await resetPolicies(toVersion, listActiveAdmins);
  if (!result.ok) {
    console.error(`Nothing published. ${result.message}`);
    for (const error of result.errors ?? []) console.error(`  ${error.policyId ?? "policies"}: ${error.message}`);
    process.exitCode = 1;
    return;
  }
  const what = toVersion === 0 ? "the built-in roles (version 0)" : `version ${toVersion}`;
  console.log(`Published ${what} again as version ${result.version}, replacing version ${result.replaced} (audited as policy.rollback by the command line).`);
  console.log(`Active admins: ${admins.map((a) => a.email).join(", ")}. Running instances apply it within GATEHOUSE_POLICY_REFRESH_MS.`);
});
