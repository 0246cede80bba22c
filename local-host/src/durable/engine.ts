// The Durable engine: plays the Durable extension + DTFx for the out-of-proc JS SDK. Work items
// (orchestration episodes, activities, entity batches, timers) run against in-memory state; every
// state change is an Op appended to a DurableLog (group-committed, fsync'd) and anything that
// depends on an Op (dispatching activities, arming timers, waking other instances, answering a
// client) happens only after its append resolved. Activity results and timer firings are not
// logged on their own: they enter history in the next episode's Op, so a crash before that re-runs
// the activity (at-least-once) or re-arms the timer, and history stays exactly-once.
//
// This file wires the parts (see docs/durable-engine.md): commit.ts (log, compaction),
// scheduler.ts, episode.ts + decide.ts + finish.ts, activities.ts, entities.ts, timers.ts,
// management.ts (client operations), state.ts + finished.ts (hot state, finished store).
import * as os from "node:os";
import * as path from "node:path";
import { DurableLog } from "../../../durable-log/src";
import type { FunctionInfo, FunctionInvoker } from "../contracts";
import type { OrchestrationSpans, SpanIdentity } from "../telemetry/orchestrationSpans";
import { ActivityRunner } from "./activities";
import { clientBindingData, querySuffix } from "./binding";
import type { ManagementApi } from "./api";
import { Committer } from "./commit";
import { EntityRunner } from "./entities";
import { EpisodeRunner } from "./episode";
import { FunctionRegistry, type FunctionKind } from "./functions";
import { Management, type ClientOperations } from "./management";
import { Scheduler } from "./scheduler";
import { EngineState, parseEntityId, type StoredSnapshot } from "./state";
import { Timers } from "./timers";
import { EventType, type HistoryEvent, type InstanceRecord, type Op } from "./types";
import {
  describeVersioning,
  refusesVersion,
  versioningOf,
  type VersioningOptions,
} from "./versioning";

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
  /** Purge finished instances this long after their last update (default: keep until purged,
   *  as the extension does). The host sets it from LOCALHOST_DURABLE_RETENTION_HOURS. */
  retentionMs?: number;
  /** Log bytes before the first compaction (default COMPACT_MIN_BYTES; tests lower it). */
  compactMinBytes?: number;
}

function positive(v: unknown, fallback: number): number {
  const n = typeof v === "number" ? v : typeof v === "string" ? Number(v) : NaN;
  return n > 0 ? Math.floor(n) : fallback;
}

/**
 * Durable concurrency caps per CPU when host.json sets none. Every orchestration and activity runs
 * in the one worker process, so a cap only bounds the invocations handed to it over IPC; with the
 * extension's 10 × CPUs, 128 waiting callers leave ~100 instances queued while their callers keep
 * polling. Measured with the no-op app at 128 connections (docs/performance.md, "Concurrency
 * caps"): 100 × CPUs needs 2.5× fewer status polls and half the CPU per SDK-awaited workflow and
 * gave the start-and-wait route its best throughput and p50.
 */
const DEFAULT_CAP_PER_CPU = 100;

/** New instances keep their span's identity; the span opens once the create is durable. */
function spanHooks(spans: OrchestrationSpans | undefined) {
  if (!spans) return {};
  return {
    newTrace: (traceparent?: string) => spans.identity(traceparent),
    onStart: (id: string, name: string, trace: SpanIdentity) => spans.open(id, name, trace),
  };
}

export class DurableEngine implements ManagementApi {
  readonly options: DurableEngineOptions;
  readonly state: EngineState;
  readonly #committer: Committer;
  readonly #functions: FunctionRegistry;
  readonly #scheduler: Scheduler;
  readonly #timers: Timers;
  readonly #management: Management;
  readonly #versioning: VersioningOptions;
  readonly #maxActivities: number;
  readonly #maxOrchestrations: number;
  /** Instances this host refuses for their version (Reject): logged once, left queued. */
  readonly #rejected = new Set<string>();
  #retention: NodeJS.Timeout | undefined;
  #closed = false;

  private constructor(
    options: DurableEngineOptions,
    log: DurableLog<StoredSnapshot, Op>,
    state: EngineState,
  ) {
    this.options = options;
    this.state = state;
    const cpus = Math.max(1, os.cpus().length);
    const dt = options.durableTask ?? {};
    // host.json wins, as in the real host; the defaults are the local host's own (see
    // DEFAULT_CAP_PER_CPU), not the extension's 10 × CPUs.
    this.#maxActivities = positive(dt.maxConcurrentActivityFunctions, DEFAULT_CAP_PER_CPU * cpus);
    this.#maxOrchestrations = positive(
      dt.maxConcurrentOrchestratorFunctions,
      DEFAULT_CAP_PER_CPU * cpus,
    );
    this.#versioning = versioningOf(dt);
    this.#functions = new FunctionRegistry(options.functions);
    this.#committer = new Committer(
      log,
      state,
      (message) => this.#report("error", message),
      options.compactMinBytes,
    );
    this.#scheduler = new Scheduler(state, this.#maxOrchestrations, this.#maxActivities);
    this.#timers = new Timers((id, execution, event) =>
      this.#scheduler.pushVolatile(id, execution, event),
    );
    this.#management = new Management({
      committer: this.#committer,
      scheduler: this.#scheduler,
      timers: this.#timers,
      functions: this.#functions,
      defaultVersion: this.#versioning.defaultVersion,
      ...spanHooks(options.spans),
      onFinish: (id, status) => options.spans?.finish(id, status),
    });
  }

  /** Opens (and recovers) the engine state under `${dataDir}/durable` (the op log) and
   *  `${dataDir}/durable-archive` (finished instances). */
  static async open(options: DurableEngineOptions): Promise<DurableEngine> {
    const fsync = options.fsync ?? true;
    const { log, snapshot, records } = await DurableLog.open<StoredSnapshot, Op>({
      dir: path.join(options.dataDir, "durable"),
      fsync,
      onStall: (err) =>
        err
          ? options.log?.(
              "error",
              `Durable log writes failed (${err.message}); answering 503 and retrying until they succeed.`,
            )
          : options.log?.("info", "Durable log writes succeed again."),
    });
    const archive = path.join(options.dataDir, "durable-archive");
    const state = await EngineState.open(snapshot, archive, fsync);
    for (const op of records) state.apply(op);
    const engine = new DurableEngine(options, log, state);
    engine.#recover();
    return engine;
  }

  /** The write error while the log holds appends back (the disk is full), else undefined. */
  get persistenceStalled(): Error | undefined {
    return this.#committer.log.stalled;
  }

  /** `work`, unless the log starts holding appends back first (then DurableLogStalledError). */
  untilStalled<T>(work: Promise<T>): Promise<T> {
    return this.#committer.log.untilStalled(work);
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

  /** Compactions done since open (tests and the soak benchmark read it). */
  get compactions(): number {
    return this.#committer.compactions;
  }

  #report(level: "debug" | "info" | "warn" | "error", message: string): void {
    this.options.log?.(level, message);
  }

  /** Re-derives volatile work from durable state: open activities run again, timers re-arm. */
  #recover(): void {
    for (const inst of this.state.live.values()) {
      // The instance's span goes on where it was: same trace, same span id.
      if (inst.trace) this.options.spans?.open(inst.instanceId, inst.name, inst.trace);
      const open = new Map<number, HistoryEvent>();
      const openTimers = new Map<number, HistoryEvent>();
      for (const e of inst.history) {
        if (e.EventType === EventType.TaskScheduled) open.set(e.EventId, e);
        else if (e.EventType === EventType.TaskCompleted || e.EventType === EventType.TaskFailed)
          open.delete(Number(e.TaskScheduledId));
        else if (e.EventType === EventType.TimerCreated) openTimers.set(e.EventId, e);
        else if (e.EventType === EventType.TimerFired) openTimers.delete(Number(e.TimerId));
      }
      for (const e of open.values()) this.#scheduler.enqueueScheduled(inst, e);
      for (const e of openTimers.values())
        this.#timers.arm(inst.instanceId, inst.executionId, e.EventId, String(e.FireAt));
      // A replay re-derives decisions that lived only in memory (retry-timeout failures).
      if (inst.history.length > 0 && inst.status !== "Suspended")
        this.#scheduler.force(inst.instanceId);
      this.#scheduler.kick(inst.instanceId);
    }
    for (const entity of this.state.entities.values()) {
      if (entity.queue.length > 0) this.#scheduler.kickEntity(entity.id);
    }
    if (this.state.live.size > 0)
      this.#report(
        "info",
        `Durable engine recovered ${this.state.live.size} unfinished instance(s).`,
      );
    if (this.#versioning.defaultVersion || this.#versioning.matchStrategy === "Strict")
      this.#report("info", `Orchestration versioning: ${describeVersioning(this.#versioning)}.`);
  }

  start(): void {
    if (this.#closed) throw new Error("The durable engine is closed.");
    const episodes = new EpisodeRunner({
      committer: this.#committer,
      state: this.state,
      scheduler: this.#scheduler,
      timers: this.#timers,
      functions: this.#functions,
      defaultVersion: this.#versioning.defaultVersion,
      versioning: this.#versioning,
      invoker: this.options.invoker,
      spans: this.options.spans,
      report: (level, message) => this.#report(level, message),
      finished: (id) => this.#management.finished(id),
    });
    const activities = new ActivityRunner(
      this.state,
      this.#scheduler,
      this.#functions,
      this.options.invoker,
      this.options.spans,
      (level, message) => this.#report(level, message),
    );
    const entities = new EntityRunner(
      this.#committer,
      this.#scheduler,
      this.#functions,
      this.options.invoker,
    );
    this.#scheduler.start({
      episode: (inst) => episodes.run(inst),
      activity: (item) => activities.run(item),
      entity: (entity) => entities.run(entity),
      holds: (inst) => this.#rejects(inst),
      finished: (id) => this.#management.finished(id),
      report: (level, message) => this.#report(level, message),
    });
    this.#startRetention();
  }

  /** Stops dispatching, waits for in-flight work items, persists and closes the log. */
  async stop(): Promise<void> {
    if (this.#closed) return;
    this.#shutDown();
    await this.#scheduler.stop(10_000);
    this.#closed = true;
    await this.#committer.close(true);
  }

  /** Drops everything not yet committed and closes the log, as a crash would (for tests). */
  async abandon(): Promise<void> {
    this.#shutDown();
    this.#closed = true;
    void this.#scheduler.stop(0);
    await this.#committer.close(false).catch(() => undefined);
  }

  #shutDown(): void {
    this.#timers.stop();
    if (this.#retention) clearInterval(this.#retention);
  }

  /** With a retention set, finished instances older than it are purged (as a purge op). */
  #startRetention(): void {
    const ms = this.options.retentionMs;
    if (!ms || ms <= 0) return;
    const sweep = () => {
      const ids = this.state.finished.expired(Date.now() - ms);
      if (ids.length === 0 || this.#committer.closed) return;
      this.purge(ids).catch((err: unknown) =>
        this.#report("error", `Retention purge failed: ${String(err)}`),
      );
    };
    sweep();
    this.#retention = setInterval(sweep, Math.min(Math.max(ms / 4, 1000), 3_600_000));
    this.#retention.unref();
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
      this.#report(
        "warn",
        `Instance '${inst.instanceId}' has version '${inst.version}', which this host does not run (${describeVersioning(this.#versioning)}); it stays queued for a host that does.`,
      );
    }
    return true;
  }

  /** JSON for a `durableClient` input binding (durable-protocol.md §4). */
  clientBindingData(): Record<string, unknown> {
    return clientBindingData(this.options);
  }

  querySuffix(): string {
    return querySuffix(this.options);
  }

  functionKind(name: string): FunctionKind | undefined {
    return this.#functions.get(name)?.kind;
  }

  // ---- client operations (management.ts) --------------------------------------------------

  startNew: ClientOperations["startNew"] = (...a) => this.#management.startNew(...a);
  getInstance: ClientOperations["getInstance"] = (id) => this.#management.getInstance(id);
  listInstances: ClientOperations["listInstances"] = () => this.#management.listInstances();
  getEntity: ClientOperations["getEntity"] = (id) => this.#management.getEntity(id);
  listEntities: ClientOperations["listEntities"] = () => this.#management.listEntities();
  sendToInstance: ClientOperations["sendToInstance"] = (...a) =>
    this.#management.sendToInstance(...a);
  raiseEvent: ClientOperations["raiseEvent"] = (...a) => this.#management.raiseEvent(...a);
  terminate: ClientOperations["terminate"] = (...a) => this.#management.terminate(...a);
  suspend: ClientOperations["suspend"] = (...a) => this.#management.suspend(...a);
  resume: ClientOperations["resume"] = (...a) => this.#management.resume(...a);
  restart: ClientOperations["restart"] = (...a) => this.#management.restart(...a);
  rewind: ClientOperations["rewind"] = (id) => this.#management.rewind(id);
  purge: ClientOperations["purge"] = (ids) => this.#management.purge(ids);
  purgeEntity: ClientOperations["purgeEntity"] = (id) => this.#management.purgeEntity(id);
  signalEntity: ClientOperations["signalEntity"] = (...a) => this.#management.signalEntity(...a);
  waitForCompletion: ClientOperations["waitForCompletion"] = (...a) =>
    this.#management.waitForCompletion(...a);

  /** Entity name/key from a scheduler id. */
  static parseEntityId = parseEntityId;
}
