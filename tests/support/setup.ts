import { tmpdir } from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { generateSecrets } from "@/lib/local-secrets";
import { avoidWasmDeoptCrash } from "@/lib/util/v8-workaround";

avoidWasmDeoptCrash();
// This worker's own database (tests/support/global-setup.ts).
process.env.DATABASE_URL = inject("databaseUrls")[Number(process.env.VITEST_POOL_ID ?? 1) - 1];
process.env.DATABASE_POOL_MAX = "5";
// This worker's own application log, not ./data/logs: a worker process a test spawns writes it,
// and the compliance tests scan it, so another Vitest worker's files must not show up in it.
process.env.GATEHOUSE_LOG_FILE ??= path.join(tmpdir(), `gatehouse-tests-${process.pid}`, "gatehouse.log");
// Every test starts from a fresh database: the policy set in force is checked on every decision.
process.env.GATEHOUSE_POLICY_REFRESH_MS = "0";
for (const [name, value] of Object.entries(generateSecrets())) process.env[name] ??= value;
