// Orchestration episodes: take the instance's messages, replay the orchestrator through the SDK
// over its whole history, match its actions to history (replay.ts) and commit the outcome as one
// op; dispatches happen after the commit (decide.ts). Control messages (terminate, suspend,
// resume) and a refused version are handled without running the orchestrator.
import { randomUUID } from "node:crypto";
import { FunctionInvocationError, type FunctionInvoker } from "../contracts";
import type { OrchestrationSpans } from "../telemetry/orchestrationSpans";
import type { Committer } from "./commit";
import { decide, type DecideContext, type EpisodeEffects } from "./decide";
import { decodeReturn, nowIso, parseJsonText, type Registered } from "./functions";
import { finishOp, type Finish } from "./finish";
import { flattenActions, jsonText, replay } from "./replay";
import type { VolatileMessage } from "./scheduler";
import {
  EventType,
  historyEvent,
  type HistoryEvent,
  type InstanceRecord,
  type OrchestratorResult,
} from "./types";
import {
  describeVersioning,
  refusesVersion,
  VERSION_MISMATCH_MESSAGE,
  type VersioningOptions,
} from "./versioning";

const OUT_OF_PROC_MARKER = "$OutOfProcData$:";

export interface EpisodeContext extends DecideContext {
  committer: Committer;
  versioning: VersioningOptions;
  invoker: FunctionInvoker;
  spans: OrchestrationSpans | undefined;
  report(level: "warn", message: string): void;
  /** The instance reached a terminal state (wakes waiters). */
  finished(instanceId: string): void;
}

/** One episode's input: the messages it consumes and the history it replays. */
interface Turn {
  inst: InstanceRecord;
  /** The execution the episode started on (a continue-as-new or restart changes it). */
  executionId: string;
  time: string;
  consumed: number[];
  volatile: VolatileMessage[];
  /** OrchestratorStarted + the incoming messages: what this episode appends first. */
  newEvents: HistoryEvent[];
  forced: boolean;
}

type Outcome = { result: OrchestratorResult; thrown?: { message: string; details?: string } };

export class EpisodeRunner {
  constructor(private readonly cx: EpisodeContext) {}

  async run(inst: InstanceRecord): Promise<void> {
    const { scheduler } = this.cx;
    const id = inst.instanceId;
    const forced = scheduler.takeForced(id);
    const durable = inst.inbox.slice();
    const volatile = scheduler.takeVolatile(id, inst.executionId);
    const time = nowIso();
    const incoming = [...durable.map((m) => m.event), ...volatile.map((m) => m.event)];
    const turn: Turn = {
      inst,
      executionId: inst.executionId,
      time,
      consumed: durable.map((m) => m.seq),
      volatile,
      newEvents: [historyEvent(EventType.OrchestratorStarted, time, {}), ...incoming],
      forced,
    };
    if (await this.#control(turn, durable)) return;
    const history = [...inst.history, ...turn.newEvents];
    if (!history.some((e) => e.EventType === EventType.ExecutionStarted)) {
      // Nothing to run yet (e.g. a stray message before the start): keep it for later.
      this.cx.report("warn", `Instance '${id}' has messages but no ExecutionStarted; skipping.`);
      return;
    }
    if (incoming.length === 0 && !forced) return;
    const fn = this.cx.functions.ofKind(inst.name, "orchestration");
    if (!fn) {
      return this.#fail(turn, {
        message: `The function '${inst.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      });
    }
    const outcome = await this.#invoke(turn, fn, history);
    if (this.cx.committer.closed) return;
    if (this.cx.state.live.get(id) !== inst || inst.executionId !== turn.executionId) return; // purged/replaced meanwhile
    await this.#commitOutcome(turn, history, outcome);
  }

  /** Version refusal, terminate and suspension: true when the episode ends here. */
  async #control(turn: Turn, durable: InstanceRecord["inbox"]): Promise<boolean> {
    const { inst, time } = turn;
    // Fail: a refused version ends the instance before the orchestrator runs (Reject never
    // gets here: the scheduler leaves those instances queued).
    if (refusesVersion(this.cx.versioning, inst.version)) {
      await this.#fail(turn, {
        message: VERSION_MISMATCH_MESSAGE,
        details: `The instance's version is '${inst.version}'; this host runs ${describeVersioning(this.cx.versioning)}.`,
        errorType: "VersionMismatch",
      });
      return true;
    }
    const incoming = turn.newEvents.slice(1);
    const terminate = incoming.find((e) => e.EventType === EventType.ExecutionTerminated);
    if (terminate) {
      await this.#finish(turn, {
        append: [turn.newEvents[0], { ...terminate, Timestamp: time }],
        status: "Terminated",
        output: String(terminate.Input ?? "null"),
      });
      return true;
    }
    // Suspension holds every other message until a resume arrives.
    let suspended = inst.status === "Suspended";
    for (const e of incoming) {
      if (e.EventType === EventType.ExecutionSuspended) suspended = true;
      else if (e.EventType === EventType.ExecutionResumed) suspended = false;
    }
    if (!suspended) return false;
    const controls = durable.filter(
      (m) =>
        m.event.EventType === EventType.ExecutionSuspended ||
        m.event.EventType === EventType.ExecutionResumed,
    );
    this.cx.scheduler.returnVolatile(inst.instanceId, turn.volatile);
    await this.cx.committer.commit({
      t: "episode",
      instanceId: inst.instanceId,
      executionId: inst.executionId,
      consumed: controls.map((m) => m.seq),
      append: controls.length > 0 ? [turn.newEvents[0], ...controls.map((m) => m.event)] : [],
      status: "Suspended",
      time,
    });
    return true;
  }

  /** Runs the orchestrator function; a worker failure (not a function error) is rethrown with
   *  the messages put back, so the episode is retried. */
  async #invoke(turn: Turn, fn: Registered, history: HistoryEvent[]): Promise<Outcome> {
    const { inst } = turn;
    const payload = {
      history,
      input: inst.input === null ? "" : parseJsonText(inst.input),
      instanceId: inst.instanceId,
      isReplaying: inst.history.length > 0,
      parentInstanceId: inst.parent?.instanceId ?? "",
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: "3.00:00:00",
      maximumShortTimerDuration: "6.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };
    try {
      const response = await this.cx.invoker.invoke(fn.name, {
        inputData: [{ name: fn.binding, data: { json: JSON.stringify(payload) } }],
        traceContext: this.cx.spans?.traceContext(inst.instanceId),
      });
      const result = decodeReturn(response.returnValue) as OrchestratorResult;
      if (!result || typeof result !== "object" || !Array.isArray(result.actions)) {
        throw new FunctionInvocationError(
          fn.name,
          "The orchestrator did not return an orchestration state.",
        );
      }
      return { result };
    } catch (err) {
      if (!(err instanceof FunctionInvocationError)) {
        // The worker is gone or restarting: put the messages back and retry the episode.
        this.cx.scheduler.returnVolatile(inst.instanceId, turn.volatile);
        if (turn.forced) this.cx.scheduler.force(inst.instanceId);
        throw err;
      }
      return thrownOutcome(err);
    }
  }

  async #commitOutcome(turn: Turn, history: HistoryEvent[], outcome: Outcome): Promise<void> {
    const { inst, time } = turn;
    const { result, thrown } = outcome;
    const customStatus =
      result.customStatus === undefined ? null : JSON.stringify(result.customStatus);
    if (thrown) {
      const message = `Orchestrator function '${inst.name}' failed: ${thrown.message}`;
      return this.#fail(turn, { message, details: thrown.details }, customStatus);
    }
    const sim = replay({
      instanceId: inst.instanceId,
      history,
      actions: flattenActions(result.actions),
      now: new Date(time),
      executionId: inst.executionId,
      defaultHttpSleepMs: 30000,
    });
    if (sim.nonDeterminism) return this.#fail(turn, { message: sim.nonDeterminism }, customStatus);
    const fx = decide(this.cx, inst, sim.decisions);
    for (const timerId of sim.canceledTimers)
      this.cx.timers.cancel(inst.instanceId, inst.executionId, timerId);
    const append = [...turn.newEvents, ...sim.newEvents];
    if (result.isDone && sim.continueAsNew) {
      return this.#continueAsNew(turn, append, sim.continueAsNew.input, customStatus, fx);
    }
    if (result.isDone) {
      const output = jsonText(result.output);
      return this.#finish(turn, { append, status: "Completed", output, customStatus }, fx);
    }
    await this.cx.committer.commit({
      t: "episode",
      instanceId: inst.instanceId,
      executionId: inst.executionId,
      consumed: turn.consumed,
      append: [...append, historyEvent(EventType.OrchestratorCompleted, time, {})],
      status: "Running",
      customStatus,
      time,
      creates: fx.creates,
      deliveries: fx.deliveries,
    });
    for (const fn of fx.afterCommit) fn();
    this.#afterDeliveries(fx);
  }

  async #continueAsNew(
    turn: Turn,
    append: HistoryEvent[],
    input: string | null,
    customStatus: string | null,
    fx: EpisodeEffects,
  ): Promise<void> {
    const { inst, time } = turn;
    const next = { executionId: randomUUID(), input, seq: this.cx.state.nextSeq() };
    // Only sends survive a continue-as-new; scheduled work of the old execution is dropped.
    const sends = fx.deliveries.filter((d) => d.kind === "entity");
    this.cx.timers.cancelAllOf(inst.instanceId);
    await this.cx.committer.commit({
      t: "episode",
      instanceId: inst.instanceId,
      executionId: inst.executionId,
      consumed: turn.consumed,
      append: [...append, historyEvent(EventType.ContinueAsNew, time, { Result: next.input })],
      status: "ContinuedAsNew",
      customStatus,
      time,
      continueAsNew: next,
      deliveries: sends,
    });
    this.#afterDeliveries({ creates: [], deliveries: sends, afterCommit: [] });
  }

  #fail(
    turn: Turn,
    failure: NonNullable<Finish["failure"]>,
    customStatus?: string | null,
  ): Promise<void> {
    this.cx.report("warn", `Orchestration '${turn.inst.instanceId}' failed: ${failure.message}`);
    return this.#finish(turn, {
      append: turn.newEvents,
      status: "Failed",
      output: JSON.stringify(failure.message),
      customStatus,
      failure,
    });
  }

  /** Commits a terminal episode: ExecutionCompleted, and the reply to a parent orchestration. */
  async #finish(
    turn: Turn,
    f: Omit<Finish, "time" | "consumed">,
    fx: EpisodeEffects = { creates: [], deliveries: [], afterCommit: [] },
  ): Promise<void> {
    const { inst } = turn;
    const finish: Finish = { ...f, time: turn.time, consumed: turn.consumed };
    const op = finishOp(inst, finish, fx, () => this.cx.state.nextSeq());
    this.cx.timers.cancelAllOf(inst.instanceId);
    this.cx.scheduler.dropVolatile(inst.instanceId);
    await this.cx.committer.commit(op);
    for (const fn of fx.afterCommit) fn();
    this.cx.finished(inst.instanceId);
    this.#afterDeliveries({ ...fx, deliveries: op.deliveries ?? [] });
  }

  #afterDeliveries(fx: EpisodeEffects): void {
    const { scheduler } = this.cx;
    for (const c of fx.creates) scheduler.kick(c.instanceId);
    for (const d of fx.deliveries) {
      if (d.kind === "instance") scheduler.kick(d.instanceId);
      else scheduler.kickEntity(d.entityId);
    }
    scheduler.pump();
  }
}

/** The orchestrator threw: its state (and message) come after the out-of-proc marker. */
function thrownOutcome(err: FunctionInvocationError): Outcome {
  const at = err.message.indexOf(OUT_OF_PROC_MARKER);
  if (at < 0) {
    return {
      result: { isDone: false, actions: [] },
      thrown: { message: err.message, details: err.details },
    };
  }
  let result: OrchestratorResult;
  try {
    result = JSON.parse(err.message.slice(at + OUT_OF_PROC_MARKER.length)) as OrchestratorResult;
  } catch {
    result = { isDone: false, actions: [] };
  }
  const message = result.error ?? err.message.slice(0, at).trim();
  return { result, thrown: { message, details: err.details } };
}
