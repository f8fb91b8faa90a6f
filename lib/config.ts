// Environment, validated. Not "server-only": the custom server (server.ts)
// and CLI scripts read it too. Nothing here is ever sent to a browser.
import { z } from "zod";

const schema = z.object({
  DATABASE_URL: z.string().min(1).optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  // "off" behind a pooler that hands each transaction a different server connection (PgBouncer in
  // transaction mode before 1.21, or without max_prepared_statements): see lib/db/client.ts preparedName.
  DATABASE_PREPARED_STATEMENTS: z.enum(["on", "off"]).default("on"),
  GATEHOUSE_DATA_DIR: z.string().min(1).default("./data"),
  // The log file the server and worker copy their output to, and the compliance checks scan for
  // credentials (default: logs/gatehouse.log in the data directory; "off" writes none).
  GATEHOUSE_LOG_FILE: z.string().min(1).optional(),
  GATEHOUSE_URL: z.url().optional(),
  AUTH_SECRET: z.string().min(32).optional(),
  GATEHOUSE_ADMIN_EMAIL: z.email().optional(),
  GATEHOUSE_ADMIN_PASSWORD: z.string().optional(),
  GATEHOUSE_TRUSTED_PROXIES: z.string().default(""),
  // A header in which your TLS-terminating trusted proxy forwards the client certificate
  // (URL-encoded PEM, e.g. nginx's $ssl_client_escaped_cert): enables RFC 8705 bound tokens.
  GATEHOUSE_CLIENT_CERT_HEADER: z.string().regex(/^[A-Za-z0-9-]+$/).optional(),
  // A header your trusted proxy or CDN sets with the client's approximate place (e.g. cf-ipcountry).
  GATEHOUSE_LOCATION_HEADER: z.string().regex(/^[A-Za-z0-9-]+$/).optional(),
  // MMDB files for IP geolocation (lib/geo); the default is the shipped DB-IP City Lite.
  GATEHOUSE_GEOIP_CITY_DB: z.string().min(1).optional(),
  GATEHOUSE_GEOIP_ASN_DB: z.string().min(1).optional(),
  // How old the policy set in force may be before an instance checks for a newer version.
  GATEHOUSE_POLICY_REFRESH_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  // The time zone of the policies' local hour and weekday (context.hour, context.dayOfWeek): an IANA name.
  GATEHOUSE_TIME_ZONE: z.string().default("UTC").refine((zone) => {
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, "Give an IANA time zone, such as Europe/Berlin or America/New_York."),
  // Share of decision-point API decisions recorded in the audit log (0–1).
  GATEHOUSE_PDP_AUDIT_SAMPLE: z.coerce.number().min(0).max(1).default(0.01),
  // New passwords (lib/auth/password-screening.ts): the lowest zxcvbn score accepted (0–4; 4 takes
  // about 10^10 guesses or more), and a Pwned Passwords range API to check them against (off when unset).
  GATEHOUSE_PASSWORD_MIN_SCORE: z.coerce.number().int().min(0).max(4).default(4),
  GATEHOUSE_PWNED_PASSWORDS_URL: z.url({ protocol: /^https?$/ }).optional(),
  GATEHOUSE_SESSION_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
  // A session unused for this long ends (0: never). At least 5: its last use is written once a minute.
  GATEHOUSE_SESSION_IDLE_MINUTES: z.coerce.number().int().refine((m) => m === 0 || (m >= 5 && m <= 7 * 24 * 60), "0, or 5 to 10080").default(60),
  // Roles whose members must have a second factor; they enroll at their next sign-in.
  GATEHOUSE_MFA_REQUIRED_ROLES: z
    .string()
    .default("admin")
    .transform((v) => v.split(",").map((r) => r.trim()).filter(Boolean))
    .pipe(z.array(z.enum(["user", "admin", "analyst", "auditor"]))),
  // 0 keeps audit events forever. SOC 2 auditors usually ask for at least a year.
  GATEHOUSE_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(400),
  // How long after a rotation's first checkpoint with the new audit signing key instances still on
  // the old one may sign checkpoints (lib/audit/key-periods.ts): a rolling restart's length. At most
  // a day, the shortest retention period, so that a purge run on an old instance during it cannot
  // anchor past the rotation.
  GATEHOUSE_AUDIT_KEY_OVERLAP_MINUTES: z.coerce.number().int().min(0).max(1_440).default(60),
  // The OIDC signing keys rotate when this many days old (checked hourly); 0 leaves it to admins.
  // Under the 90 days that SOC 2 CC6.1 is tested against (lib/compliance/checks.ts).
  GATEHOUSE_SIGNING_KEY_ROTATION_DAYS: z.coerce.number().int().min(0).max(3_650).default(85),
  // Forensic snapshots (copies of sessions, sign-ins and audit events, addresses decrypted) are
  // deleted this many days after capture; 0 keeps them (a legal hold, say).
  GATEHOUSE_FORENSIC_SNAPSHOT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(400),
  // Sign-in attempts (emails, IPs, places) are deleted after this many days; 0 keeps them.
  GATEHOUSE_LOGIN_ATTEMPT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(90),
  // Incidents (lib/incidents): "off" leaves detection and playbooks to other instances or to
  // `npm run worker`. A playbook job not finished in time is retried (the dead worker's lease ends).
  GATEHOUSE_INCIDENT_WORKER: z.enum(["on", "off"]).default("on"),
  GATEHOUSE_DETECTION_INTERVAL_MS: z.coerce.number().int().min(100).max(600_000).default(2_000),
  GATEHOUSE_PLAYBOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(2).max(3_600).default(120),
  // Email for notify and escalate steps, e.g. smtp://user:pass@mail.example.com:587.
  GATEHOUSE_SMTP_URL: z.url().optional(),
  GATEHOUSE_SMTP_FROM: z.string().min(3).default("Gatehouse <gatehouse@localhost>"),
  // Receivers inside your own network (lib/http/destinations.ts): host names, IP addresses or CIDR
  // ranges that webhooks and back-channel logout tokens may reach although they are not public. A host name
  // must contain a letter, so a mistyped address (999.1.1.1) is not taken for a name.
  GATEHOUSE_WEBHOOK_ALLOWED_HOSTS: z
    .string()
    .default("")
    .transform((v) => v.split(",").map((e) => e.trim().toLowerCase().replace(/\.$/, "")).filter(Boolean))
    .pipe(z.array(z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6(), z.hostname().regex(/[a-z]/)], { error: "Enter host names, IP addresses or CIDR ranges (such as 10.20.0.0/16), separated by commas." }))),
});

export type Config = z.infer<typeof schema>;

// Called on hot paths (every token grant and decision asks for the issuer): the parse is reused
// while the variables it reads are unchanged, and redone when one changes (tests and server.ts
// set some after start).
const NAMES = Object.keys(schema.shape);
let parsedFor: { values: string; config: Config } | null = null;

/** An absolute URL on Gatehouse's public address (GATEHOUSE_URL; http://localhost:3000 when unset). */
export function publicUrl(path = "/"): URL {
  return new URL(path, readConfig().GATEHOUSE_URL ?? "http://localhost:3000");
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const values = NAMES.map((name) => env[name] ?? "\u0000").join("\u0001");
  if (parsedFor?.values === values) return parsedFor.config;
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n");
    throw new Error(`Invalid environment:\n${problems}`);
  }
  parsedFor = { values, config: Object.freeze(parsed.data) };
  return parsedFor.config;
}
