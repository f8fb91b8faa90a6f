import { inject } from "vitest";
import { generateSecrets } from "@/lib/local-secrets";

process.env.DATABASE_URL = inject("databaseUrl");
process.env.DATABASE_POOL_MAX = "5";
for (const [name, value] of Object.entries(generateSecrets())) process.env[name] ??= value;
