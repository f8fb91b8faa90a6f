import "server-only";
import { db } from "../db/client";
import { SYSTEM_CONTEXT, type AuditContext } from "./context";
import { recordAuditEvent } from "./record";
import { readChainHead } from "./store";
import { verifyChain, type ChainVerification } from "./verify";
import { everyHour } from "../util/hourly";

const HOUR_MS = 3_600_000;

/**
 * Walks the whole chain and records the result as an audit.chain.verify event: a failure raises
 * the tamper-detection incident (lib/incidents/rules.ts), and SOC 2 CC7.2 looks for a recent one.
 */
export async function verifyChainAndRecord(via: "console" | "cli" | "schedule", ctx: AuditContext): Promise<ChainVerification> {
  const result = await verifyChain();
  await recordAuditEvent({
    type: "security", action: "audit.chain.verify", outcome: result.ok ? "success" : "failure", actor: ctx.actor, client: ctx.client,
    metadata: { via, eventsChecked: result.eventsChecked, firstSeq: result.firstSeq, lastSeq: result.lastSeq, firstBadSeq: result.firstBadSeq, problem: result.problem },
  });
  return result;
}

export type ChainVerificationRecord = { seq: string; at: string; outcome: string; eventsChecked: unknown; problem: unknown };

/** The newest audit.chain.verify event (who ran it aside): when, how it ended, and what it found. */
export async function lastChainVerification(): Promise<ChainVerificationRecord | null> {
  // Within the chain only: a row inserted beyond the head must not pass for a recent verification.
  const head = await readChainHead();
  const last = await db().auditEvent.findFirst({ where: { action: "audit.chain.verify", seq: { lte: head.seq } }, orderBy: { seq: "desc" }, select: { seq: true, at: true, outcome: true, metadata: true } });
  if (!last) return null;
  const { eventsChecked, problem } = (last.metadata ?? {}) as { eventsChecked?: unknown; problem?: unknown };
  return { seq: last.seq.toString(), at: last.at.toISOString(), outcome: last.outcome, eventsChecked, problem };
}

/** Verifies the chain unless someone (a person, the CLI, another instance) did within 23 hours; true if it ran. */
export async function verifyChainIfDue(now = new Date()): Promise<boolean> {
  const last = await lastChainVerification();
  if (last && now.getTime() - new Date(last.at).getTime() < 23 * HOUR_MS) return false;
  await verifyChainAndRecord("schedule", SYSTEM_CONTEXT);
  return true;
}

/** Hourly in this process: verifies the chain when no verification is recorded from the last 23 hours. */
export function scheduleChainVerification(): void {
  everyHour("audit scheduled verification", 10 * 60_000, verifyChainIfDue);
}
