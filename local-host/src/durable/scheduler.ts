// Scheduling: which instance runs an episode next (one episode per instance at a time, at most
// maxConcurrentOrchestratorFunctions), the activity queue (maxConcurrentActivityFunctions) and
// the entity queue (one batch per entity at a time). Messages that are not durable yet (activity
// results, timer firings) wait here as volatile messages until an episode commits them.
import type { EngineState } from "./state";
import {
  EventType,
  TERMINAL,
  type EntityRecord,
  type HistoryEvent,
  type InstanceRecord,
} from "./types";

export interface ActivityItem {
  instanceId: string;
  executionId: string;
  id: number;
  name: string;
  input: string;
  http?: Record<string, unknown>;
  attempt: number;
}

export interface VolatileMessage {
  executionId: string;
  event: HistoryEvent;
}

/** What the scheduler starts; each resolves when the work item is over. */
export interface Runners {
  episode(inst: InstanceRecord): Promise<void>;
  activity(item: ActivityItem): Promise<void>;
  entity(entity: EntityRecord): Promise<"done" | "retry">;
  /** True when this host must leave the instance queued (versioning Reject). */
  holds(inst: InstanceRecord): boolean;
  finished(instanceId: string): void;
  report(level: "error" | "warn", message: string): void;
}

const RETRY_MS = 500;

export class Scheduler {
  readonly #state: EngineState;
  readonly #maxOrchestrations: number;
  readonly #maxActivities: number;
  #runners: Runners | undefined;
  readonly #ready: string[] = [];
  readonly #readySet = new Set<string>();
  readonly #running = new Set<string>();
  readonly #volatile = new Map<string, VolatileMessage[]>();
  /** Instances replayed even without new messages (after recovery). */
  readonly #forced = new Set<string>();
  readonly #retryAt = new Map<string, NodeJS.Timeout>();
  readonly #activities: ActivityItem[] = [];
  #activeActivities = 0;
  readonly #entityReady: string[] = [];
  readonly #entityRunning = new Set<string>();
  readonly #inflight = new Set<Promise<unknown>>();
  #started = false;
  #stopped = false;
  #pumpSoon: NodeJS.Immediate | undefined;

  constructor(state: EngineState, maxOrchestrations: number, maxActivities: number) {
    this.#state = state;
    this.#maxOrchestrations = maxOrchestrations;
    this.#maxActivities = maxActivities;
  }

  start(runners: Runners): void {
    this.#runners = runners;
    this.#started = true;
    this.pump();
  }

  /** Stops dispatching and waits (up to `timeoutMs`) for the work items in flight. */
  async stop(timeoutMs: number): Promise<void> {
    this.#started = false;
    this.#stopped = true;
    for (const t of this.#retryAt.values()) clearTimeout(t);
    if (this.#pumpSoon !== undefined) clearImmediate(this.#pumpSoon);
    this.#pumpSoon = undefined;
    this.#retryAt.clear();
    const deadline = Date.now() + timeoutMs;
    while (this.#inflight.size > 0 && Date.now() < deadline) {
      await Promise.race([
        Promise.allSettled([...this.#inflight]),
        new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()))),
      ]);
    }
  }

  get stopped(): boolean {
    return this.#stopped;
  }

  // ---- queueing ---------------------------------------------------------------------------

  kick(instanceId: string): void {
    this.#enqueue(instanceId);
    this.pump();
  }

  #enqueue(instanceId: string): void {
    if (!this.#readySet.has(instanceId)) {
      this.#readySet.add(instanceId);
      this.#ready.push(instanceId);
    }
  }

  kickEntity(entityId: string): void {
    if (!this.#entityReady.includes(entityId)) this.#entityReady.push(entityId);
    this.pump();
  }

  /** Replays the instance at its next turn even without new messages. */
  force(instanceId: string): void {
    this.#forced.add(instanceId);
  }

  /** Takes the forced flag (the episode that consumes it replays). */
  takeForced(instanceId: string): boolean {
    return this.#forced.delete(instanceId);
  }

  enqueueActivity(item: ActivityItem): void {
    this.#activities.push(item);
  }

  /** Queues an activity from its TaskScheduled event (recovery). */
  enqueueScheduled(inst: InstanceRecord, scheduled: HistoryEvent): void {
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

  /** Runs an activity again after `delayMs` (the worker could not take it). */
  retryActivity(item: ActivityItem, delayMs: number): void {
    setTimeout(() => {
      this.#activities.push(item);
      this.pump();
    }, delayMs).unref();
  }

  /** A message for the instance's next episode that is not durable yet. */
  pushVolatile(instanceId: string, executionId: string, event: HistoryEvent): void {
    if (this.#stopped) return;
    const inst = this.#state.live.get(instanceId);
    if (!inst || inst.executionId !== executionId) return;
    const list = this.#volatile.get(instanceId) ?? [];
    list.push({ executionId, event });
    this.#volatile.set(instanceId, list);
    this.#enqueue(instanceId);
    // Start the episode at the end of this turn, not now: results of parallel activities that
    // arrive together (one IPC read) then share one episode instead of one each.
    if (this.#pumpSoon === undefined) {
      this.#pumpSoon = setImmediate(() => {
        this.#pumpSoon = undefined;
        this.pump();
      });
    }
  }

  /** Takes the volatile messages of this execution (the episode commits or returns them). */
  takeVolatile(instanceId: string, executionId: string): VolatileMessage[] {
    const list = (this.#volatile.get(instanceId) ?? []).filter(
      (m) => m.executionId === executionId,
    );
    this.#volatile.delete(instanceId);
    return list;
  }

  /** Puts messages an episode did not commit back in front of newer ones. */
  returnVolatile(instanceId: string, messages: VolatileMessage[]): void {
    if (messages.length === 0) return;
    const list = this.#volatile.get(instanceId) ?? [];
    this.#volatile.set(instanceId, [...messages, ...list]);
  }

  dropVolatile(instanceId: string): void {
    this.#volatile.delete(instanceId);
  }

  // ---- dispatch ---------------------------------------------------------------------------

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
      this.#forced.has(inst.instanceId)
    );
  }

  pump(): void {
    const runners = this.#runners;
    if (!this.#started || this.#stopped || !runners) return;
    this.#pumpEpisodes(runners);
    while (this.#activeActivities < this.#maxActivities && this.#activities.length > 0) {
      const item = this.#activities.shift()!;
      this.#activeActivities++;
      this.#track(
        runners.activity(item).finally(() => {
          this.#activeActivities--;
          this.pump();
        }),
      );
    }
    this.#pumpEntities(runners);
  }

  #pumpEpisodes(runners: Runners): void {
    let skipped: string[] | undefined;
    while (this.#running.size < this.#maxOrchestrations && this.#ready.length > 0) {
      const id = this.#ready.shift()!;
      if (this.#running.has(id)) {
        (skipped ??= []).push(id);
        continue;
      }
      this.#readySet.delete(id);
      const inst = this.#state.live.get(id);
      if (!inst || !this.#hasWork(inst) || runners.holds(inst)) continue;
      this.#running.add(id);
      this.#track(
        runners.episode(inst).then(
          () => this.#afterEpisode(id, runners),
          (err: unknown) => {
            runners.report("error", `Orchestration '${id}' episode failed: ${String(err)}`);
            this.#afterEpisode(id, runners, true);
          },
        ),
      );
    }
    if (skipped) for (const id of skipped) this.#ready.push(id);
  }

  #afterEpisode(id: string, runners: Runners, retryLater = false): void {
    this.#running.delete(id);
    const inst = this.#state.live.get(id);
    if (!inst) runners.finished(id);
    if (retryLater && !this.#stopped) {
      if (!this.#retryAt.has(id)) {
        const t = setTimeout(() => {
          this.#retryAt.delete(id);
          this.kick(id);
        }, RETRY_MS);
        t.unref();
        this.#retryAt.set(id, t);
      }
    } else if (inst && this.#hasWork(inst)) {
      this.kick(id);
      return;
    }
    this.pump();
  }

  #pumpEntities(runners: Runners): void {
    for (let i = 0; i < this.#entityReady.length;) {
      const id = this.#entityReady[i];
      if (this.#entityRunning.has(id)) {
        i++;
        continue;
      }
      this.#entityReady.splice(i, 1);
      const entity = this.#state.entities.get(id);
      if (!entity || entity.queue.length === 0) continue;
      this.#entityRunning.add(id);
      this.#track(
        runners
          .entity(entity)
          .catch((err: unknown) => {
            runners.report("error", `Entity '${id}' batch failed: ${String(err)}`);
            return "retry" as const;
          })
          .then((outcome) => {
            this.#entityRunning.delete(id);
            const again = this.#state.entities.get(id);
            if (outcome === "retry") setTimeout(() => this.kickEntity(id), RETRY_MS).unref();
            else if (again && again.queue.length > 0) this.kickEntity(id);
            else this.pump();
          }),
      );
    }
  }

  #track(p: Promise<unknown>): void {
    this.#inflight.add(p);
    const remove = () => this.#inflight.delete(p);
    p.then(remove, remove);
  }
}
