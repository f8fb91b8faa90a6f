import { execFileSync } from "node:child_process";

export default function teardown() {
  const adminUrl = process.env.TEST_DATABASE_ADMIN_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
  const name = process.env.E2E_DATABASE;
  if (!name || !/^gatehouse_e2e_\d+$/.test(name)) return;
  execFileSync("psql", [adminUrl, "-q", "-c", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
}
