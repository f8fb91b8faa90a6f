import "server-only";
import nodemailer from "nodemailer";
import SMTPTransport from "nodemailer/lib/smtp-transport";
import { readConfig } from "../config";
import { isLoopbackHostname } from "../util/loopback";

// Email, through the SMTP server in GATEHOUSE_SMTP_URL: incident notifications and password
// recovery links. Without it, features that need email say so instead of pretending to send.

export type Mail = { to: string; subject: string; text: string; headers?: Record<string, string> };

const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 };

export const mailConfigured = () => !!readConfig().GATEHOUSE_SMTP_URL;

/** Sends one message; throws with a readable message when email is not set up or the server refuses. Returns the message id. */
export async function sendMail(mail: Mail): Promise<string> {
  const { GATEHOUSE_SMTP_URL, GATEHOUSE_SMTP_FROM } = readConfig();
  if (!GATEHOUSE_SMTP_URL) throw new Error("email is not configured (set GATEHOUSE_SMTP_URL)");
  // Seconds, not nodemailer's minutes: a playbook run holds its lease for 120 s, and a stalled
  // server must fail the step (to be retried) rather than outlast the lease and run it twice.
  // (Given as an object with `url`, createTransport would keep the URL's settings only.)
  const info = await nodemailer.createTransport(new SMTPTransport(smtpOptions(GATEHOUSE_SMTP_URL))).sendMail({ from: GATEHOUSE_SMTP_FROM, ...mail });
  return info.messageId;
}

/**
 * Sends without failing the caller (a link or notice mailed after the answer went out): a refused
 * delivery is logged as `what`, never with the mail's text (it may hold a link).
 */
export const sendMailLogged = (what: string, mail: Mail): Promise<void> =>
  sendMail(mail).then(
    () => undefined,
    (error: unknown) => console.error(`Sending ${what} failed:`, error instanceof Error ? error.message : error),
  );

/**
 * The transport's options: STARTTLS is required (recovery links and the SMTP password must not
 * cross the network in clear because someone on the way stripped the server's offer), except with
 * smtps: (TLS from the start), to a relay on this machine, or when the URL says `requireTLS=false`.
 */
export function smtpOptions(url: string): SMTPTransport.Options {
  const parsed = new URL(url);
  const requireTLS = parsed.protocol !== "smtps:" && !isLoopbackHostname(parsed.hostname) && parsed.searchParams.get("requireTLS") !== "false";
  return { url, ...SMTP_TIMEOUTS, requireTLS };
}

/** How mail reaches the relay: TLS from the start, STARTTLS required, a relay on this machine, or possibly in clear. */
export type MailProtection = "tls" | "starttls_required" | "this_machine" | "none";

/**
 * Where mail goes (the host only: the URL may carry the relay's password) and how it is protected
 * on the way, judged from the options nodemailer will use: the URL's own query (`ignoreTLS=true`,
 * `requireTLS=0`) overrides what smtpOptions asks for.
 */
export function mailTransport(): { host: string; protection: MailProtection } | null {
  const url = readConfig().GATEHOUSE_SMTP_URL;
  if (!url) return null;
  // The host too: a `service=` preset in the query replaces the URL's.
  const used = new SMTPTransport(smtpOptions(url)).options;
  const host = used.host ?? new URL(url).hostname;
  const protection = used.secure ? "tls" : isLoopbackHostname(host) ? "this_machine" : used.ignoreTLS || !used.requireTLS ? "none" : "starttls_required";
  return { host: used.port ? `${host}:${used.port}` : host, protection };
}
