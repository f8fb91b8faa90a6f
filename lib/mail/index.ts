import "server-only";
import nodemailer from "nodemailer";
import { readConfig } from "../config";

// Email, through the SMTP server in GATEHOUSE_SMTP_URL: incident notifications and password
// recovery links. Without it, features that need email say so instead of pretending to send.

export type Mail = { to: string; subject: string; text: string; headers?: Record<string, string> };

export const mailConfigured = () => !!readConfig().GATEHOUSE_SMTP_URL;

/** Sends one message; throws with a readable message when email is not set up or the server refuses. Returns the message id. */
export async function sendMail(mail: Mail): Promise<string> {
  const { GATEHOUSE_SMTP_URL, GATEHOUSE_SMTP_FROM } = readConfig();
  if (!GATEHOUSE_SMTP_URL) throw new Error("email is not configured (set GATEHOUSE_SMTP_URL)");
  const info = await nodemailer.createTransport(GATEHOUSE_SMTP_URL).sendMail({ from: GATEHOUSE_SMTP_FROM, ...mail });
  return info.messageId;
}
