// Entity batches: up to ENTITY_BATCH queued operations of one entity in one invocation; the new
// state, the replies to calling orchestrations and the signals it sends commit as one op.
import { randomUUID } from "node:crypto";
import { FunctionInvocationError, type FunctionInvoker } from "../contracts";
import type { Committer } from "./commit";
import { decodeReturn, nowIso, type FunctionRegistry } from "./functions";
import type { Scheduler } from "./scheduler";
import {
  EventType,
  historyEvent,
  type Delivery,
  type EntityRecord,
  type EntityRequest,
} from "./types";

const ENTITY_BATCH = 50;

interface EntityOutput {
  entityExists?: boolean;
  entityState?: string;
  results?: { isError?: boolean; result?: string }[];
  signals?: { target: { name: string; key: string }; name: string; input?: string }[];
}

export class EntityRunner {
  constructor(
    private readonly committer: Committer,
    private readonly scheduler: Scheduler,
    private readonly functions: FunctionRegistry,
    private readonly invoker: FunctionInvoker,
  ) {}

  async run(entity: EntityRecord): Promise<"done" | "retry"> {
    if (this.committer.closed) return "done";
    const batch = entity.queue.slice(0, ENTITY_BATCH);
    const fn = this.functions.ofKind(entity.name, "entity");
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
        seq: this.committer.state.nextSeq(),
        event: historyEvent(EventType.EventRaised, time, {
          Name: req.id,
          Input: JSON.stringify(error ? { result, exceptionType: "Error" } : { result }),
        }),
      });
    };
    if (!fn) {
      const message = JSON.stringify(
        `The function '${entity.name}' doesn't exist, is disabled, or is not an entity function.`,
      );
      for (const req of batch) reply(req, message, true);
    } else {
      try {
        const out = await this.#invoke(fn.name, fn.binding, entity, batch);
        exists = out?.entityExists ?? exists;
        state = exists ? out?.entityState : undefined;
        batch.forEach((req, i) => {
          const r = out?.results?.[i];
          reply(req, r?.result, r?.isError === true);
        });
        for (const s of out?.signals ?? []) deliveries.push(this.#signal(s, time));
      } catch (err) {
        if (!(err instanceof FunctionInvocationError)) return "retry";
        for (const req of batch) reply(req, JSON.stringify(err.message), true);
      }
    }
    if (this.committer.closed) return "done";
    await this.committer.commit({
      t: "entity",
      entityId: entity.id,
      consumed: batch.map((r) => r.seq),
      exists,
      state,
      time,
      deliveries,
    });
    for (const d of deliveries) {
      if (d.kind === "instance") this.scheduler.kick(d.instanceId);
      else this.scheduler.kickEntity(d.entityId);
    }
    this.scheduler.pump();
    return "done";
  }

  async #invoke(
    name: string,
    binding: string,
    entity: EntityRecord,
    batch: EntityRequest[],
  ): Promise<EntityOutput | undefined> {
    const response = await this.invoker.invoke(name, {
      inputData: [
        {
          name: binding,
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
    return decodeReturn(response.returnValue) as EntityOutput | undefined;
  }

  #signal(s: NonNullable<EntityOutput["signals"]>[number], time: string): Delivery {
    return {
      kind: "entity",
      entityId: `@${String(s.target.name).toLowerCase()}@${s.target.key}`,
      request: {
        seq: this.committer.state.nextSeq(),
        op: s.name,
        input: s.input ? s.input : undefined,
        signal: true,
        id: randomUUID(),
        time,
      },
    };
  }
}
