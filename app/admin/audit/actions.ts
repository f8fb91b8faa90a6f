"use server";
import { z } from "zod";
import { verifyChainAndRecord } from "@/lib/audit";
import { guardedAction } from "@/lib/auth";

// Verifying reads the chain and records the result: auditors, who may only view, must be able to.
export const verifyChainAction = guardedAction({ section: "audit", action: "view" }, z.object({}), async (_input, _user, ctx) => {
  const result = await verifyChainAndRecord("console", ctx);
  return result.ok
    ? { ok: true, message: `Chain verified: ${result.eventsChecked} events (sequence ${result.firstSeq ?? "–"} to ${result.lastSeq ?? "–"}) and ${result.checkpointsChecked} signed checkpoints hold, in ${result.durationMs} ms.` }
    : { ok: false, message: `Chain broken at sequence ${result.firstBadSeq}: ${result.problem}. ${result.eventsChecked} events before it verified.` };
});
