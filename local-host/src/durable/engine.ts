// The Durable engine: plays the Durable extension + DTFx for the out-of-proc JS SDK. Work items
// (orchestration episodes, activities, entity batches, timers) run against in-memory state; every
// state change is an Op appended to a DurableLog (group-committed, fsync'd) and anything that
// depends on an Op (dispatching activities, arming timers, waking other instances, answering a
// client) happens only after its append resolved. Activity results and timer firings are not
// logged on their own: they enter history in the next episode's Op, so a crash before that re-runs
// the activity (at-least-once) or re-arms the timer, and history stays exactly-once.
import { randomUUID } from "node:crypto";
import * as os from "node:os";
import * as path from "node:path";
import { DurableLog } from "../../../durable-log/src";
import { FunctionInvocationError, type FunctionInfo, type FunctionInvoker } from "../contracts";
import type { RpcTypedData } from "../worker/functionsCore";
import { flattenActions, jsonText, replay, type Decision } from "./replay";
import { EngineState, parseEntityId, type Snapshot } from "./state";
import {
  EventType,
  TERMINAL,
  type CreateInstance,
  type Delivery,
  type EntityRecord,
  type EntityRequest,
  type HistoryEvent,
  type InstanceRecord,
  type Op,
  type OrchestratorResult,
  type RuntimeStatus,
  historyEvent,
} from "./types";
import { BadRequestError, StartConflictError } from "./errors";
import {
  describeVersioning,
  refusesVersion,
  versioningOf,
  VERSION_MISMATCH_MESSAGE,
  type VersioningOptions,
} from "./versioning";
import type { OrchestrationSpans } from "../telemetry/orchestrationSpans";

export interface DurableEngineOptions {
  dataDir: string;
  taskHub: string;
  functions: FunctionInfo[];
  invoker: FunctionInvoker;
  publicBaseUrl: string;
  rpcBaseUrl: string;
  systemKey?: string;
  durableTask?: Record<string, unknown>;
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
  /** fsync every commit (default true; benchmarks and tests may turn it off). */
  fsync?: boolean;
  /** Orchestration spans and the trace context passed with each dispatched invocation. */
  spans?: OrchestrationSpans;
}

type FunctionKind = "orchestration" | "activity" | "entity";
interface Registered {
  name: string;
  binding: string;
  kind: FunctionKind;
}

interface VolatileMessage {
  executionId: string;
  event: HistoryEvent;
}

interface ActivityItem {
  instanceId: string;
  executionId: string;
  id: number;
  name: string;
  input: string;
  http?: Record<string, unknown>;
  attempt: number;
}

const OUT_OF_PROC_MARKER = "$OutOfProcData$:";
const COMPACT_BYTES = 16 * 1024 * 1024;
const MAX_TIMEOUT = 2 ** 31 - 1;
const ENTITY_BATCH = 50;

function nowIso(): string {
  return new Date().toISOString();
}

/** Decodes a function's return value without re-parsing plain strings. */
function decodeReturn(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json);
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return Number(data.double);
  if (data.bytes) return Buffer.from(data.bytes).toString("base64");
  return undefined;
}

function parseJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export class DurableEngine {
  readonly options: DurableEngineOptions;
  readonly state: EngineState;
  readonly #log: DurableLog<Snapshot, Op>;
  readonly #functions = new Map<string, Registered>();
  readonly #volatile = new Map<string, VolatileMessage[]>();
  readonly #ready: string[] = [];
  readonly #readySet = new Set<string>();
  readonly #running = new Set<string>();
  readonly #forceEpisode = new Set<string>();
  readonly #retryAt = new Map<string, NodeJS.Timeout>();
  readonly #activities: ActivityItem[] = [];
  #activeActivities = 0;
  readonly #entityReady: string[] = [];
  readonly #entityRunning = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inflight = new Set<Promise<unknown>>();
  readonly #completionWaiters = new Map<string, Set<() => void>>();
  readonly #maxActivities: number;
  readonly #maxOrchestrations: number;
  readonly #versioning: VersioningOptions;
  /** Instances this host refuses for their version (Reject): logged once, left queued. */
  readonly #rejected = new Set<string>();
  #started = false;
  #closed = false;
  #compacting = false;

  private constructor(
    options: DurableEngineOptions,
    log: DurableLog<Snapshot, Op>,
    state: EngineState,
  ) {
    this.options = options;
    this.#log = log;
    this.state = state;
    const cpus = Math.max(1, os.cpus().length);
    const dt = options.durableTask ?? {};
    const num = (v: unknown, d: number) =>
      typeof v === "number" && v > 0
        ? Math.floor(v)
        : typeof v === "string" && Number(v) > 0
          ? Math.floor(Number(v))
          : d;
    this.#maxActivities = num(dt.maxConcurrentActivityFunctions, 10 * cpus);
    this.#maxOrchestrations = num(dt.maxConcurrentOrchestratorFunctions, 10 * cpus);
    this.#versioning = versioningOf(dt);
    for (const fn of options.functions) {
      for (const [binding, info] of Object.entries(fn.bindings)) {
        const type = String(info.type ?? "");
        const kind: FunctionKind | undefined =
          type === "orchestrationTrigger"
            ? "orchestration"
            : type === "activityTrigger"
              ? "activity"
              : type === "entityTrigger"
                ? "entity"
                : undefined;
        if (kind && info.direction !== "out") {
          this.#functions.set(fn.name.toLowerCase(), { name: fn.name, binding, kind });
        }
      }
    }
  }

  /** Opens (and recovers) the engine state under `${dataDir}/durable`. */
  static async open(options: DurableEngineOptions): Promise<DurableEngine> {
    const { log, snapshot, records } = await DurableLog.open<Snapshot, Op>({
      dir: path.join(options.dataDir, "durable"),
      fsync: options.fsync ?? true,
      onStall: (err) =>
        err
          ? options.log?.(
              "error",
              `Durable log writes failed (${err.message}); answering 503 and retrying until they succeed.`,
            )
          : options.log?.("info", "Durable log writes succeed again."),
    });
    const state = EngineState.fromSnapshot(snapshot);
    for (const op of records) state.apply(op);
    const engine = new DurableEngine(options, log, state);
    engine.#recover();
    return engine;
  }

  /** The write error while the log holds appends back (the disk is full), else undefined. */
  get persistenceStalled(): Error | undefined {
    return this.#log.stalled;
  }

  /** `work`, unless the log starts holding appends back first (then DurableLogStalledError). */
  untilStalled<T>(work: Promise<T>): Promise<T> {
    return this.#log.untilStalled(work);
  }

  get maxConcurrentActivities(): number {
    return this.#maxActivities;
  }

  get maxConcurrentOrchestrations(): number {
    return this.#maxOrchestrations;
  }

  get versioning(): VersioningOptions {
    return { ...this.#versioning };
  }

  #logMsg(level: "debug" | "info" | "warn" | "error", message: string): void {
    this.options.log?.(level, message);
  }

  /** Re-derives volatile work from durable state: open activities run again, timers re-arm. */
  #recover(): void {
    let resumed = 0;
    for (const inst of this.state.instances.values()) {
      if (TERMINAL.has(inst.status)) continue;
      resumed++;
      const open = new Map<number, HistoryEvent>();
      const openTimers = new Map<number, HistoryEvent>();
      for (const e of inst.history) {
        if (e.EventType === EventType.TaskScheduled) open.set(e.EventId, e);
        else if (e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed)
          open.delete(Number(e.TaskScheduledId));
        else if (e.EventType === EventType.TimerCreated) openTimers.set(e.EventId, e);
        else if (e.EventType === EventType.TimerFired) openTimers.delete(Number(e.TimerId));
      }
      for (const e of open.values()) this.#enqueueActivity(inst, e);
      for (const e of openTimers.values())
        this.#armTimer(inst.instanceId, inst.executionId, e.EventId, String(e.FireAt));
      // A replay re-derives decisions that lived only in memory (retry-timeout failures).
      if (inst.history.length > 0 && inst.status !== "Suspended")
        this.#forceEpisode.add(inst.instanceId);
      this.#ready.push(inst.instanceId);
      this.#readySet.add(inst.instanceId);
    }
    for (const entity of this.state.entities.values()) {
      if (entity.queue.length > 0) this.#entityReady.push(entity.id);
    }
    if (resumed > 0)
      this.#logMsg("info", `Durable engine recovered ${resumed} unfinished instance(s).`);
    if (this.#versioning.defaultVersion || this.#versioning.matchStrategy === "Strict")
      this.#logMsg("info", `Orchestration versioning: ${describeVersioning(this.#versioning)}.`);
  }

  start(): void {
    if (this.#closed) throw new Error("The durable engine is closed.");
    this.#started = true;
    this.#pump();
  }

  /** Stops dispatching, waits for in-flight work items, persists and closes the log. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#started = false;
    this.#clearTimers();
    const deadline = Date.now() + 10_000;
    while (this.#inflight.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
    this.#closed = true;
    try {
      await this.#log.compact(this.state.toSnapshot());
    } finally {
      await this.#log.close();
    }
  }

  /** Drops everything not yet committed and closes the log, as a crash would (for tests). */
  async abandon(): Promise<void> {
    this.#started = false;
    this.#closed = true;
    this.#clearTimers();
    await this.#log.close().catch(() => undefined);
  }

  #clearTimers(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const t of this.#retryAt.values()) clearTimeout(t);
    this.#retryAt.clear();
  }

  /** JSON for a `durableClient` input binding (durable-protocol.md §4). */
  clientBindingData(): Record<string, unknown> {
    const base = `${this.options.publicBaseUrl.replace(/\/$/, "")}/runtime/webhooks/durabletask`;
    const q = this.querySuffix();
    const instance = `${base}/instances/INSTANCEID`;
    return {
      taskHubName: this.options.taskHub,
      creationUrls: {
        createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${this.codeOnly()}`,
        createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${this.codeOnly()}`,
      },
      managementUrls: {
        id: "INSTANCEID",
        statusQueryGetUri: `${instance}?${q}`,
        sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
        terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
        rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
        purgeHistoryDeleteUri: `${instance}?${q}`,
        restartPostUri: `${instance}/restart?${q}`,
        suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
        resumePostUri: `${instance}/resume?reason={text}&${q}`,
      },
      baseUrl: base,
      requiredQueryStringParameters: this.codeOnly(),
      rpcBaseUrl: this.options.rpcBaseUrl.endsWith("/")
        ? this.options.rpcBaseUrl
        : `${this.options.rpcBaseUrl}/`,
      httpBaseUrl: "",
      maxGrpcMessageSizeInBytes: 0,
      grpcHttpClientTimeout: "00:01:40",
    };
  }

  /** `taskHub=..&connection=Storage[&code=..]`, as the extension appends to management URLs. */
  querySuffix(): string {
    const code = this.codeOnly();
    return `taskHub=${encodeURIComponent(this.options.taskHub)}&connection=Storage${code ? `&${code}` : ""}`;
  }

  codeOnly(): string {
    return this.options.systemKey ? `code=${encodeURIComponent(this.options.systemKey)}` : "";
  }

  // ---- commits ---------------------------------------------------------------------------

  #commit(op: Op): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("The durable engine is closed."));
    this.state.apply(op);
    const done = this.#log.append(op);
    if (!this.#compacting && this.#log.sizeSinceSnapshot > COMPACT_BYTES) {
      this.#compacting = true;
      this.#log
        .compact(this.state.toSnapshot())
        .catch((err: unknown) => this.#logMsg("error", `Compaction failed: ${String(err)}`))
        .finally(() => {
          this.#compacting = false;
        });
    }
    return done;
  }

  #track<T>(p: Promise<T>): Promise<T> {
    this.#inflight.add(p);
    const remove = () => this.#inflight.delete(p);
    p.then(remove, remove);
    return p;
  }

  // ---- client operations (used by the management API) ------------------------------------

  functionKind(name: string): FunctionKind | undefined {
    return this.#functions.get(name.toLowerCase())?.kind;
  }

  /**
   * Creates an instance; resolves once its ExecutionStarted is durable. It keeps `version` for
   * life; without one (absent or "") it gets host.json `defaultVersion`, as with the extension.
   */
  async startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
    traceparent?: string,
  ): Promise<string> {
    const fn = this.#functions.get(name.toLowerCase());
    if (!fn || fn.kind !== "orchestration") {
      throw new BadRequestError(
        `The function '${name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      );
    }
    const id = instanceId || randomUUID().replace(/-/g, "");
    if (id.startsWith("@"))
      throw new BadRequestError("Orchestration instance ids must not start with @.");
    const existing = this.state.instances.get(id);
    if (existing && !TERMINAL.has(existing.status)) {
      throw new StartConflictError(
        `An Orchestration instance with the status ${existing.status} already exists.`,
      );
    }
    if (existing) this.#cancelTimersOf(id);
    await this.#commit({
      t: "create",
      c: {
        instanceId: id,
        name: fn.name,
        version: version || this.#versioning.defaultVersion,
        executionId: randomUUID(),
        input,
        time: nowIso(),
        seq: this.state.nextSeq(),
      },
    });
    this.options.spans?.start(id, fn.name, traceparent);
    this.#kick(id);
    return id;
  }

  getInstance(id: string): InstanceRecord | undefined {
    return this.state.instances.get(id);
  }

  listInstances(): InstanceRecord[] {
    return [...this.state.instances.values()];
  }

  getEntity(id: string): EntityRecord | undefined {
    return this.state.entities.get(id);
  }

  /** Puts an event in an instance's inbox; resolves once durable. */
  async sendToInstance(instanceId: string, event: HistoryEvent): Promise<void> {
    await this.#commit({
      t: "deliver",
      d: { kind: "instance", instanceId, event, seq: this.state.nextSeq() },
    });
    this.#kick(instanceId);
  }

  raiseEvent(instanceId: string, name: string, data: string): Promise<void> {
    return this.sendToInstance(
      instanceId,
      historyEvent(EventType.EventRaised, nowIso(), {
        Name: name,
        Input: data,
      }),
    );
  }

  terminate(instanceId: string, reason: string | null): Promise<void> {
    return this.sendToInstance(
      instanceId,
      historyEvent(EventType.ExecutionTerminated, nowIso(), {
        Input: jsonText(reason),
      }),
    );
  }

  suspend(instanceId: string, reason: string | null): Promise<void> {
    return this.sendToInstance(
      instanceId,
      historyEvent(EventType.ExecutionSuspended, nowIso(), {
        Reason: reason,
      }),
    );
  }

  resume(instanceId: string, reason: string | null): Promise<void> {
    return this.sendToInstance(
      instanceId,
      historyEvent(EventType.ExecutionResumed, nowIso(), {
        Reason: reason,
      }),
    );
  }

  /** Restarts a terminal or running instance with its original input. */
  async restart(instanceId: string, newInstanceId: boolean): Promise<string> {
    const inst = this.state.instances.get(instanceId);
    if (!inst)
      throw new BadRequestError(`No orchestration with instance ID '${instanceId}' found.`);
    return this.startNew(
      inst.name,
      newInstanceId ? undefined : instanceId,
      inst.input,
      inst.version,
    );
  }

  /**
   * Rewinds a Failed instance: failed activity / sub-orchestration attempts and the failure are
   * removed from history, so the next replay schedules them again.
   */
  async rewind(instanceId: string): Promise<void> {
    const inst = this.state.instances.get(instanceId);
    if (!inst || inst.status !== "Failed")
      throw new BadRequestError("Only Failed instances can be rewound.");
    const failedIds = new Set<number>();
    for (const e of inst.history) {
      if (
        e.EventType === EventType.TaskFailed ||
        e.EventType === EventType.SubOrchestrationInstanceFailed
      ) {
        failedIds.add(Number(e.TaskScheduledId));
      }
    }
    const history = inst.history.filter((e) => {
      if (e.EventType === EventType.ExecutionCompleted) return false;
      if (
        (e.EventType === EventType.TaskScheduled ||
          e.EventType === EventType.SubOrchestrationInstanceCreated) &&
        failedIds.has(e.EventId)
      )
        return false;
      if (
        (e.EventType === EventType.TaskFailed ||
          e.EventType === EventType.SubOrchestrationInstanceFailed) &&
        failedIds.has(Number(e.TaskScheduledId))
      )
        return false;
      return true;
    });
    await this.#commit({
      t: "rewind",
      instanceId,
      history,
      time: nowIso(),
      seq: this.state.nextSeq(),
    });
    this.#kick(instanceId);
  }

  async purge(instanceIds: string[]): Promise<number> {
    const ids = instanceIds.filter((id) => this.state.instances.has(id));
    if (ids.length === 0) return 0;
    for (const id of ids) {
      this.#cancelTimersOf(id);
      this.#volatile.delete(id);
    }
    await this.#commit({ t: "purge", instanceIds: ids });
    return ids.length;
  }

  async purgeEntity(entityId: string): Promise<boolean> {
    if (!this.state.entities.has(entityId)) return false;
    await this.#commit({ t: "purgeEntity", entityId });
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
    await this.#commit({
      t: "deliver",
      d: {
        kind: "entity",
        entityId,
        request: {
          seq: this.state.nextSeq(),
          op,
          input,
          signal: true,
          id: randomUUID(),
          time: nowIso(),
        },
      },
    });
    this.#kickEntity(entityId);
  }

  /** Resolves when the instance reaches a terminal state (or the timeout passes). */
  waitForCompletion(instanceId: string, timeoutMs: number): Promise<InstanceRecord | undefined> {
    const inst = this.state.instances.get(instanceId);
    if (!inst || TERMINAL.has(inst.status)) return Promise.resolve(inst);
    return new Promise((resolve) => {
      const set = this.#completionWaiters.get(instanceId) ?? new Set();
      this.#completionWaiters.set(instanceId, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        resolve(this.state.instances.get(instanceId));
      };
      const timer = setTimeout(done, timeoutMs);
      set.add(done);
    });
  }

  #notifyCompletion(instanceId: string): void {
    const status = this.state.instances.get(instanceId)?.status;
    if (status && TERMINAL.has(status)) this.options.spans?.finish(instanceId, status);
    const set = this.#completionWaiters.get(instanceId);
    if (!set) return;
    this.#completionWaiters.delete(instanceId);
    for (const fn of [...set]) fn();
  }

  // ---- scheduling ------------------------------------------------------------------------

  #hasWork(inst: InstanceRecord): boolean {
    if (TERMINAL.has(inst.status)) return false;
    if (inst.status === "Suspended") {
      return inst.inbox.some(
        (m) =>
          m.event.EventType === EventType.ExecutionResumed ||
          m.event.EventType === EventType.ExecutionTerminated,
      );
    }
    return (
      inst.inbox.length > 0 ||
      (this.#volatile.get(inst.instanceId)?.length ?? 0) > 0 ||
      this.#forceEpisode.has(inst.instanceId)
    );
  }

  #kick(instanceId: string): void {
    if (!this.#readySet.has(instanceId)) {
      this.#readySet.add(instanceId);
      this.#ready.push(instanceId);
    }
    this.#pump();
  }

  #kickEntity(entityId: string): void {
    if (!this.#entityReady.includes(entityId)) this.#entityReady.push(entityId);
    this.#pump();
  }

  #pump(): void {
    if (!this.#started || this.#closed) return;
    let skipped: string[] | undefined;
    while (this.#running.size < this.#maxOrchestrations && this.#ready.length > 0) {
      const id = this.#ready.shift()!;
      if (this.#running.has(id)) {
        (skipped ??= []).push(id);
        continue;
      }
      this.#readySet.delete(id);
      const inst = this.state.instances.get(id);
      if (!inst || !this.#hasWork(inst)) continue;
      if (this.#rejects(inst)) continue;
      this.#running.add(id);
      void this.#track(
        this.#runEpisode(inst).then(
          () => this.#afterEpisode(id),
          (err: unknown) => {
            this.#logMsg("error", `Orchestration '${id}' episode failed: ${String(err)}`);
            this.#afterEpisode(id, true);
          },
        ),
      );
    }
    if (skipped) for (const id of skipped) this.#ready.push(id);
    while (this.#activeActivities < this.#maxActivities && this.#activities.length > 0) {
      const item = this.#activities.shift()!;
      this.#activeActivities++;
      void this.#track(
        this.#runActivity(item).finally(() => {
          this.#activeActivities--;
          this.#pump();
        }),
      );
    }
    for (let i = 0; i < this.#entityReady.length;) {
      const id = this.#entityReady[i];
      if (this.#entityRunning.has(id)) {
        i++;
        continue;
      }
      this.#entityReady.splice(i, 1);
      const entity = this.state.entities.get(id);
      if (!entity || entity.queue.length === 0) continue;
      this.#entityRunning.add(id);
      void this.#track(
        this.#runEntity(entity)
          .catch((err: unknown) => {
            this.#logMsg("error", `Entity '${id}' batch failed: ${String(err)}`);
            return "retry" as const;
          })
          .then((outcome) => {
            this.#entityRunning.delete(id);
            const again = this.state.entities.get(id);
            if (outcome === "retry") setTimeout(() => this.#kickEntity(id), 500).unref();
            else if (again && again.queue.length > 0) this.#kickEntity(id);
            else this.#pump();
          }),
      );
    }
  }

  /**
   * Version check before an episode (TaskOrchestrationDispatcher): with Reject, an instance this
   * host does not run stays as it is, messages included, until a host whose versioning accepts
   * it starts (the check cannot change while this engine runs, so it is not retried here).
   */
  #rejects(inst: InstanceRecord): boolean {
    if (this.#versioning.failureStrategy !== "Reject") return false;
    if (!refusesVersion(this.#versioning, inst.version)) return false;
    if (!this.#rejected.has(inst.instanceId)) {
      this.#rejected.add(inst.instanceId);
      this.#logMsg(
        "warn",
        `Instance '${inst.instanceId}' has version '${inst.version}', which this host does not run (${describeVersioning(this.#versioning)}); it stays queued for a host that does.`,
      );
    }
    return true;
  }

  #afterEpisode(id: string, retryLater = false): void {
    this.#running.delete(id);
    const inst = this.state.instances.get(id);
    if (inst && TERMINAL.has(inst.status)) this.#notifyCompletion(id);
    if (retryLater && !this.#closed) {
      if (!this.#retryAt.has(id)) {
        const t = setTimeout(() => {
          this.#retryAt.delete(id);
          this.#kick(id);
        }, 500);
        t.unref();
        this.#retryAt.set(id, t);
      }
    } else if (inst && this.#hasWork(inst)) {
      this.#kick(id);
      return;
    }
    this.#pump();
  }

  #pushVolatile(instanceId: string, executionId: string, event: HistoryEvent): void {
    if (this.#closed) return;
    const inst = this.state.instances.get(instanceId);
    if (!inst || inst.executionId !== executionId || TERMINAL.has(inst.status)) return;
    const list = this.#volatile.get(instanceId) ?? [];
    list.push({ executionId, event });
    this.#volatile.set(instanceId, list);
    this.#kick(instanceId);
  }

  #timerKey(instanceId: string, executionId: string, id: number): string {
    return `${instanceId}\u0000${executionId}\u0000${id}`;
  }

  #armTimer(instanceId: string, executionId: string, id: number, fireAt: string): void {
    const key = this.#timerKey(instanceId, executionId, id);
    if (this.#timers.has(key) || this.#closed) return;
    const due = new Date(fireAt).getTime();
    const schedule = () => {
      const delay = Math.max(0, due - Date.now());
      const t = setTimeout(
        () => {
          if (due > Date.now()) return schedule(); // long timers are re-armed in steps
          this.#timers.delete(key);
          this.#pushVolatile(
            instanceId,
            executionId,
            historyEvent(EventType.TimerFired, nowIso(), {
              TimerId: id,
              FireAt: fireAt,
            }),
          );
        },
        Math.min(delay, MAX_TIMEOUT),
      );
      this.#timers.set(key, t);
    };
    schedule();
  }

  #cancelTimer(instanceId: string, executionId: string, id: number): void {
    const key = this.#timerKey(instanceId, executionId, id);
    const t = this.#timers.get(key);
    if (t) {
      clearTimeout(t);
      this.#timers.delete(key);
    }
  }

  #cancelTimersOf(instanceId: string): void {
    const prefix = `${instanceId}\u0000`;
    for (const [key, t] of this.#timers) {
      if (key.startsWith(prefix)) {
        clearTimeout(t);
        this.#timers.delete(key);
      }
    }
  }

  #enqueueActivity(inst: InstanceRecord, scheduled: HistoryEvent): void {
    const name = String(scheduled.Name);
    const item: ActivityItem = {
      instanceId: inst.instanceId,
      executionId: inst.executionId,
      id: scheduled.EventId,
      name,
      input: String(scheduled.Input ?? "null"),
      attempt: 0,
    };
    if (name === "BuiltIn::HttpActivity")
      item.http = JSON.parse(item.input) as Record<string, unknown>;
    this.#activities.push(item);
  }

  // ---- orchestration episodes -----------------------------------------------------------

  async #runEpisode(inst: InstanceRecord): Promise<void> {
    const id = inst.instanceId;
    const executionId = inst.executionId;
    const forced = this.#forceEpisode.delete(id);
    const durable = inst.inbox.slice();
    const volatile = (this.#volatile.get(id) ?? []).filter((m) => m.executionId === executionId);
    this.#volatile.delete(id);
    const time = nowIso();
    const started: HistoryEvent = historyEvent(EventType.OrchestratorStarted, time, {});
    const consumed = durable.map((m) => m.seq);
    const incoming = [...durable.map((m) => m.event), ...volatile.map((m) => m.event)];

    // Fail: a refused version ends the instance before the orchestrator runs (Reject never
    // gets here: #pump leaves those instances queued).
    if (refusesVersion(this.#versioning, inst.version)) {
      await this.#failInstance(inst, [started, ...incoming], consumed, time, {
        message: VERSION_MISMATCH_MESSAGE,
        details: `The instance's version is '${inst.version}'; this host runs ${describeVersioning(this.#versioning)}.`,
        errorType: "VersionMismatch",
      });
      return;
    }

    const terminate = incoming.find((e) => e.EventType === EventType.ExecutionTerminated);
    if (terminate) {
      const reason = String(terminate.Input ?? "null");
      await this.#finishInstance(inst, {
        consumed,
        append: [started, { ...terminate, Timestamp: time }],
        status: "Terminated",
        output: reason,
        time,
      });
      return;
    }

    // Suspension holds every other message until a resume arrives.
    let suspended = inst.status === "Suspended";
    for (const e of incoming) {
      if (e.EventType === EventType.ExecutionSuspended) suspended = true;
      else if (e.EventType === EventType.ExecutionResumed) suspended = false;
    }
    if (suspended) {
      const controls = durable.filter(
        (m) =>
          m.event.EventType === EventType.ExecutionSuspended ||
          m.event.EventType === EventType.ExecutionResumed,
      );
      if (volatile.length > 0) this.#volatile.set(id, volatile);
      await this.#commit({
        t: "episode",
        instanceId: id,
        executionId,
        consumed: controls.map((m) => m.seq),
        append: controls.length > 0 ? [started, ...controls.map((m) => m.event)] : [],
        status: "Suspended",
        time,
      });
      return;
    }

    const newEvents = [started, ...incoming];
    const history = [...inst.history, ...newEvents];
    if (!history.some((e) => e.EventType === EventType.ExecutionStarted)) {
      // Nothing to run yet (e.g. a stray message before the start): keep it for later.
      this.#logMsg("warn", `Instance '${id}' has messages but no ExecutionStarted; skipping.`);
      return;
    }
    if (incoming.length === 0 && !forced) return;

    const fn = this.#functions.get(inst.name.toLowerCase());
    if (!fn || fn.kind !== "orchestration") {
      await this.#failInstance(inst, newEvents, consumed, time, {
        message: `The function '${inst.name}' doesn't exist, is disabled, or is not an orchestrator function.`,
      });
      return;
    }

    const payload = {
      history,
      input: inst.input === null ? "" : parseJsonText(inst.input),
      instanceId: id,
      isReplaying: inst.history.length > 0,
      parentInstanceId: inst.parent?.instanceId ?? "",
      upperSchemaVersion: 1,
      upperSchemaVersionNew: 2,
      longRunningTimerIntervalDuration: "3.00:00:00",
      maximumShortTimerDuration: "6.00:00:00",
      defaultHttpAsyncRequestSleepTimeMillseconds: 30000,
    };

    let result: OrchestratorResult;
    let thrown: { message: string; details?: string } | undefined;
    try {
      const response = await this.options.invoker.invoke(fn.name, {
        inputData: [{ name: fn.binding, data: { json: JSON.stringify(payload) } }],
        traceContext: this.options.spans?.traceContext(inst.instanceId),
      });
      result = decodeReturn(response.returnValue) as OrchestratorResult;
      if (!result || typeof result !== "object" || !Array.isArray(result.actions)) {
        throw new FunctionInvocationError(
          fn.name,
          "The orchestrator did not return an orchestration state.",
        );
      }
    } catch (err) {
      if (!(err instanceof FunctionInvocationError)) {
        // The worker is gone or restarting: put the messages back and retry the episode.
        this.#requeueVolatile(id, volatile);
        if (forced) this.#forceEpisode.add(id);
        throw err;
      }
      const at = err.message.indexOf(OUT_OF_PROC_MARKER);
      if (at >= 0) {
        try {
          result = JSON.parse(
            err.message.slice(at + OUT_OF_PROC_MARKER.length),
          ) as OrchestratorResult;
        } catch {
          result = { isDone: false, actions: [] };
        }
        const message = result.error ?? err.message.slice(0, at).trim();
        thrown = { message, details: err.details };
      } else {
        result = { isDone: false, actions: [] };
        thrown = { message: err.message, details: err.details };
      }
    }
    if (this.#closed) return;
    if (this.state.instances.get(id) !== inst || inst.executionId !== executionId) return; // purged/replaced meanwhile

    const customStatus =
      result.customStatus === undefined ? null : JSON.stringify(result.customStatus);
    if (thrown) {
      await this.#failInstance(
        inst,
        newEvents,
        consumed,
        time,
        {
          message: `Orchestrator function '${inst.name}' failed: ${thrown.message}`,
          details: thrown.details,
        },
        customStatus,
      );
      return;
    }

    const sim = replay({
      instanceId: id,
      history,
      actions: flattenActions(result.actions),
      now: new Date(time),
      executionId,
      defaultHttpSleepMs: 30000,
    });
    if (sim.nonDeterminism) {
      await this.#failInstance(
        inst,
        newEvents,
        consumed,
        time,
        { message: sim.nonDeterminism },
        customStatus,
      );
      return;
    }

    const creates: CreateInstance[] = [];
    const deliveries: Delivery[] = [];
    const afterCommit: (() => void)[] = [];
    this.#decide(inst, sim.decisions, creates, deliveries, afterCommit);
    for (const timerId of sim.canceledTimers) this.#cancelTimer(id, executionId, timerId);

    if (result.isDone && sim.continueAsNew) {
      const next = {
        executionId: randomUUID(),
        input: sim.continueAsNew.input,
        seq: this.state.nextSeq(),
      };
      // Only sends survive a continue-as-new; scheduled work of the old execution is dropped.
      const sends = deliveries.filter((d) => d.kind === "entity");
      this.#cancelTimersOf(id);
      await this.#commit({
        t: "episode",
        instanceId: id,
        executionId,
        consumed,
        append: [
          ...newEvents,
          ...sim.newEvents,
          historyEvent(EventType.ContinueAsNew, time, {
            Result: next.input,
          }),
        ],
        status: "ContinuedAsNew",
        customStatus,
        time,
        continueAsNew: next,
        deliveries: sends,
      });
      this.#afterDeliveries(sends, []);
      return;
    }

    if (result.isDone) {
      const output = jsonText(result.output);
      await this.#finishInstance(
        inst,
        {
          consumed,
          append: [...newEvents, ...sim.newEvents],
          status: "Completed",
          output,
          customStatus,
          time,
          creates,
          deliveries,
        },
        afterCommit,
      );
      return;
    }

    await this.#commit({
      t: "episode",
      instanceId: id,
      executionId,
      consumed,
      append: [
        ...newEvents,
        ...sim.newEvents,
        historyEvent(EventType.OrchestratorCompleted, time, {}),
      ],
      status: "Running",
      customStatus,
      time,
      creates,
      deliveries,
    });
    for (const fn2 of afterCommit) fn2();
    this.#afterDeliveries(deliveries, creates);
  }

  #requeueVolatile(id: string, messages: VolatileMessage[]): void {
    if (messages.length === 0) return;
    const list = this.#volatile.get(id) ?? [];
    this.#volatile.set(id, [...messages, ...list]);
  }

  /** Turns replay decisions into op parts (durable) and dispatches (after commit). */
  #decide(
    inst: InstanceRecord,
    decisions: Decision[],
    creates: CreateInstance[],
    deliveries: Delivery[],
    afterCommit: (() => void)[],
  ): void {
    const { instanceId, executionId } = inst;
    const time = nowIso();
    for (const d of decisions) {
      switch (d.kind) {
        case "activity":
          afterCommit.push(() =>
            this.#activities.push({
              instanceId,
              executionId,
              id: d.id,
              name: d.name,
              input: d.input,
              attempt: 0,
            }),
          );
          break;
        case "http":
          afterCommit.push(() =>
            this.#activities.push({
              instanceId,
              executionId,
              id: d.id,
              name: "BuiltIn::HttpActivity",
              input: JSON.stringify(d.request),
              http: d.request,
              attempt: 0,
            }),
          );
          break;
        case "timer":
          afterCommit.push(() => this.#armTimer(instanceId, executionId, d.id, d.fireAt));
          break;
        case "failAttempt":
          afterCommit.push(() =>
            this.#pushVolatile(
              instanceId,
              executionId,
              historyEvent(
                d.subOrchestration
                  ? EventType.SubOrchestrationInstanceFailed
                  : EventType.TaskFailed,
                nowIso(),
                { TaskScheduledId: d.id, Reason: d.reason, Details: d.details },
              ),
            ),
          );
          break;
        case "subOrchestration": {
          const existing = this.state.instances.get(d.instanceId);
          const pendingCreate = creates.some((c) => c.instanceId === d.instanceId);
          if (
            (existing && !TERMINAL.has(existing.status)) ||
            pendingCreate ||
            d.instanceId === instanceId
          ) {
            deliveries.push({
              kind: "instance",
              instanceId,
              executionId,
              seq: this.state.nextSeq(),
              event: historyEvent(EventType.SubOrchestrationInstanceFailed, time, {
                TaskScheduledId: d.id,
                Reason: `An orchestration with instance ID '${d.instanceId}' already exists and is not in a terminal state.`,
                Details: "",
              }),
            });
          } else {
            if (existing) afterCommit.push(() => this.#cancelTimersOf(d.instanceId));
            creates.push({
              instanceId: d.instanceId,
              name: this.#functions.get(d.name.toLowerCase())?.name ?? d.name,
              // Sub-orchestrations without a version get the default too.
              version: d.version || this.#versioning.defaultVersion,
              executionId: randomUUID(),
              input: d.input,
              parent: { instanceId, executionId, taskScheduledId: d.id },
              time,
              seq: this.state.nextSeq(),
            });
          }
          break;
        }
        case "entity": {
          const request: EntityRequest = {
            seq: this.state.nextSeq(),
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
          deliveries.push({ kind: "entity", entityId: d.entityId, request });
          break;
        }
      }
    }
  }

  #afterDeliveries(deliveries: Delivery[], creates: CreateInstance[]): void {
    for (const c of creates) this.#kick(c.instanceId);
    for (const d of deliveries) {
      if (d.kind === "instance") this.#kick(d.instanceId);
      else this.#kickEntity(d.entityId);
    }
    this.#pump();
  }

  async #failInstance(
    inst: InstanceRecord,
    newEvents: HistoryEvent[],
    consumed: number[],
    time: string,
    failure: { message: string; details?: string; errorType?: string },
    customStatus?: string | null,
  ): Promise<void> {
    this.#logMsg("warn", `Orchestration '${inst.instanceId}' failed: ${failure.message}`);
    await this.#finishInstance(inst, {
      consumed,
      append: newEvents,
      status: "Failed",
      output: JSON.stringify(failure.message),
      customStatus,
      failure,
      time,
    });
  }

  /** Commits a terminal episode: ExecutionCompleted, and the reply to a parent orchestration. */
  async #finishInstance(
    inst: InstanceRecord,
    o: {
      consumed: number[];
      append: HistoryEvent[];
      status: RuntimeStatus;
      output: string;
      customStatus?: string | null;
      failure?: { message: string; details?: string; errorType?: string };
      time: string;
      creates?: CreateInstance[];
      deliveries?: Delivery[];
    },
    afterCommit: (() => void)[] = [],
  ): Promise<void> {
    const deliveries = [...(o.deliveries ?? [])];
    const completed: HistoryEvent = historyEvent(EventType.ExecutionCompleted, o.time, {
      OrchestrationStatus: o.status,
      Result: o.output,
    });
    if (o.failure) {
      completed.FailureDetails = {
        ErrorType: o.failure.errorType ?? "OrchestrationFailure",
        ErrorMessage: o.failure.message,
        StackTrace: o.failure.details,
        ...(o.failure.errorType ? { IsNonRetriable: true } : {}),
      };
    }
    if (inst.parent) {
      const p = inst.parent;
      const success = o.status === "Completed";
      deliveries.push({
        kind: "instance",
        instanceId: p.instanceId,
        executionId: p.executionId,
        seq: this.state.nextSeq(),
        event: success
          ? historyEvent(EventType.SubOrchestrationInstanceCompleted, o.time, {
              TaskScheduledId: p.taskScheduledId,
              Result: o.output,
            })
          : historyEvent(EventType.SubOrchestrationInstanceFailed, o.time, {
              TaskScheduledId: p.taskScheduledId,
              Reason:
                o.failure?.message ??
                `Sub-orchestration '${inst.instanceId}' ended with status ${o.status}: ${o.output}`,
              Details: o.failure?.details ?? "",
            }),
      });
    }
    this.#cancelTimersOf(inst.instanceId);
    this.#volatile.delete(inst.instanceId);
    await this.#commit({
      t: "episode",
      instanceId: inst.instanceId,
      executionId: inst.executionId,
      consumed: o.consumed,
      append: [...o.append, completed],
      status: o.status,
      output: o.output,
      customStatus: o.customStatus,
      failure: o.failure,
      time: o.time,
      creates: o.creates,
      deliveries,
    });
    for (const fn of afterCommit) fn();
    this.#notifyCompletion(inst.instanceId);
    this.#afterDeliveries(deliveries, o.creates ?? []);
  }

  // ---- activities -------------------------------------------------------------------------

  async #runActivity(item: ActivityItem): Promise<void> {
    if (this.#closed) return;
    const inst = this.state.instances.get(item.instanceId);
    if (!inst || inst.executionId !== item.executionId || TERMINAL.has(inst.status)) return;
    let event: HistoryEvent;
    try {
      const value = item.http ? await this.#runHttp(item.http) : await this.#invokeActivity(item);
      event = historyEvent(EventType.TaskCompleted, nowIso(), {
        TaskScheduledId: item.id,
        Result: jsonText(value),
      });
    } catch (err) {
      if (!(err instanceof FunctionInvocationError) && !item.http) {
        // Infrastructure failure (worker exited): run the activity again (at-least-once).
        if (this.#closed) return;
        item.attempt++;
        const delay = Math.min(100 * 2 ** Math.min(item.attempt, 6), 5000);
        this.#logMsg(
          "warn",
          `Activity '${item.name}' could not run (${String(err)}); retrying in ${delay} ms.`,
        );
        setTimeout(() => {
          this.#activities.push(item);
          this.#pump();
        }, delay).unref();
        return;
      }
      event = this.#taskFailedEvent(item, err);
    }
    this.#pushVolatile(item.instanceId, item.executionId, event);
  }

  #taskFailedEvent(item: ActivityItem, err: unknown): HistoryEvent {
    const message = err instanceof Error ? err.message : String(err);
    const details =
      err instanceof FunctionInvocationError ? (err.details ?? "") : ((err as Error)?.stack ?? "");
    const event: HistoryEvent = historyEvent(EventType.TaskFailed, nowIso(), {
      TaskScheduledId: item.id,
      Reason: `Activity function '${item.name}' failed: ${message}`,
      Details: details,
    });
    // With an exception-properties provider registered, the SDK sends failure details as JSON.
    try {
      const parsed = JSON.parse(message) as Record<string, unknown>;
      if (
        parsed &&
        typeof parsed.errorType === "string" &&
        typeof parsed.errorMessage === "string"
      ) {
        event.Reason = `Activity function '${item.name}' failed: ${parsed.errorMessage}`;
        event.FailureDetails = {
          ErrorType: parsed.errorType,
          ErrorMessage: parsed.errorMessage,
          StackTrace: parsed.stackTrace ?? details,
          IsNonRetriable: parsed.isNonRetriable === true,
          Properties: parsed.properties,
        };
      }
    } catch {
      // a plain message
    }
    return event;
  }

  async #invokeActivity(item: ActivityItem): Promise<unknown> {
    const fn = this.#functions.get(item.name.toLowerCase());
    if (!fn || fn.kind !== "activity") {
      throw new FunctionInvocationError(
        item.name,
        `The function '${item.name}' doesn't exist, is disabled, or is not an activity function.`,
      );
    }
    // The Functions host's line for every invocation, activities included: it tells an operator
    // (or a fault test) that the worker is now inside this activity.
    const invocationId = randomUUID();
    this.#logMsg(
      "info",
      `Executing 'Functions.${fn.name}' (Reason='(null)', Id=${invocationId}, InstanceId=${item.instanceId})`,
    );
    const response = await this.options.invoker.invoke(fn.name, {
      invocationId,
      inputData: [{ name: fn.binding, data: { json: item.input } }],
      traceContext: this.options.spans?.traceContext(item.instanceId),
    });
    return decodeReturn(response.returnValue);
  }

  /** The extension's built-in HTTP activity (context.df.callHttp). */
  async #runHttp(request: Record<string, unknown>): Promise<unknown> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((request.headers as Record<string, unknown>) ?? {})) {
      headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
    }
    const method = String(request.method ?? "GET").toUpperCase();
    const content = request.content;
    const res = await fetch(String(request.uri), {
      method,
      headers,
      body:
        content === undefined || content === null || method === "GET" || method === "HEAD"
          ? undefined
          : typeof content === "string"
            ? content
            : JSON.stringify(content),
      signal: AbortSignal.timeout(Number(request.timeout) > 0 ? Number(request.timeout) : 90_000),
    });
    const resHeaders: Record<string, string> = {};
    res.headers.forEach((v, k) => (resHeaders[k] = v));
    return { statusCode: res.status, headers: resHeaders, content: await res.text() };
  }

  // ---- entities ---------------------------------------------------------------------------

  async #runEntity(entity: EntityRecord): Promise<"done" | "retry"> {
    if (this.#closed) return "done";
    const batch = entity.queue.slice(0, ENTITY_BATCH);
    const fn = this.#functions.get(entity.name.toLowerCase());
    const time = nowIso();
    let exists = entity.exists;
    let state = entity.state;
    const deliveries: Delivery[] = [];
    const reply = (req: EntityRequest, result: string | undefined, error: boolean) => {
      if (req.signal || !req.parent) return;
      deliveries.push({
        kind: "instance",
        instanceId: req.parent,
        executionId: req.parentExecution,
        seq: this.state.nextSeq(),
        event: historyEvent(EventType.EventRaised, time, {
          Name: req.id,
          Input: JSON.stringify(error ? { result, exceptionType: "Error" } : { result }),
        }),
      });
    };
    if (!fn || fn.kind !== "entity") {
      const message = JSON.stringify(
        `The function '${entity.name}' doesn't exist, is disabled, or is not an entity function.`,
      );
      for (const req of batch) reply(req, message, true);
    } else {
      try {
        const response = await this.options.invoker.invoke(fn.name, {
          inputData: [
            {
              name: fn.binding,
              data: {
                json: JSON.stringify({
                  self: { name: entity.name, key: entity.key },
                  exists: entity.exists,
                  state: entity.state,
                  batch: batch.map((r) => ({
                    name: r.op,
                    input: r.input,
                    isSignal: r.signal,
                    id: r.id,
                  })),
                }),
              },
            },
          ],
        });
        const out = decodeReturn(response.returnValue) as {
          entityExists?: boolean;
          entityState?: string;
          results?: { isError?: boolean; result?: string }[];
          signals?: { target: { name: string; key: string }; name: string; input?: string }[];
        };
        exists = out?.entityExists ?? exists;
        state = exists ? out?.entityState : undefined;
        batch.forEach((req, i) => {
          const r = out?.results?.[i];
          reply(req, r?.result, r?.isError === true);
        });
        for (const s of out?.signals ?? []) {
          deliveries.push({
            kind: "entity",
            entityId: `@${String(s.target.name).toLowerCase()}@${s.target.key}`,
            request: {
              seq: this.state.nextSeq(),
              op: s.name,
              input: s.input ? s.input : undefined,
              signal: true,
              id: randomUUID(),
              time,
            },
          });
        }
      } catch (err) {
        if (!(err instanceof FunctionInvocationError)) return "retry";
        for (const req of batch) reply(req, JSON.stringify(err.message), true);
      }
    }
    if (this.#closed) return "done";
    await this.#commit({
      t: "entity",
      entityId: entity.id,
      consumed: batch.map((r) => r.seq),
      exists,
      state,
      time,
      deliveries,
    });
    this.#afterDeliveries(deliveries, []);
    return "done";
  }

  /** Entity name/key from a scheduler id. */
  static parseEntityId = parseEntityId;
}
