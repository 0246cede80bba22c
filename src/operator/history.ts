// An order's orchestration history for people: one entry per event the extension reports (task
// results and failures, timers, external events, the start and end), with retry attempts counted,
// and every payment token and card fingerprint removed from inputs and results.
import type { DurableOrchestrationStatus } from "durable-functions";
import { scrubCardNumbers } from "../adapters/scrub";

/** Keys whose values never leave the server. */
const SECRET_KEYS = new Set(["token", "fingerprint", "cardNumber"]);

export function withoutPaymentSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutPaymentSecrets);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => !SECRET_KEYS.has(k))
        .map(([k, v]) => [k, withoutPaymentSecrets(v)]),
    );
  }
  // A token may also sit in a string (an error message): mask anything token-shaped.
  if (typeof value === "string")
    return (scrubCardNumbers(value) as string).replace(/\btok_[A-Za-z0-9_-]+/g, "tok_***");
  return value;
}

export interface HistoryEvent {
  eventType: string;
  name?: string;
  timestamp: string;
  input?: unknown;
  result?: unknown;
  failure?: { reason?: string; details?: unknown };
  retry?: number;
}

type RawEvent = Record<string, unknown>;

export function historyView(status: DurableOrchestrationStatus) {
  const failedBefore = new Map<string, number>();
  const events: HistoryEvent[] = [];
  for (const raw of (status.history ?? []) as RawEvent[]) {
    const eventType = String(raw.EventType ?? "Unknown");
    const name = (raw.FunctionName ?? raw.Name) as string | undefined;
    const event: HistoryEvent = { eventType, timestamp: String(raw.Timestamp ?? "") };
    if (name) event.name = name;
    if (raw.Input !== undefined) event.input = withoutPaymentSecrets(raw.Input);
    if (raw.FireAt !== undefined) event.input = { fireAt: raw.FireAt };
    if (raw.Result !== undefined) event.result = withoutPaymentSecrets(raw.Result);
    if (raw.Reason !== undefined || raw.Details !== undefined || raw.FailureDetails !== undefined) {
      event.failure = withoutPaymentSecrets({
        ...(raw.Reason !== undefined ? { reason: raw.Reason } : {}),
        ...(raw.Details !== undefined ? { details: raw.Details } : {}),
        ...(raw.FailureDetails !== undefined ? { details: raw.FailureDetails } : {}),
      }) as HistoryEvent["failure"];
    }
    if (name && (eventType === "TaskCompleted" || eventType === "TaskFailed")) {
      // Attempt n of an activity = n - 1 failures of it since it last completed.
      const failures = failedBefore.get(name) ?? 0;
      if (failures > 0) event.retry = failures + 1;
      if (eventType === "TaskFailed") failedBefore.set(name, failures + 1);
      else failedBefore.delete(name);
    }
    events.push(event);
  }
  // The SDK's status type has no version; the extension's payload carries it when set.
  const version = (status as unknown as { version?: unknown }).version;
  return {
    instanceId: status.instanceId,
    runtimeStatus: String(status.runtimeStatus),
    ...(typeof version === "string" && version ? { version } : {}),
    events,
  };
}
