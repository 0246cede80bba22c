// Drives the REGISTERED processOrder orchestrator through the real durable-functions SDK, the way
// the Durable extension does: it builds the history episode by episode, invokes the orchestrator
// function through @azure/functions-core (FunctionsCore), numbers tasks as the extension's
// out-of-proc shim does (one id per activity/timer in yield order, plus a retry timer and a
// re-attempt id per failure of a *WithRetry task), and checks replay determinism on every
// episode. Tests describe what happened (`completed`, `failed`, `event`, `timerFired`), and get
// back { isDone, actions, output, customStatus } plus the history it built.
//
// Importing this module provides @azure/functions-core as a jest virtual module; it must be
// imported before anything that loads @azure/functions.
import {
  FunctionsCore,
  fromTypedData,
  typedData,
  type LogEntry,
} from "../../local-host/src/worker/functionsCore";

export const logs: LogEntry[] = [];
const mockCore = new FunctionsCore({ onLog: (entry) => logs.push(entry) });
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });
export const core = mockCore;

// Registrations happen at import time, so load the app modules only once the core exists.
/* eslint-disable @typescript-eslint/no-require-imports */
require("../../src/orchestrators/processOrder");
require("../../src/activities");
/* eslint-enable @typescript-eslint/no-require-imports */

export const EventType = {
  ExecutionStarted: 0,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventRaised: 15,
} as const;

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  WhenAny: 11,
  WhenAll: 12,
} as const;

export interface HistoryEvent {
  EventType: number;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

export interface RetryOptionsJson {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
}

export interface Action {
  actionType: number;
  functionName?: string;
  input?: unknown;
  retryOptions?: RetryOptionsJson;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  compoundActions?: Action[];
}

export interface OrchestratorState {
  isDone: boolean;
  actions: Action[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

/** What the test says happened next; one per episode. */
export type Step =
  | { kind: "completed"; name: string; result: unknown }
  | { kind: "failed"; name: string; message: string }
  | { kind: "event"; name: string; input: unknown }
  | { kind: "timerFired" };

export const completed = (name: string, result: unknown = null): Step => ({
  kind: "completed",
  name,
  result,
});
export const failed = (name: string, message = "transient failure"): Step => ({
  kind: "failed",
  name,
  message,
});
export const event = (name: string, input: unknown): Step => ({ kind: "event", name, input });
/** Fires the earliest pending durable timer the orchestrator created (not a retry timer). */
export const timerFired = (): Step => ({ kind: "timerFired" });

interface Scheduled {
  id: number;
  kind: "activity" | "timer";
  name?: string;
  input?: unknown;
  fireAt?: string;
  retry?: RetryOptionsJson;
  attempt: number;
  done: boolean;
  /** For activities with retry: the id of the attempt currently scheduled. */
  currentId: number;
  canceled?: boolean;
}

export interface ReplayResult {
  isDone: boolean;
  /** The top-level actions of the last episode (all since the start, in yield order). */
  actions: Action[];
  output: unknown;
  customStatus: unknown;
  error: string | undefined;
  history: HistoryEvent[];
  /** Every episode's state, in order. */
  states: OrchestratorState[];
  /** Leaf actions in id order (what the host scheduled). */
  scheduled: Scheduled[];
}

export interface ReplayOptions {
  instanceId?: string;
  start?: Date;
  /** Milliseconds the clock advances per episode (besides jumping to fired timers). */
  tickMs?: number;
  /** The instance's orchestration version (ExecutionStarted.Version); "" = unversioned. */
  version?: string;
}

const ORCHESTRATOR = "processOrder";

/** Flattens compound actions into the leaves that take a sequence id, in SDK order. */
function idTakingLeaves(actions: Action[]): Action[] {
  const leaves: Action[] = [];
  const visit = (a: Action) => {
    if (a.compoundActions) a.compoundActions.forEach(visit);
    else if (a.actionType !== ActionType.WaitForExternalEvent) leaves.push(a);
  };
  actions.forEach(visit);
  return leaves;
}

function retryDelayMs(retry: RetryOptionsJson, failedAttempt: number): number {
  const delay =
    retry.firstRetryIntervalInMilliseconds *
    Math.pow(retry.backoffCoefficient ?? 1, failedAttempt - 1);
  return retry.maxRetryIntervalInMilliseconds
    ? Math.min(delay, retry.maxRetryIntervalInMilliseconds)
    : delay;
}

/** A running instance: call `apply(step)` to add one episode, or use `replay()`. */
export class OrchestrationRun {
  readonly history: HistoryEvent[] = [];
  readonly states: OrchestratorState[] = [];
  readonly scheduled: Scheduled[] = [];
  readonly instanceId: string;
  readonly version: string;
  #now: Date;
  #nextId = 0;
  #leafCount = 0;
  readonly #tickMs: number;
  readonly #retryTimers = new Map<number, Scheduled>();
  #last: OrchestratorState | undefined;

  constructor(
    readonly input: unknown,
    options: ReplayOptions = {},
  ) {
    this.instanceId = options.instanceId ?? "00000000-0000-4000-8000-000000000001";
    this.#now = options.start ?? new Date("2024-06-01T10:00:00.000Z");
    this.#tickMs = options.tickMs ?? 100;
    this.version = options.version ?? "";
  }

  get now(): Date {
    return this.#now;
  }

  /** First episode: ExecutionStarted. */
  async start(): Promise<OrchestratorState> {
    this.#beginEpisode();
    this.#push({
      EventType: EventType.ExecutionStarted,
      Name: ORCHESTRATOR,
      Version: this.version,
      Input: JSON.stringify(this.input),
      OrchestrationInstance: { InstanceId: this.instanceId, ExecutionId: "exec-1" },
      ParentInstance: null,
      Tags: null,
    });
    return this.#runEpisode();
  }

  /** One episode with the given step's event. */
  async apply(step: Step): Promise<OrchestratorState> {
    if (this.#last?.isDone)
      throw new Error(`orchestration already finished; cannot apply ${step.kind}`);
    switch (step.kind) {
      case "completed":
      case "failed": {
        const task = this.#pendingActivity(step.name);
        this.#beginEpisode();
        if (step.kind === "completed") {
          task.done = true;
          this.#push({
            EventType: EventType.TaskCompleted,
            TaskScheduledId: task.currentId,
            Result: JSON.stringify(step.result ?? null),
          });
          return this.#runEpisode();
        }
        this.#push({
          EventType: EventType.TaskFailed,
          TaskScheduledId: task.currentId,
          Reason: `Activity function '${task.name}' failed: ${step.message}`,
          Details: `Error: ${step.message}\n    at simulated (harness)`,
        });
        if (!task.retry) {
          task.done = true;
          return this.#runEpisode();
        }
        // The extension's retry interceptor: a timer after every failed attempt; when it fires,
        // the next attempt (or, after the last one, the failure surfaces in the orchestrator).
        const timerId = this.#nextId++;
        const fireAt = new Date(this.#now.getTime() + retryDelayMs(task.retry, task.attempt));
        const timer: Scheduled = {
          id: timerId,
          kind: "timer",
          fireAt: fireAt.toISOString(),
          attempt: 1,
          done: false,
          currentId: timerId,
        };
        this.#retryTimers.set(timerId, task);
        const state = await this.#runEpisode([
          { EventType: EventType.TimerCreated, EventId: timerId, FireAt: timer.fireAt },
        ]);
        // Fire the retry timer in its own episode, at its time.
        this.#now = fireAt;
        this.#beginEpisode(false);
        this.#push({ EventType: EventType.TimerFired, TimerId: timerId, FireAt: timer.fireAt });
        const exhausted = task.attempt >= task.retry.maxNumberOfAttempts;
        let extra: Partial<HistoryEvent>[] = [];
        if (exhausted) task.done = true;
        else {
          task.attempt++;
          task.currentId = this.#nextId++;
          extra = [
            {
              EventType: EventType.TaskScheduled,
              EventId: task.currentId,
              Name: task.name,
              Input: JSON.stringify(task.input),
            },
          ];
        }
        void state;
        return this.#runEpisode(extra);
      }
      case "event":
        this.#beginEpisode();
        this.#push({
          EventType: EventType.EventRaised,
          Name: step.name,
          Input: JSON.stringify(step.input),
        });
        return this.#runEpisode();
      case "timerFired": {
        const timer = this.scheduled.find((s) => s.kind === "timer" && !s.done && !s.canceled);
        if (!timer) throw new Error("no pending durable timer to fire");
        timer.done = true;
        this.#now = new Date(Math.max(this.#now.getTime(), Date.parse(timer.fireAt!)));
        this.#beginEpisode(false);
        this.#push({ EventType: EventType.TimerFired, TimerId: timer.id, FireAt: timer.fireAt });
        return this.#runEpisode();
      }
    }
  }

  result(): ReplayResult {
    const last = this.#last!;
    return {
      isDone: last.isDone,
      actions: last.actions[0] ?? [],
      output: last.output,
      customStatus: last.customStatus,
      error: last.error,
      history: this.history,
      states: this.states,
      scheduled: this.scheduled,
    };
  }

  #pendingActivity(name: string): Scheduled {
    const task = this.scheduled.find((s) => s.kind === "activity" && s.name === name && !s.done);
    if (!task) {
      const pending = this.scheduled.filter((s) => !s.done).map((s) => s.name ?? `timer#${s.id}`);
      throw new Error(`no pending '${name}' activity (pending: ${pending.join(", ") || "none"})`);
    }
    return task;
  }

  #beginEpisode(tick = true): void {
    for (const e of this.history) e.IsPlayed = true;
    if (tick && this.history.length > 0) this.#now = new Date(this.#now.getTime() + this.#tickMs);
    this.#push({ EventType: EventType.OrchestratorStarted });
  }

  #push(fields: Partial<HistoryEvent>): void {
    this.history.push({
      EventId: -1,
      IsPlayed: false,
      Timestamp: this.#now.toISOString(),
      ...fields,
    } as HistoryEvent);
  }

  async #runEpisode(hostEvents: Partial<HistoryEvent>[] = []): Promise<OrchestratorState> {
    const state = await invokeOrchestrator(this.instanceId, this.input, this.history);
    this.states.push(state);
    this.#last = state;
    const leaves = idTakingLeaves(state.actions[0] ?? []);
    // Determinism: the replayed leaves must be exactly the ones recorded before.
    const known = this.scheduled.filter((s) => !this.#retryTimers.has(s.id));
    for (let i = 0; i < Math.min(this.#leafCount, leaves.length); i++) {
      const leaf = leaves[i]!;
      const rec = known[i]!;
      const kind = leaf.actionType === ActionType.CreateTimer ? "timer" : "activity";
      if (kind !== rec.kind || (kind === "activity" && leaf.functionName !== rec.name)) {
        throw new Error(
          `non-deterministic orchestrator: task ${rec.id} was ${rec.kind} ${rec.name ?? ""}, replay yielded ${kind} ${leaf.functionName ?? ""}`,
        );
      }
      if (kind === "timer" && leaf.isCanceled) rec.canceled = true;
    }
    if (leaves.length < this.#leafCount) {
      throw new Error(
        `non-deterministic orchestrator: replay yielded ${leaves.length} tasks, history has ${this.#leafCount}`,
      );
    }
    for (const e of hostEvents) this.#push(e);
    for (const leaf of leaves.slice(this.#leafCount)) {
      const id = this.#nextId++;
      if (leaf.actionType === ActionType.CreateTimer) {
        this.scheduled.push({
          id,
          kind: "timer",
          fireAt: leaf.fireAt!,
          attempt: 1,
          done: false,
          currentId: id,
          canceled: !!leaf.isCanceled,
        });
        this.#push({ EventType: EventType.TimerCreated, EventId: id, FireAt: leaf.fireAt });
      } else {
        const task: Scheduled = {
          id,
          kind: "activity",
          name: leaf.functionName!,
          input: leaf.input,
          attempt: 1,
          done: false,
          currentId: id,
        };
        if (leaf.retryOptions) task.retry = leaf.retryOptions;
        this.scheduled.push(task);
        this.#push({
          EventType: EventType.TaskScheduled,
          EventId: id,
          Name: leaf.functionName,
          Input: JSON.stringify(leaf.input),
        });
      }
    }
    this.#leafCount = leaves.length;
    this.#push({ EventType: EventType.OrchestratorCompleted });
    return state;
  }
}

/** Invokes the registered orchestrator once with the given history (one episode). */
export async function invokeOrchestrator(
  instanceId: string,
  input: unknown,
  history: HistoryEvent[],
): Promise<OrchestratorState> {
  const trigger = core.triggerOf(ORCHESTRATOR);
  const payload = {
    history,
    input,
    instanceId,
    isReplaying: history.some((e) => e.IsPlayed),
    parentInstanceId: null,
    upperSchemaVersion: 1,
    upperSchemaVersionNew: 2,
    longRunningTimerIntervalDuration: "3.00:00:00",
    maximumShortTimerDuration: "6.00:00:00",
    defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
  };
  try {
    const response = await core.invoke(ORCHESTRATOR, {
      inputData: [{ name: trigger.name, data: typedData.string(JSON.stringify(payload)) }],
    });
    const value = fromTypedData(response.returnValue);
    return (typeof value === "string" ? JSON.parse(value) : value) as OrchestratorState;
  } catch (err) {
    // An orchestrator failure is thrown with the state after a marker.
    const message = err instanceof Error ? err.message : String(err);
    const marker = message.indexOf("$OutOfProcData$:");
    if (marker < 0) throw err;
    return JSON.parse(message.slice(marker + "$OutOfProcData$:".length)) as OrchestratorState;
  }
}

/** Starts the orchestration and applies the steps, one episode each. */
export async function replay(
  input: unknown,
  steps: Step[],
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const run = new OrchestrationRun(input, options);
  await run.start();
  for (const step of steps) await run.apply(step);
  return run.result();
}

/** The activities scheduled and not yet answered, oldest first. */
export function pendingActivities(run: OrchestrationRun): { name: string; input: unknown }[] {
  return run.scheduled
    .filter((s) => s.kind === "activity" && !s.done)
    .map((s) => ({ name: s.name!, input: s.input }));
}

/**
 * Runs every pending activity for real (through the registered activity functions and whatever
 * services are installed) and feeds each result or failure back, until the orchestration is done
 * or waits on something other than an activity (an event or a durable timer).
 */
export async function drive(run: OrchestrationRun, maxSteps = 200): Promise<ReplayResult> {
  for (let i = 0; i < maxSteps && !run.result().isDone && !run.result().error; i++) {
    const [next] = pendingActivities(run);
    if (!next) break;
    let step: Step;
    try {
      step = completed(next.name, await invokeActivity(next.name, next.input));
    } catch (err) {
      step = failed(next.name, err instanceof Error ? err.message : String(err));
    }
    await run.apply(step);
  }
  return run.result();
}

/** Invokes a registered activity as the host would; resolves with its result. */
export async function invokeActivity(
  name: string,
  input: unknown,
  options: { instanceId?: string } = {},
): Promise<unknown> {
  const trigger = core.triggerOf(name);
  const instanceId = options.instanceId ?? (input as { orderId?: string })?.orderId ?? "";
  const response = await core.invoke(name, {
    inputData: [{ name: trigger.name, data: typedData.json(input) }],
    triggerMetadata: { instanceId: typedData.string(instanceId) },
  });
  return fromTypedData(response.returnValue);
}
