// The engine's durable state: instances (history + inbox) and entities (state + queue). Every
// change is an Op; `apply` is the only writer, so replaying the log rebuilds exactly this state.
import {
  EventType,
  TERMINAL,
  type CreateInstance,
  type Delivery,
  type EntityRecord,
  type HistoryEvent,
  type InstanceRecord,
  type Op,
  historyEvent,
} from "./types";

export interface Snapshot {
  version: 1;
  seq: number;
  instances: InstanceRecord[];
  entities: EntityRecord[];
}

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
  readonly instances = new Map<string, InstanceRecord>();
  readonly entities = new Map<string, EntityRecord>();
  seq = 0;

  static fromSnapshot(snapshot: Snapshot | undefined): EngineState {
    const state = new EngineState();
    if (!snapshot) return state;
    state.seq = snapshot.seq;
    for (const i of snapshot.instances) state.instances.set(i.instanceId, i);
    for (const e of snapshot.entities) state.entities.set(e.id, e);
    return state;
  }

  toSnapshot(): Snapshot {
    return {
      version: 1,
      seq: this.seq,
      instances: [...this.instances.values()],
      entities: [...this.entities.values()],
    };
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
        const inst = this.instances.get(op.instanceId);
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
        const inst = this.instances.get(op.instanceId);
        if (!inst) return;
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
        for (const id of op.instanceIds) this.instances.delete(id);
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
    this.instances.set(c.instanceId, {
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
      history: [],
      inbox: [{ seq: c.seq, event: executionStartedEvent(c) }],
    });
  }

  private deliver(d: Delivery): void {
    if (d.kind === "instance") {
      this.bump(d.seq);
      const inst = this.instances.get(d.instanceId);
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
