// Turns one episode's replay decisions into op parts (instances to create, messages to deliver;
// durable with the episode's op) and dispatches that may only happen after the commit
// (activities to queue, timers to arm, retry failures to feed back).
import { randomUUID } from "node:crypto";
import { nowIso, type FunctionRegistry } from "./functions";
import type { Decision } from "./replay";
import type { Scheduler } from "./scheduler";
import type { EngineState } from "./state";
import type { Timers } from "./timers";
import {
  EventType,
  TERMINAL,
  historyEvent,
  type CreateInstance,
  type Delivery,
  type EntityRequest,
  type InstanceRecord,
} from "./types";

export interface EpisodeEffects {
  creates: CreateInstance[];
  deliveries: Delivery[];
  afterCommit: (() => void)[];
}

export interface DecideContext {
  state: EngineState;
  scheduler: Scheduler;
  timers: Timers;
  functions: FunctionRegistry;
  defaultVersion: string;
}

export function decide(
  cx: DecideContext,
  inst: InstanceRecord,
  decisions: Decision[],
): EpisodeEffects {
  const fx: EpisodeEffects = { creates: [], deliveries: [], afterCommit: [] };
  const { instanceId, executionId } = inst;
  const time = nowIso();
  for (const d of decisions) {
    switch (d.kind) {
      case "activity":
      case "http": {
        const item = { instanceId, executionId, id: d.id, attempt: 0 };
        fx.afterCommit.push(() =>
          cx.scheduler.enqueueActivity(
            d.kind === "http"
              ? {
                  ...item,
                  name: "BuiltIn::HttpActivity",
                  input: JSON.stringify(d.request),
                  http: d.request,
                }
              : { ...item, name: d.name, input: d.input },
          ),
        );
        break;
      }
      case "timer":
        fx.afterCommit.push(() => cx.timers.arm(instanceId, executionId, d.id, d.fireAt));
        break;
      case "failAttempt":
        fx.afterCommit.push(() =>
          cx.scheduler.pushVolatile(
            instanceId,
            executionId,
            historyEvent(
              d.subOrchestration ? EventType.SubOrchestrationInstanceFailed : EventType.TaskFailed,
              nowIso(),
              { TaskScheduledId: d.id, Reason: d.reason, Details: d.details },
            ),
          ),
        );
        break;
      case "subOrchestration":
        subOrchestration(cx, inst, d, fx, time);
        break;
      case "entity": {
        const request: EntityRequest = {
          seq: cx.state.nextSeq(),
          op: d.op,
          input: d.input,
          signal: d.signal,
          id: d.requestId,
          time,
        };
        if (!d.signal) {
          request.parent = instanceId;
          request.parentExecution = executionId;
        }
        fx.deliveries.push({ kind: "entity", entityId: d.entityId, request });
        break;
      }
    }
  }
  return fx;
}

/** A child instance to create, or a failure reply when its id is taken by a running one. */
function subOrchestration(
  cx: DecideContext,
  inst: InstanceRecord,
  d: Extract<Decision, { kind: "subOrchestration" }>,
  fx: EpisodeEffects,
  time: string,
): void {
  const { instanceId, executionId } = inst;
  const existing = cx.state.statusOf(d.instanceId);
  const pendingCreate = fx.creates.some((c) => c.instanceId === d.instanceId);
  if ((existing && !TERMINAL.has(existing)) || pendingCreate || d.instanceId === instanceId) {
    fx.deliveries.push({
      kind: "instance",
      instanceId,
      executionId,
      seq: cx.state.nextSeq(),
      event: historyEvent(EventType.SubOrchestrationInstanceFailed, time, {
        TaskScheduledId: d.id,
        Reason: `An orchestration with instance ID '${d.instanceId}' already exists and is not in a terminal state.`,
        Details: "",
      }),
    });
    return;
  }
  if (existing) fx.afterCommit.push(() => cx.timers.cancelAllOf(d.instanceId));
  fx.creates.push({
    instanceId: d.instanceId,
    name: cx.functions.get(d.name)?.name ?? d.name,
    // Sub-orchestrations without a version get the default too.
    version: d.version || cx.defaultVersion,
    executionId: randomUUID(),
    input: d.input,
    parent: { instanceId, executionId, taskScheduledId: d.id },
    time,
    seq: cx.state.nextSeq(),
  });
}
