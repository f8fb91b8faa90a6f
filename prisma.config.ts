import { defineConfig } from "prisma/config";

// Prisma 7 reads the connection from here, not from the schema. `prisma migrate deploy`
// on a machine with internet uses DATABASE_URL; Gatehouse itself migrates through
// lib/db/migrate.ts (offline, WASM engine).
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/gatehouse" },
});
