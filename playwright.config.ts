import { defineConfig, devices } from "@playwright/test";

// End-to-end tests drive Debian's Chromium against a production build (`next build` must have
// run) served by scripts/e2e-server.sh on a fresh PostgreSQL database. The browser is Debian's
// chromium-headless-shell (the same Chromium build, without the full browser's window machinery):
// on a 2-core machine the full browser spent more CPU than the two servers it tested, and the
// journeys took 40% longer (CHROMIUM_PATH=/usr/bin/chromium runs them in the full browser).
const PORT = Number(process.env.E2E_PORT ?? 3100);
// The servers mail through here; e2e/password-recovery.spec.ts listens on it while it runs.
export const SMTP_PORT = PORT + 25;
process.env.E2E_DATABASE ??= `gatehouse_e2e_${Date.now()}`;
// "localhost", not 127.0.0.1: WebAuthn refuses IP addresses as relying-party ids.
export const baseURL = `http://localhost:${PORT}`;

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: [["list"]],
  timeout: 30_000,
  globalTeardown: "./e2e/support/global-teardown.ts",
  use: {
    baseURL,
    // A failed journey keeps its trace (actions, network, console; Playwright writes the page's
    // accessibility snapshot beside it): no screencast, which kept the browser painting frames
    // through every journey, and no DOM snapshot per action, which cost the runner CPU the servers need.
    trace: { mode: "retain-on-failure", screenshots: false, snapshots: false },
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium-headless-shell",
      args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
  projects: [
    { name: "first-admin", testMatch: /first-admin\.setup\.ts/, use: { ...devices["Desktop Chrome"] } },
    { name: "chromium", dependencies: ["first-admin"], use: { ...devices["Desktop Chrome"] } },
  ],
  webServer: {
    command: "bash scripts/e2e-server.sh",
    url: `${baseURL}/sign-in`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "pipe",
    // The tests play the TLS-terminating proxy for RFC 8705 (client certificate in a header).
    // E2E_INSTANCES=2: two instances on one database behind a round-robin proxy (scripts/e2e-server.sh).
    // The tests play the apps too: their back-channel logout endpoints listen on 127.0.0.1.
    env: { PORT: String(PORT), E2E_DATABASE: process.env.E2E_DATABASE, E2E_INSTANCES: process.env.E2E_INSTANCES ?? "1", GATEHOUSE_URL: baseURL, GATEHOUSE_TRUSTED_PROXIES: "127.0.0.1,::1", GATEHOUSE_CLIENT_CERT_HEADER: "x-client-cert", GATEHOUSE_SMTP_URL: `smtp://127.0.0.1:${SMTP_PORT}`, GATEHOUSE_WEBHOOK_ALLOWED_HOSTS: "127.0.0.1" },
  },
});
