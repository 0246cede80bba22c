// The op that ends an instance: its ExecutionCompleted event (with failure details) and, for a
// sub-orchestration, the reply its parent waits for.
import type { EpisodeEffects } from "./decide";
import {
  EventType,
  historyEvent,
  type Delivery,
  type HistoryEvent,
  type InstanceRecord,
  type Op,
  type RuntimeStatus,
} from "./types";

export interface Finish {
  consumed: number[];
  append: HistoryEvent[];
  status: RuntimeStatus;
  output: string;
  customStatus?: string | null;
  failure?: { message: string; details?: string; errorType?: string };
  time: string;
}

export function finishOp(
  inst: InstanceRecord,
  f: Finish,
  fx: EpisodeEffects,
  nextSeq: () => number,
): Extract<Op, { t: "episode" }> {
  const completed: HistoryEvent = historyEvent(EventType.ExecutionCompleted, f.time, {
    OrchestrationStatus: f.status,
    Result: f.output,
  });
  if (f.failure) {
    completed.FailureDetails = {
      ErrorType: f.failure.errorType ?? "OrchestrationFailure",
      ErrorMessage: f.failure.message,
      StackTrace: f.failure.details,
      ...(f.failure.errorType ? { IsNonRetriable: true } : {}),
    };
  }
  const deliveries: Delivery[] = [...fx.deliveries];
  if (inst.parent) deliveries.push(parentReply(inst, f, nextSeq()));
  return {
    t: "episode",
    instanceId: inst.instanceId,
    executionId: inst.executionId,
    consumed: f.consumed,
    append: [...f.append, completed],
    status: f.status,
    output: f.output,
    customStatus: f.customStatus,
    failure: f.failure,
    time: f.time,
    creates: fx.creates,
    deliveries,
  };
}

function parentReply(inst: InstanceRecord, f: Finish, seq: number): Delivery {
  const p = inst.parent!;
  return {
    kind: "instance",
    instanceId: p.instanceId,
    executionId: p.executionId,
    seq,
    event:
      f.status === "Completed"
        ? historyEvent(EventType.SubOrchestrationInstanceCompleted, f.time, {
            TaskScheduledId: p.taskScheduledId,
            Result: f.output,
          })
        : historyEvent(EventType.SubOrchestrationInstanceFailed, f.time, {
            TaskScheduledId: p.taskScheduledId,
            Reason:
              f.failure?.message ??
              `Sub-orchestration '${inst.instanceId}' ended with status ${f.status}: ${f.output}`,
            Details: f.failure?.details ?? "",
          }),
  };
}
