// Matches the actions an orchestrator returned against its history, the way the extension's
// OutOfProcOrchestrationShim + DTFx do: every action is "invoked" in order (awaiting each one, as
// the V2 shim does), ids are handed out in invocation order, retries and HTTP polling take new ids
// while history is processed, and an id whose recorded scheduling event differs in kind or name
// from the replayed action is a non-deterministic orchestrator. Ids with no recorded event become
// new decisions. Pure: no I/O, so the numbering is testable on its own.
import { randomUUID } from "node:crypto";
import {
  ActionType,
  EventType,
  type HistoryEvent,
  type RetryOptionsPayload,
  type SdkAction,
} from "./types";

export type Decision =
  | { kind: "activity"; id: number; name: string; input: string }
  | { kind: "timer"; id: number; fireAt: string }
  | {
      kind: "subOrchestration";
      id: number;
      name: string;
      instanceId: string;
      input: string | null;
      version: string;
    }
  | {
      kind: "entity";
      id: number;
      entityId: string;
      op: string;
      input?: string;
      signal: boolean;
      requestId: string;
    }
  | { kind: "http"; id: number; request: Record<string, unknown> }
  /** A retry attempt after retryTimeout ran out: fails at once without running. */
  | { kind: "failAttempt"; id: number; subOrchestration: boolean; reason: string; details: string };

export interface ReplayResult {
  /** Scheduling events for the new decisions, in id order of allocation. */
  newEvents: HistoryEvent[];
  decisions: Decision[];
  canceledTimers: number[];
  continueAsNew?: { input: string | null };
  nonDeterminism?: string;
}

const HTTP_ACTIVITY = "BuiltIn::HttpActivity";

interface SimTask {
  done: boolean;
  failed: boolean;
  parent?: SimParent;
}
interface SimParent {
  childDone(child: SimTask): void;
}

class ReplayError extends Error {}

function finish(task: SimTask, failed: boolean): void {
  if (task.done) return;
  task.done = true;
  task.failed = failed;
  task.parent?.childDone(task);
}

/** String inputs of activity and continue-as-new actions arrive JSON-encoded once more. */
function decodeDoubleEncoded(input: unknown): unknown {
  if (typeof input === "string") {
    try {
      return JSON.parse(input);
    } catch {
      return input;
    }
  }
  return input;
}

export function jsonText(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value);
}

function describe(ev: HistoryEvent): string {
  switch (ev.EventType) {
    case EventType.TaskScheduled:
      return ev.Name === HTTP_ACTIVITY
        ? "an HTTP call"
        : `an activity task named '${String(ev.Name)}'`;
    case EventType.TimerCreated:
      return "a timer";
    case EventType.SubOrchestrationInstanceCreated:
      return `a sub-orchestration named '${String(ev.Name)}'`;
    case EventType.EventSent:
      return `an entity operation for '${String(ev.InstanceId)}'`;
    default:
      return `an event of type ${ev.EventType}`;
  }
}

export interface ReplayOptions {
  instanceId: string;
  /** The orchestration's events so far, including this episode's new ones. */
  history: HistoryEvent[];
  actions: SdkAction[];
  now: Date;
  executionId: string;
  defaultHttpSleepMs?: number;
}

export function replay(options: ReplayOptions): ReplayResult {
  const { history, instanceId } = options;
  const result: ReplayResult = { newEvents: [], decisions: [], canceledTimers: [] };
  let currentTime = new Date(0);
  for (const ev of history) {
    if (ev.EventType === EventType.OrchestratorStarted) {
      currentTime = new Date(ev.Timestamp);
      break;
    }
  }
  const recorded = new Map<number, HistoryEvent>();
  const completed = new Set<number>();
  for (const ev of history) {
    switch (ev.EventType) {
      case EventType.TaskScheduled:
      case EventType.TimerCreated:
      case EventType.SubOrchestrationInstanceCreated:
      case EventType.EventSent:
        recorded.set(ev.EventId, ev);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed:
        completed.add(Number(ev.TaskScheduledId));
        break;
    }
  }

  let seq = 0;
  const allocated = new Set<number>();
  const byId = new Map<number, Leaf>();
  const byGuid = new Map<string, Leaf>();
  const waiters = new Map<string, SimTask[]>();
  const buffered = new Map<string, number>();
  const deferred = new Map<number, HistoryEvent[]>();

  const nowIso = (d: Date) => d.toISOString();

  class Leaf implements SimTask {
    done = false;
    failed = false;
    parent?: SimParent;
    lastEvent?: HistoryEvent;
    constructor(readonly id: number) {}
  }

  /** Checks an id against its recorded scheduling event; returns true when it is new. */
  function allocate(
    expectedType: number,
    matches: (ev: HistoryEvent) => boolean,
    what: string,
  ): { id: number; existing?: HistoryEvent } {
    const id = seq++;
    allocated.add(id);
    const existing = recorded.get(id);
    if (existing && (existing.EventType !== expectedType || !matches(existing))) {
      throw new ReplayError(
        `Non-deterministic workflow detected: a previous execution of orchestration '${instanceId}' ` +
          `scheduled ${describe(existing)} with sequence ID ${id}, but the current replay scheduled ${what} ` +
          `instead. Was the orchestrator code changed while this instance was running?`,
      );
    }
    return { id, existing };
  }

  function track(leaf: Leaf): Leaf {
    byId.set(leaf.id, leaf);
    const pending = deferred.get(leaf.id);
    if (pending) {
      deferred.delete(leaf.id);
      for (const ev of pending) completeLeaf(leaf, ev);
    }
    return leaf;
  }

  function scheduleActivity(name: string, input: unknown): Leaf {
    const { id, existing } = allocate(
      EventType.TaskScheduled,
      (ev) => ev.Name === name,
      `an activity task named '${name}'`,
    );
    if (!existing) {
      const text = jsonText(input);
      result.newEvents.push(ev(EventType.TaskScheduled, id, { Name: name, Input: text }));
      result.decisions.push({ kind: "activity", id, name, input: text });
    }
    return track(new Leaf(id));
  }

  function scheduleTimer(fireAt: Date, canceled = false): Leaf {
    const { id, existing } = allocate(EventType.TimerCreated, () => true, "a timer");
    if (!existing) {
      result.newEvents.push(ev(EventType.TimerCreated, id, { FireAt: nowIso(fireAt) }));
      if (!canceled) result.decisions.push({ kind: "timer", id, fireAt: nowIso(fireAt) });
    } else if (canceled) {
      result.canceledTimers.push(id);
    }
    return track(new Leaf(id));
  }

  function scheduleSubOrchestration(action: SdkAction): Leaf {
    const name = String(action.functionName);
    const { id, existing } = allocate(
      EventType.SubOrchestrationInstanceCreated,
      (e) => e.Name === name,
      `a sub-orchestration named '${name}'`,
    );
    if (!existing) {
      const childId = action.instanceId || `${instanceId}:${id}`;
      const input = action.input === undefined ? null : jsonText(action.input);
      result.newEvents.push(
        ev(EventType.SubOrchestrationInstanceCreated, id, {
          Name: name,
          InstanceId: childId,
          Input: input,
        }),
      );
      result.decisions.push({
        kind: "subOrchestration",
        id,
        name,
        instanceId: childId,
        input,
        version: action.version ?? "",
      });
    }
    return track(new Leaf(id));
  }

  function scheduleHttp(request: Record<string, unknown>): Leaf {
    const { id, existing } = allocate(
      EventType.TaskScheduled,
      (e) => e.Name === HTTP_ACTIVITY,
      "an HTTP call",
    );
    if (!existing) {
      result.newEvents.push(
        ev(EventType.TaskScheduled, id, { Name: HTTP_ACTIVITY, Input: JSON.stringify(request) }),
      );
      result.decisions.push({ kind: "http", id, request });
    }
    return track(new Leaf(id));
  }

  function scheduleEntity(action: SdkAction, signal: boolean): Leaf {
    const entityId = String(action.instanceId);
    const op = String(action.operation);
    const { id, existing } = allocate(
      EventType.EventSent,
      (e) => {
        if (e.InstanceId !== entityId) return false;
        try {
          const req = JSON.parse(String(e.Input)) as { op?: string };
          return req.op === op;
        } catch {
          return false;
        }
      },
      `an entity operation '${op}' for '${entityId}'`,
    );
    const leaf = new Leaf(id);
    let requestId: string;
    if (existing) {
      requestId = (JSON.parse(String(existing.Input)) as { id: string }).id;
    } else {
      requestId = randomUUID();
      const input = action.input === undefined ? undefined : JSON.stringify(action.input);
      const request = {
        op,
        signal,
        input,
        id: requestId,
        parent: signal ? undefined : instanceId,
        parentExecution: signal ? undefined : options.executionId,
      };
      result.newEvents.push(
        ev(EventType.EventSent, id, {
          InstanceId: entityId,
          Name: "op",
          Input: JSON.stringify(request),
        }),
      );
      result.decisions.push({ kind: "entity", id, entityId, op, input, signal, requestId });
    }
    if (signal) {
      finish(leaf, false);
    } else {
      byGuid.set(requestId, leaf);
    }
    return leaf;
  }

  function ev(type: number, id: number, fields: Record<string, unknown>): HistoryEvent {
    return {
      EventType: type as HistoryEvent["EventType"],
      EventId: id,
      IsPlayed: false,
      Timestamp: nowIso(options.now),
      ...fields,
    };
  }

  /** callActivityWithRetry / callSubOrchestratorWithRetry, as DTFx's RetryInterceptor runs them. */
  class RetryTask implements SimTask, SimParent {
    done = false;
    failed = false;
    parent?: SimParent;
    attempt = 1;
    waitingOnTimer = false;
    expired = false;
    lastFailure?: HistoryEvent;
    readonly firstAttempt = currentTime;
    constructor(
      readonly action: SdkAction,
      readonly options: RetryOptionsPayload,
      readonly subOrchestration: boolean,
    ) {
      this.adopt(this.scheduleAttempt());
    }
    adopt(task: SimTask): void {
      task.parent = this;
      if (task.done) this.childDone(task);
    }
    scheduleAttempt(): Leaf {
      if (this.subOrchestration) return scheduleSubOrchestration(this.action);
      return scheduleActivity(
        String(this.action.functionName),
        decodeDoubleEncoded(this.action.input),
      );
    }
    childDone(child: SimTask): void {
      if (this.waitingOnTimer) {
        this.waitingOnTimer = false;
        if (this.attempt > this.options.maxNumberOfAttempts) {
          finish(this, true);
          return;
        }
        if (this.expired) {
          const id = seq++;
          allocated.add(id);
          if (!completed.has(id)) {
            const f = this.lastFailure;
            result.decisions.push({
              kind: "failAttempt",
              id,
              subOrchestration: this.subOrchestration,
              reason: String(f?.Reason ?? "Retry timeout expired"),
              details: String(f?.Details ?? ""),
            });
          }
          this.adopt(track(new Leaf(id)));
          return;
        }
        this.adopt(this.scheduleAttempt());
        return;
      }
      if (!child.failed) {
        finish(this, false);
        return;
      }
      this.lastFailure = (child as Leaf).lastEvent;
      const o = this.options;
      const retryIndex = this.attempt - 1;
      this.attempt++;
      let delay =
        o.firstRetryIntervalInMilliseconds * Math.pow(o.backoffCoefficient ?? 1, retryIndex);
      if (o.maxRetryIntervalInMilliseconds && o.maxRetryIntervalInMilliseconds > 0) {
        delay = Math.min(delay, o.maxRetryIntervalInMilliseconds);
      }
      if (
        o.retryTimeoutInMilliseconds &&
        o.retryTimeoutInMilliseconds > 0 &&
        currentTime.getTime() >= this.firstAttempt.getTime() + o.retryTimeoutInMilliseconds
      ) {
        this.expired = true;
        delay = 0;
      }
      this.waitingOnTimer = true;
      this.adopt(scheduleTimer(new Date(currentTime.getTime() + delay)));
    }
  }

  /** callHttp with the async pattern: 202 + Location → timer, then poll Location. */
  class HttpPollingTask implements SimTask, SimParent {
    done = false;
    failed = false;
    parent?: SimParent;
    pendingPoll?: { id: number; request: Record<string, unknown> };
    constructor(readonly request: Record<string, unknown>) {
      this.adopt(scheduleHttp(request));
    }
    adopt(task: SimTask): void {
      task.parent = this;
      if (task.done) this.childDone(task);
    }
    childDone(child: SimTask): void {
      if (child.failed) {
        finish(this, true);
        return;
      }
      if (this.pendingPoll) {
        // The timer fired: issue the poll with the id reserved for it.
        const { id, request } = this.pendingPoll;
        this.pendingPoll = undefined;
        const existing = recorded.get(id);
        if (!existing) {
          result.newEvents.push(
            ev(EventType.TaskScheduled, id, {
              Name: HTTP_ACTIVITY,
              Input: JSON.stringify(request),
            }),
          );
          result.decisions.push({ kind: "http", id, request });
        }
        this.adopt(track(new Leaf(id)));
        return;
      }
      const completion = (child as Leaf).lastEvent;
      let response: { statusCode?: number; headers?: Record<string, string> } = {};
      try {
        response = JSON.parse(String(completion?.Result ?? "null")) ?? {};
      } catch {
        response = {};
      }
      const header = (name: string) =>
        Object.entries(response.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
      const location = header("location");
      if (response.statusCode === 202 && location) {
        const retryAfter = Number(header("retry-after"));
        const delayMs =
          Number.isFinite(retryAfter) && retryAfter > 0
            ? retryAfter * 1000
            : (options.defaultHttpSleepMs ?? 30000);
        const timer = scheduleTimer(new Date(currentTime.getTime() + delayMs));
        const id = seq++;
        allocated.add(id);
        this.pendingPoll = {
          id,
          request: { ...this.request, method: "GET", uri: location, content: undefined },
        };
        this.adopt(timer);
        return;
      }
      finish(this, false);
    }
  }

  class CompoundTask implements SimTask, SimParent {
    done = false;
    failed = false;
    parent?: SimParent;
    constructor(
      readonly children: SimTask[],
      readonly any: boolean,
    ) {
      for (const c of children) c.parent = this;
      this.check();
    }
    childDone(): void {
      this.check();
    }
    check(): void {
      if (this.done) return;
      if (this.any) {
        if (this.children.some((c) => c.done)) finish(this, false);
      } else if (this.children.some((c) => c.done && c.failed)) {
        finish(this, true); // the SDK's Task.all fails on the first failed child
      } else if (this.children.every((c) => c.done)) {
        finish(this, false);
      }
    }
  }

  const doneTask = (): SimTask => ({ done: true, failed: false });

  function invoke(action: SdkAction): SimTask {
    switch (action.actionType) {
      case ActionType.CallActivity:
        return scheduleActivity(String(action.functionName), decodeDoubleEncoded(action.input));
      case ActionType.CallActivityWithRetry:
        return new RetryTask(action, action.retryOptions!, false);
      case ActionType.CallSubOrchestrator:
        return scheduleSubOrchestration(action);
      case ActionType.CallSubOrchestratorWithRetry:
        return new RetryTask(action, action.retryOptions!, true);
      case ActionType.CreateTimer:
        return scheduleTimer(new Date(String(action.fireAt)), action.isCanceled === true);
      case ActionType.WaitForExternalEvent: {
        const name = String(action.externalEventName);
        const task: SimTask = { done: false, failed: false };
        const count = buffered.get(name) ?? 0;
        if (count > 0) {
          buffered.set(name, count - 1);
          task.done = true;
        } else {
          const list = waiters.get(name) ?? [];
          list.push(task);
          waiters.set(name, list);
        }
        return task;
      }
      case ActionType.CallEntity:
        return scheduleEntity(action, false);
      case ActionType.SignalEntity:
        return scheduleEntity(action, true);
      case ActionType.CallHttp: {
        const request = (action.httpRequest ?? {}) as Record<string, unknown>;
        return request.asynchronousPatternEnabled
          ? new HttpPollingTask(request)
          : scheduleHttp(request);
      }
      case ActionType.ContinueAsNew: {
        const input = decodeDoubleEncoded(action.input);
        result.continueAsNew = { input: input === undefined ? null : jsonText(input) };
        return doneTask();
      }
      case ActionType.WhenAll:
      case ActionType.WhenAny:
        return new CompoundTask(
          (action.compoundActions ?? []).map(invoke),
          action.actionType === ActionType.WhenAny,
        );
      default:
        throw new ReplayError(
          `The orchestrator used an action of type ${action.actionType}, which this local host does not support (entity locks need replay schema V4).`,
        );
    }
  }

  function completeLeaf(leaf: Leaf, e: HistoryEvent): void {
    leaf.lastEvent = e;
    const failed =
      e.EventType === EventType.TaskFailed ||
      e.EventType === EventType.SubOrchestrationInstanceFailed;
    finish(leaf, failed);
  }

  let cursor = 0;
  let awaiting: SimTask | undefined;
  const advance = () => {
    while (cursor < options.actions.length) {
      if (awaiting && !awaiting.done) return;
      awaiting = invoke(options.actions[cursor++]);
    }
  };

  try {
    let started = false;
    for (const e of history) {
      switch (e.EventType) {
        case EventType.OrchestratorStarted:
          currentTime = new Date(e.Timestamp);
          break;
        case EventType.ExecutionStarted:
          if (!started) {
            started = true;
            advance();
          }
          break;
        case EventType.TaskScheduled:
        case EventType.TimerCreated:
        case EventType.SubOrchestrationInstanceCreated:
        case EventType.EventSent:
          if (!allocated.has(e.EventId)) {
            throw new ReplayError(
              `Non-deterministic workflow detected: a previous execution of orchestration '${instanceId}' ` +
                `scheduled ${describe(e)} with sequence ID ${e.EventId}, but the current replay did not ` +
                `schedule it. Was the orchestrator code changed while this instance was running?`,
            );
          }
          break;
        case EventType.TaskCompleted:
        case EventType.TaskFailed:
        case EventType.SubOrchestrationInstanceCompleted:
        case EventType.SubOrchestrationInstanceFailed:
        case EventType.TimerFired: {
          const id = Number(e.EventType === EventType.TimerFired ? e.TimerId : e.TaskScheduledId);
          const leaf = byId.get(id);
          if (leaf) {
            byId.delete(id);
            completeLeaf(leaf, e);
          } else {
            deferred.set(id, [...(deferred.get(id) ?? []), e]);
          }
          advance();
          break;
        }
        case EventType.EventRaised: {
          const name = String(e.Name);
          const leaf = byGuid.get(name);
          if (leaf) {
            byGuid.delete(name);
            finish(leaf, false);
          } else {
            const list = waiters.get(name);
            const waiter = list?.pop(); // the SDK hands an event to its latest waiter
            if (waiter) {
              if (list!.length === 0) waiters.delete(name);
              finish(waiter, false);
            } else {
              buffered.set(name, (buffered.get(name) ?? 0) + 1);
            }
          }
          advance();
          break;
        }
      }
    }
    if (!started) advance();
  } catch (err) {
    if (err instanceof ReplayError) {
      return { newEvents: [], decisions: [], canceledTimers: [], nonDeterminism: err.message };
    }
    throw err;
  }
  return result;
}

/** Flattens the SDK's actions payload (one list per yield in schema V1, one list in V2+). */
export function flattenActions(actions: unknown[][] | undefined): SdkAction[] {
  const out: SdkAction[] = [];
  for (const group of actions ?? []) {
    if (Array.isArray(group)) out.push(...(group as SdkAction[]));
  }
  return out;
}
