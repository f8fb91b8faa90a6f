import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export default function teardown() {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const name = process.env.E2E_DATABASE;
  if (!name || !/^gatehouse_e2e_\d+$/.test(name)) return;
  execFileSync("psql", [adminUrl, "-q", "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
  // The servers' log files (scripts/e2e-server.sh).
  for (const file of [`${name}.log`, `${name}-b.log`]) rmSync(path.join(process.env.TMPDIR ?? tmpdir(), file), { force: true });
}
