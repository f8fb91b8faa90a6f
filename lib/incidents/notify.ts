import "server-only";
import { createHmac } from "node:crypto";
import { sendMail } from "../mail";
import type { ChannelTarget } from "./channels";
import { DestinationRefusedError, postToWebhook, type Resolver } from "../http/destinations";

// Sending notifications. Webhooks are signed the way Stripe and Svix sign theirs, so receivers can
// reuse what they know: header `Gatehouse-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
// "<t>.<body>">`; `Gatehouse-Delivery` is the same on every retry of one notification, so a receiver
// drops repeats (a retried playbook step sends again: delivery is at least once).

export const SIGNATURE_HEADER = "gatehouse-signature";
export const DELIVERY_HEADER = "gatehouse-delivery";
const WEBHOOK_TIMEOUT_MS = 10_000;

export type Notification = { deliveryId: string; subject: string; text: string; payload: Record<string, unknown> };

export function signWebhook(secret: string, body: string, timestamp: number): string {
  const mac = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${mac}`;
}

/**
 * Sends; throws with a readable message when the receiver or the mail server refuses, or when the
 * webhook's destination is not allowed (`resolve` stands in for DNS in tests).
 */
export async function sendNotification(channel: ChannelTarget, notification: Notification, resolve?: Resolver): Promise<string> {
  if (channel.kind === "webhook") {
    const body = JSON.stringify({ id: notification.deliveryId, subject: notification.subject, ...notification.payload });
    const headers = { "content-type": "application/json", [SIGNATURE_HEADER]: signWebhook(channel.secret, body, Math.floor(Date.now() / 1000)), [DELIVERY_HEADER]: notification.deliveryId };
    const status = await postToWebhook(new URL(channel.url), headers, body, WEBHOOK_TIMEOUT_MS, resolve).catch((error: unknown) => {
      if (error instanceof DestinationRefusedError) {
        throw new Error(`webhook ${channel.name} not sent: ${error.message}. Webhooks go to public addresses only; list an internal receiver in GATEHOUSE_WEBHOOK_ALLOWED_HOSTS.`);
      }
      throw new Error(`webhook ${channel.name} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
    if (status < 200 || status > 299) throw new Error(`webhook ${channel.name} answered ${status}`);
    return `webhook ${channel.name} answered ${status}`;
  }
  const messageId = await sendMail({ to: channel.to, subject: notification.subject, text: notification.text, headers: { "X-Gatehouse-Delivery": notification.deliveryId } });
  return `email to ${channel.to} accepted (${messageId})`;
}
