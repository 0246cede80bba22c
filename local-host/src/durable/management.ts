// Client operations behind the management API (startNew, events, terminate / suspend / resume,
// restart, rewind, purge, entity signals, waiting for completion). Each answers only after its
// op is durable; reads see live instances in memory and finished ones in the store.
import { randomUUID } from "node:crypto";
import type { SpanIdentity } from "../telemetry/orchestrationSpans";
import type { ManagementApi } from "./api";
import type { Committer } from "./commit";
import { BadRequestError, StartConflictError } from "./errors";
import { nowIso, type FunctionRegistry } from "./functions";
import { jsonText } from "./replay";
import type { Scheduler } from "./scheduler";
import type { Timers } from "./timers";
import {
  EventType,
  TERMINAL,
  historyEvent,
  type EntityRecord,
  type HistoryEvent,
  type InstanceRecord,
  type InstanceSummary,
} from "./types";

export interface ManagementContext {
  committer: Committer;
  scheduler: Scheduler;
  timers: Timers;
  functions: FunctionRegistry;
  defaultVersion: string;
  /** The span identity a new instance keeps (from the caller's traceparent). */
  newTrace?: (traceparent?: string) => SpanIdentity;
  onStart?: (instanceId: string, name: string, trace: SpanIdentity) => void;
  onFinish?: (instanceId: string, status: InstanceRecord["status"]) => void;
}

export type ClientOperations = Omit<
  ManagementApi,
  "options" | "querySuffix" | "persistenceStalled" | "untilStalled"
>;

export class Management implements ClientOperations {
  readonly #cx: ManagementContext;
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(cx: ManagementContext) {
    this.#cx = cx;
  }

  get #state() {
    return this.#cx.committer.state;
  }

  /** Creates an instance; resolves once its ExecutionStarted is durable. It keeps `version` for
   *  life; without one (absent or "") it gets host.json `defaultVersion`, as with the extension. */
  async startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
    traceparent?: string,
  ): Promise<string> {
    const fn = this.#cx.functions.ofKind(name, "orchestration");
    if (!fn) {
      throw new BadRequestError(
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    const id = instanceId || randomUUID().replace(/-/g, "");
    if (id.startsWith("@"))
      throw new BadRequestError("Orchestration instance ids must not start with @.");
    const existing = this.#state.statusOf(id);
    if (existing && !TERMINAL.has(existing)) {
      throw new StartConflictError(
        `An Orchestration instance with the status ${existing} already exists.`,
      );
    }
    if (existing) this.#cx.timers.cancelAllOf(id);
    const trace = this.#cx.newTrace?.(traceparent);
    await this.#cx.committer.commit({
      t: "create",
      c: {
        instanceId: id,
        name: fn.name,
        version: version || this.#cx.defaultVersion,
        executionId: randomUUID(),
        input,
        ...(trace ? { trace } : {}),
        time: nowIso(),
        seq: this.#state.nextSeq(),
      },
    });
    if (trace) this.#cx.onStart?.(id, fn.name, trace);
    this.#cx.scheduler.kick(id);
    return id;
  }

  getInstance(id: string): InstanceRecord | undefined {
    return this.#state.getInstance(id);
  }

  listInstances(): InstanceSummary[] {
    const out: InstanceSummary[] = [...this.#state.finished.summaries()];
    for (const i of this.#state.live.values()) out.push(i);
    return out;
  }

  getEntity(id: string): EntityRecord | undefined {
    return this.#state.entities.get(id);
  }

  listEntities(): Iterable<EntityRecord> {
    return this.#state.entities.values();
  }

  /** Puts an event in an instance's inbox; resolves once durable. */
  async sendToInstance(instanceId: string, event: HistoryEvent): Promise<void> {
    await this.#cx.committer.commit({
      t: "deliver",
      d: { kind: "instance", instanceId, event, seq: this.#state.nextSeq() },
    });
    this.#cx.scheduler.kick(instanceId);
  }

  raiseEvent(instanceId: string, name: string, data: string): Promise<void> {
    const event = historyEvent(EventType.EventRaised, nowIso(), { Name: name, Input: data });
    return this.sendToInstance(instanceId, event);
  }

  terminate(instanceId: string, reason: string | null): Promise<void> {
    const event = historyEvent(EventType.ExecutionTerminated, nowIso(), {
      Input: jsonText(reason),
    });
    return this.sendToInstance(instanceId, event);
  }

  suspend(instanceId: string, reason: string | null): Promise<void> {
    const event = historyEvent(EventType.ExecutionSuspended, nowIso(), { Reason: reason });
    return this.sendToInstance(instanceId, event);
  }

  resume(instanceId: string, reason: string | null): Promise<void> {
    const event = historyEvent(EventType.ExecutionResumed, nowIso(), { Reason: reason });
    return this.sendToInstance(instanceId, event);
  }

  /** Restarts a terminal or running instance with its original input. */
  async restart(instanceId: string, newInstanceId: boolean): Promise<string> {
    const inst = this.#state.getInstance(instanceId);
    if (!inst)
      throw new BadRequestError(`No orchestration with instance ID '${instanceId}' found.`);
    const id = newInstanceId ? undefined : instanceId;
    return this.startNew(inst.name, id, inst.input, inst.version);
  }

  /** Rewinds a Failed instance: failed activity / sub-orchestration attempts and the failure are
   *  removed from history, so the next replay schedules them again. */
  async rewind(instanceId: string): Promise<void> {
    const inst = this.#state.getInstance(instanceId);
    if (!inst || inst.status !== "Failed")
      throw new BadRequestError("Only Failed instances can be rewound.");
    const failed = (e: HistoryEvent) =>
      e.EventType === EventType.TaskFailed ||
      e.EventType === EventType.SubOrchestrationInstanceFailed;
    const scheduling = (e: HistoryEvent) =>
      e.EventType === EventType.TaskScheduled ||
      e.EventType === EventType.SubOrchestrationInstanceCreated;
    const failedIds = new Set(inst.history.filter(failed).map((e) => Number(e.TaskScheduledId)));
    const history = inst.history.filter(
      (e) =>
        e.EventType !== EventType.ExecutionCompleted &&
        !(scheduling(e) && failedIds.has(e.EventId)) &&
        !(failed(e) && failedIds.has(Number(e.TaskScheduledId))),
    );
    await this.#cx.committer.commit({
      t: "rewind",
      instanceId,
      history,
      time: nowIso(),
      seq: this.#state.nextSeq(),
    });
    this.#cx.scheduler.kick(instanceId);
  }

  async purge(instanceIds: string[]): Promise<number> {
    const ids = instanceIds.filter((id) => this.#state.hasInstance(id));
    if (ids.length === 0) return 0;
    for (const id of ids) {
      this.#cx.timers.cancelAllOf(id);
      this.#cx.scheduler.dropVolatile(id);
    }
    await this.#cx.committer.commit({ t: "purge", instanceIds: ids });
    return ids.length;
  }

  async purgeEntity(entityId: string): Promise<boolean> {
    if (!this.#state.entities.has(entityId)) return false;
    await this.#cx.committer.commit({ t: "purgeEntity", entityId });
    return true;
  }

  /** Queues an operation for an entity (a signal); resolves once durable. */
  async signalEntity(
    name: string,
    key: string,
    op: string,
    input: string | undefined,
  ): Promise<void> {
    const entityId = `@${name.toLowerCase()}@${key}`;
    const request = {
      seq: this.#state.nextSeq(),
      op,
      input,
      signal: true,
      id: randomUUID(),
      time: nowIso(),
    };
    await this.#cx.committer.commit({ t: "deliver", d: { kind: "entity", entityId, request } });
    this.#cx.scheduler.kickEntity(entityId);
  }

  /** Resolves when the instance reaches a terminal state (or the timeout passes). */
  waitForCompletion(instanceId: string, timeoutMs: number): Promise<InstanceRecord | undefined> {
    const status = this.#state.statusOf(instanceId);
    if (!status || TERMINAL.has(status)) return Promise.resolve(this.getInstance(instanceId));
    return new Promise((resolve) => {
      const set = this.#waiters.get(instanceId) ?? new Set();
      this.#waiters.set(instanceId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#waiters.get(instanceId) === set)
          this.#waiters.delete(instanceId);
        resolve(this.getInstance(instanceId));
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  /** Wakes the waiters of an instance that finished (or was purged). */
  finished(instanceId: string): void {
    const status = this.#state.statusOf(instanceId);
    if (status && TERMINAL.has(status)) this.#cx.onFinish?.(instanceId, status);
    const set = this.#waiters.get(instanceId);
    if (!set) return;
    this.#waiters.delete(instanceId);
    for (const fn of [...set]) fn();
  }
}
