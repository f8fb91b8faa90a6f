import "server-only";
import type PgBoss from "pg-boss";
import { z } from "zod";
// lib/auth's index also loads next-auth (Next.js only); this runs in the worker too.
import { findUser } from "../auth/users";
import { audit, SYSTEM_CONTEXT } from "../audit/context";
import { publicUrl } from "../config";
import { mailConfigured, sendMail } from "../mail";
import { declareQueue, jobQueue } from "../incidents/queue";
import { NOTICE_KINDS, noticeMail, noticeSeries, THROTTLED_NOTICE_KINDS, userNoticeFor, type NoticeEvent, type UserNotice } from "./notices";

// Security notices by mail: the incident engine's detection pass, which reads every audit event
// once and in order whichever instance wrote it, queues a notice for the events people should hear
// about (lib/notices/notices.ts); the job queue delivers it, retrying while the mail server is
// down, and each delivery (or final failure) is an audit event, as is a notice held back by the
// throttle below. Without email configured, nothing is queued.

// A mail server that is down for a while: tried over about an hour (30 s doubling, 7 tries).
const NOTICE_QUEUE: PgBoss.Queue = { name: "user-notice", retryLimit: 6, retryDelay: 30, retryBackoff: true, expireInSeconds: 120 };

/** Whether users get security notices (email is set up): their security page says so. */
export const securityNoticesByMail = mailConfigured;

// News that is stale is not sent (detection that was stopped for a day catches up quietly), and
// a user gets one mail of a throttled kind per quarter hour (notices.ts says which kinds).
const NOTICE_MAX_AGE_MS = 24 * 3_600_000;
const ONE_OF_A_KIND_SECONDS = 15 * 60;

// pg-boss's throttle: one job per series in each fixed quarter-hour slot; a second is not queued.
const throttleOf = (notice: UserNotice): PgBoss.SendOptions =>
  THROTTLED_NOTICE_KINDS.has(notice.kind) ? { singletonKey: noticeSeries(notice), singletonSeconds: ONE_OF_A_KIND_SECONDS } : {};

/**
 * Queues the notice an audit event calls for, if any (false when none, or none now). A notice the
 * throttle holds back is audited as such. Never throws: a queue that fails is logged and audited,
 * and costs the detection pass nothing.
 */
export async function queueUserNotice(event: NoticeEvent, now = Date.now()): Promise<boolean> {
  if (!mailConfigured()) return false;
  const notice = userNoticeFor(event);
  if (!notice || now - Date.parse(notice.at) > NOTICE_MAX_AGE_MS) return false;
  try {
    const queue = await jobQueue();
    // The job's id is the audit event's: an event read again after a crash queues nothing twice.
    if ((await queue.send(NOTICE_QUEUE.name, notice, { id: event.id, ...throttleOf(notice) })) !== null) return true;
    if (await queue.getJobById(NOTICE_QUEUE.name, event.id, { includeArchive: true })) return false; // queued when first read
    await noticeNotQueued(notice);
    return false;
  } catch (error) {
    console.error("[notices] queueing a security notice failed:", error instanceof Error ? error.message : error);
    await noticeAudit(notice, "failure", { error: "not queued" }).catch(() => undefined);
    return false;
  }
}

/** The audit event of a notice the queue did not take: held back by the throttle, by design, or refused (which nothing should). */
function noticeNotQueued(notice: UserNotice) {
  return THROTTLED_NOTICE_KINDS.has(notice.kind)
    ? noticeAudit(notice, "blocked", { reason: "throttled: one of its kind was already queued this quarter hour" })
    : noticeAudit(notice, "failure", { error: "not queued" });
}

// A job's data is read back from the database: checked before use.
const userNoticeSchema = z.object({
  auditSeq: z.string().regex(/^\d+$/), userId: z.uuid(), kind: z.enum(NOTICE_KINDS), at: z.iso.datetime(),
  detail: z.string().max(300).nullable(), device: z.string().max(200).nullable(), place: z.string().max(200).nullable(), ip: z.string().max(100).nullable(),
});

/** The audit event of a notice's delivery (or of its not being sent); `notice` is null for a job that was not one. */
function noticeAudit(notice: UserNotice | null, outcome: "success" | "failure" | "blocked", metadata: Record<string, string> = {}) {
  return audit(SYSTEM_CONTEXT, {
    type: "security", action: "user.notice.mail", outcome, resource: notice ? { type: "user", id: notice.userId } : null,
    metadata: notice ? { kind: notice.kind, auditSeq: notice.auditSeq, ...metadata } : metadata,
  });
}

/**
 * Mails one notice. Throws when the mail server refuses (or the database fails), so the queue
 * tries again; `lastTry` records the failure first. A job that is not a notice is recorded as a
 * failure and dropped: trying it again cannot help.
 */
export async function deliverUserNotice(data: unknown, { lastTry = false } = {}): Promise<"sent" | "no_account" | "invalid"> {
  const parsed = userNoticeSchema.safeParse(data);
  if (!parsed.success) {
    await noticeAudit(null, "failure", { error: "not a notice" });
    return "invalid";
  }
  const notice = parsed.data;
  const user = await findUser(notice.userId);
  if (!user) return "no_account";
  try {
    await sendMail(noticeMail(notice, user, publicUrl("/account/security").href));
  } catch (error) {
    if (lastTry) await noticeAudit(notice, "failure", { error: (error instanceof Error ? error.message : String(error)).slice(0, 200) });
    throw error;
  }
  await noticeAudit(notice, "success");
  return "sent";
}

/** Delivers queued notices (where the incident worker runs, before its detection pass queues any). */
export async function workUserNotices(queue: PgBoss): Promise<void> {
  await declareQueue(queue, NOTICE_QUEUE);
  await queue.work(NOTICE_QUEUE.name, { batchSize: 1, pollingIntervalSeconds: 1, includeMetadata: true }, async ([job]) => {
    await deliverUserNotice(job!.data, { lastTry: job!.retryCount >= job!.retryLimit });
  });
}
