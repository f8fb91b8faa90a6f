import type { NextConfig } from "next";
import { SECURITY_HEADERS } from "./lib/http/security-headers";
import { ACTION_BODY_LIMIT_BYTES } from "./lib/http/action-envelope";

const nextConfig: NextConfig = {
  poweredByHeader: false,
  // In development Next.js logs each server action's arguments, which carry the previous form
  // state back: a TOTP secret or client secret shown once would land in data/logs.
  logging: { serverFunctions: false },
  // Native and WebAssembly packages stay outside the server bundle.
  serverExternalPackages: ["@node-rs/argon2", "@electric-sql/pglite", "@prisma/adapter-pg", "pg", "oidc-provider", "@cedar-policy/cedar-wasm", "maxmind", "pg-boss", "nodemailer"],
  experimental: {
    // forbidden() renders app/forbidden.tsx with a 403 status.
    authInterrupts: true,
    // proxy.ts refuses larger calls with a 413 first (lib/http/action-envelope.ts).
    serverActions: { bodySizeLimit: `${ACTION_BODY_LIMIT_BYTES / 1024}kb` },
  },
  async headers() {
    return [{ source: "/:path*", headers: [...SECURITY_HEADERS] }];
  },
};

export default nextConfig;
