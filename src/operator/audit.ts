// Writes the audit entry of an operator or approver action: who (from the token), what, when, why.
// Called after the action took effect, so the log never claims an action that did not happen.
import { randomUUID } from "node:crypto";
import type { Actor, AuditEntry } from "../adapters/ports";
import { getServices } from "../adapters/services";
import type { Caller } from "../auth/rights";

export function actorOf(caller: Caller): Actor {
  return { id: caller.id, name: caller.name ?? caller.id };
}

/** Approvals and cancels take an optional reason; the entry says so when none was given. */
export const reasonOrNone = (reason: string | undefined) => reason ?? "(no reason given)";

export async function audit(
  caller: Caller,
  action: string,
  target: AuditEntry["target"],
  reason: string,
  details?: Record<string, unknown>,
  now: Date = new Date(),
): Promise<AuditEntry> {
  const entry: AuditEntry = {
    id: randomUUID(),
    at: now.toISOString(),
    actor: actorOf(caller),
    action,
    target,
    reason,
    ...(details ? { details } : {}),
  };
  await getServices().audit.record(entry);
  return entry;
}
