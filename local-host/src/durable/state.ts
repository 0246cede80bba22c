// The engine's durable state: live instances (history + inbox) and entities (state + queue) in
// memory, finished instances in the FinishedStore. Every change is an Op; `apply` is the only
// writer, so replaying the log rebuilds exactly this state. An instance leaves the hot state
// when an episode ends it, so snapshots (and compaction) cost what is live, not what ever ran.
import { FinishedStore, type ArchiveManifest } from "./finished";
import {
  EventType,
  TERMINAL,
  type CreateInstance,
  type Delivery,
  type EntityRecord,
  type HistoryEvent,
  type InstanceRecord,
  type Op,
  type RuntimeStatus,
  historyEvent,
} from "./types";

/** The snapshot before the bounded store: every instance ever run, one JSON value. */
export interface SnapshotV1 {
  version: 1;
  seq: number;
  instances: InstanceRecord[];
  entities: EntityRecord[];
}

/** The snapshot's first part; the others are `{ i: live instance }` and `{ e: entity }`. */
export interface SnapshotHeader {
  version: 2;
  seq: number;
  archive: ArchiveManifest;
}

export type SnapshotPart = SnapshotHeader | { i: InstanceRecord } | { e: EntityRecord };

/** What DurableLog.open returns for the engine's snapshot file (either generation). */
export type StoredSnapshot = SnapshotV1 | SnapshotPart[];

export function executionStartedEvent(c: {
  instanceId: string;
  executionId: string;
  name: string;
  version: string;
  input: string | null;
  parent?: { instanceId: string; executionId: string; taskScheduledId: number } | undefined;
  time: string;
}): HistoryEvent {
  return historyEvent(EventType.ExecutionStarted, c.time, {
    Name: c.name,
    Version: c.version,
    Input: c.input,
    OrchestrationInstance: { InstanceId: c.instanceId, ExecutionId: c.executionId },
    ParentInstance: c.parent
      ? {
          OrchestrationInstance: {
            InstanceId: c.parent.instanceId,
            ExecutionId: c.parent.executionId,
          },
          TaskScheduleId: c.parent.taskScheduledId,
        }
      : null,
    Tags: null,
  });
}

export function parseEntityId(id: string): { name: string; key: string } {
  const at = id.indexOf("@", 1);
  return { name: id.slice(1, at), key: id.slice(at + 1) };
}

export class EngineState {
  /** Instances that have not finished (the hot state). */
  readonly live = new Map<string, InstanceRecord>();
  readonly entities = new Map<string, EntityRecord>();
  readonly finished: FinishedStore;
  seq = 0;

  private constructor(finished: FinishedStore) {
    this.finished = finished;
  }

  /** Rebuilds the state from a snapshot of either generation (v1 files still open: their
   *  finished instances move to the archive at the next compaction). */
  static async open(
    snapshot: StoredSnapshot | undefined,
    archiveDir: string,
    fsync: boolean,
  ): Promise<EngineState> {
    const parts = Array.isArray(snapshot) ? snapshot : undefined;
    const header = parts?.[0] as SnapshotHeader | undefined;
    const state = new EngineState(await FinishedStore.open(archiveDir, header?.archive, fsync));
    if (parts) {
      state.seq = header!.seq;
      for (const part of parts.slice(1)) {
        if ("i" in part) state.live.set(part.i.instanceId, part.i);
        else if ("e" in part) state.entities.set(part.e.id, part.e);
      }
    } else if (snapshot && !Array.isArray(snapshot)) {
      state.seq = snapshot.seq;
      for (const i of snapshot.instances) state.#place(i);
      for (const e of snapshot.entities) state.entities.set(e.id, e);
    }
    return state;
  }

  /** The snapshot of this moment, one part per live instance and entity. */
  snapshotParts(archive: ArchiveManifest): SnapshotPart[] {
    const parts: SnapshotPart[] = [{ version: 2, seq: this.seq, archive }];
    for (const i of this.live.values()) parts.push({ i });
    for (const e of this.entities.values()) parts.push({ e });
    return parts;
  }

  /** A live or finished instance (a finished one is read from the store). */
  getInstance(id: string): InstanceRecord | undefined {
    return this.live.get(id) ?? this.finished.get(id);
  }

  hasInstance(id: string): boolean {
    return this.live.has(id) || this.finished.has(id);
  }

  statusOf(id: string): RuntimeStatus | undefined {
    return this.live.get(id)?.status ?? this.finished.statusOf(id);
  }

  #place(inst: InstanceRecord): void {
    if (TERMINAL.has(inst.status)) this.finished.add(inst);
    else this.live.set(inst.instanceId, inst);
  }

  nextSeq(): number {
    return ++this.seq;
  }

  apply(op: Op): void {
    switch (op.t) {
      case "create":
        this.create(op.c);
        break;
      case "deliver":
        this.deliver(op.d);
        break;
      case "episode": {
        const inst = this.live.get(op.instanceId);
        if (!inst || inst.executionId !== op.executionId) return;
        if (op.consumed.length > 0) {
          const consumed = new Set(op.consumed);
          inst.inbox = inst.inbox.filter((m) => !consumed.has(m.seq));
        }
        for (const e of op.append) inst.history.push(e);
        inst.status = op.status;
        if (op.output !== undefined) inst.output = op.output;
        if (op.customStatus !== undefined) inst.customStatus = op.customStatus;
        if (op.failure !== undefined) inst.failure = op.failure;
        inst.lastUpdatedTime = op.time;
        if (op.continueAsNew) {
          const next = op.continueAsNew;
          this.bump(next.seq);
          inst.executionId = next.executionId;
          inst.input = next.input;
          inst.output = null;
          inst.history = [];
          inst.inbox = inst.inbox.filter((m) => !m.executionId);
          inst.inbox.unshift({
            seq: next.seq,
            event: executionStartedEvent({
              instanceId: inst.instanceId,
              executionId: next.executionId,
              name: inst.name,
              version: inst.version,
              input: next.input,
              parent: inst.parent,
              time: op.time,
            }),
          });
        }
        if (TERMINAL.has(inst.status)) {
          this.live.delete(inst.instanceId);
          this.finished.add(inst);
        }
        for (const c of op.creates ?? []) this.create(c);
        for (const d of op.deliveries ?? []) this.deliver(d);
        break;
      }
      case "entity": {
        const entity = this.entities.get(op.entityId);
        if (!entity) return;
        const consumed = new Set(op.consumed);
        entity.queue = entity.queue.filter((r) => !consumed.has(r.seq));
        entity.exists = op.exists;
        entity.state = op.state;
        entity.lastModified = op.time;
        for (const d of op.deliveries ?? []) this.deliver(d);
        break;
      }
      case "rewind": {
        const inst = this.live.get(op.instanceId) ?? this.finished.get(op.instanceId);
        if (!inst) return;
        this.finished.remove(op.instanceId);
        this.live.set(op.instanceId, inst);
        this.bump(op.seq);
        inst.history = op.history;
        inst.status = "Running";
        inst.output = null;
        inst.failure = undefined;
        inst.lastUpdatedTime = op.time;
        inst.inbox.push({
          seq: op.seq,
          event: historyEvent(EventType.GenericEvent, op.time, {
            Data: "rewind",
          }),
        });
        break;
      }
      case "purge":
        for (const id of op.instanceIds) if (!this.live.delete(id)) this.finished.remove(id);
        break;
      case "purgeEntity":
        this.entities.delete(op.entityId);
        break;
    }
  }

  private bump(seq: number): void {
    if (seq > this.seq) this.seq = seq;
  }

  private create(c: CreateInstance): void {
    this.bump(c.seq);
    this.finished.remove(c.instanceId);
    this.live.set(c.instanceId, {
      instanceId: c.instanceId,
      name: c.name,
      version: c.version,
      executionId: c.executionId,
      status: "Pending",
      input: c.input,
      output: null,
      customStatus: null,
      createdTime: c.time,
      lastUpdatedTime: c.time,
      parent: c.parent,
      ...(c.trace ? { trace: c.trace } : {}),
      history: [],
      inbox: [{ seq: c.seq, event: executionStartedEvent(c) }],
    });
  }

  private deliver(d: Delivery): void {
    if (d.kind === "instance") {
      this.bump(d.seq);
      const inst = this.live.get(d.instanceId);
      if (!inst || TERMINAL.has(inst.status)) return;
      if (d.executionId && d.executionId !== inst.executionId) return;
      inst.inbox.push({ seq: d.seq, event: d.event, executionId: d.executionId });
      return;
    }
    this.bump(d.request.seq);
    let entity = this.entities.get(d.entityId);
    if (!entity) {
      const { name, key } = parseEntityId(d.entityId);
      entity = {
        id: d.entityId,
        name,
        key,
        exists: false,
        queue: [],
        lastModified: d.request.time,
      };
      this.entities.set(d.entityId, entity);
    }
    entity.queue.push(d.request);
  }
}
