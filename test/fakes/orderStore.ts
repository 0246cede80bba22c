// In-memory OrderStore with the same etag semantics as the Cosmos one: every write gets a new
// etag, status updates replace only when the etag still matches and re-read on a mismatch.
import {
  ConcurrentUpdateError,
  MAX_UPDATE_ATTEMPTS,
  OrderNotFoundError,
} from "../../src/adapters/errors";
import type { OrderStatsRow, OrderStore } from "../../src/adapters/ports";
import type { Visibility } from "../../src/auth/rights";
import type {
  DecidedBy,
  Order,
  OrderAction,
  OrderOutcome,
  OrderStatus,
} from "../../src/domain/order";
import { applyStatus, nextStage, type StageStep } from "../../src/domain/status";
import { Failures } from "./failures";

interface Stored {
  order: Order;
  etag: string;
}

export class InMemoryOrderStore implements OrderStore {
  readonly failures = new Failures<"create" | "get" | "updateStatus" | "list">();
  readonly #docs = new Map<string, Stored>();
  #etag = 0;
  /** Called between the read and the conditional replace of updateStatus (to stage a race). */
  beforeReplace: ((orderId: string) => void) | undefined;
  /** Conditional replaces that failed on a stale etag (412s). */
  preconditionFailures = 0;
  /** Every status change written by updateStatus, in order (what readers could have seen). */
  readonly changes: { orderId: string; status: OrderStatus }[] = [];

  constructor(private readonly now: () => Date = () => new Date()) {}

  get size(): number {
    return this.#docs.size;
  }

  all(): Order[] {
    return [...this.#docs.values()].map((d) => structuredClone(d.order));
  }

  etagOf(orderId: string): string | undefined {
    return this.#docs.get(orderId)?.etag;
  }

  /** Writes unconditionally (a concurrent writer), bumping the etag. */
  put(order: Order): void {
    this.#docs.set(order.id, { order: structuredClone(order), etag: this.#nextEtag() });
  }

  async create(
    order: Order,
  ): Promise<{ created: true; order: Order } | { created: false; existing: Order }> {
    this.failures.check("create");
    const existing = this.#docs.get(order.id);
    if (existing) return { created: false, existing: structuredClone(existing.order) };
    this.put(order);
    return { created: true, order: structuredClone(order) };
  }

  async get(orderId: string): Promise<Order | undefined> {
    this.failures.check("get");
    const doc = this.#docs.get(orderId);
    return doc ? structuredClone(doc.order) : undefined;
  }

  async updateStatus(
    orderId: string,
    status: OrderStatus,
    outcome?: OrderOutcome,
    decidedBy?: DecidedBy,
  ): Promise<Order> {
    this.failures.check("updateStatus");
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const read = this.#docs.get(orderId);
      if (!read) throw new OrderNotFoundError(orderId);
      const current = structuredClone(read.order);
      if (current.status === status) return current;
      const next = applyStatus(current, status, outcome, this.now(), decidedBy);
      this.beforeReplace?.(orderId);
      if (this.#docs.get(orderId)?.etag !== read.etag) {
        this.preconditionFailures++;
        continue;
      }
      this.put(next);
      this.changes.push({ orderId, status });
      return structuredClone(next);
    }
    throw new ConcurrentUpdateError(orderId, MAX_UPDATE_ATTEMPTS);
  }

  /** Each missing step through updateStatus (the Cosmos store makes them one write), so a
   *  failure injected into updateStatus fails it here. */
  async advance(
    orderId: string,
    steps: readonly StageStep[],
    options: { doneAt?: OrderStatus } = {},
  ): Promise<{ before: Order; after: Order }> {
    this.failures.check("get");
    let current = await this.get(orderId);
    if (!current) throw new OrderNotFoundError(orderId);
    const before = current;
    for (;;) {
      const step = nextStage(current, steps, options.doneAt);
      if (!step) return { before, after: current };
      current = await this.updateStatus(orderId, step.status, step.outcome, step.decidedBy);
    }
  }

  async list(query: {
    customerId?: string;
    status?: OrderStatus;
    /** Created at or after `from` and before `to` (ISO 8601 UTC). */
    from?: string;
    to?: string;
    limit: number;
    continuationToken?: string;
    visibleTo?: Visibility;
  }): Promise<{ items: Order[]; continuationToken?: string }> {
    this.failures.check("list");
    const v = query.visibleTo;
    const visible = (o: Order) =>
      v === undefined ||
      (v.customerId !== undefined && o.customerId === v.customerId) ||
      (v.createdByApp !== undefined &&
        o.createdBy?.kind === "app" &&
        o.createdBy.id === v.createdByApp) ||
      (v.approverId !== undefined &&
        (o.status === "AwaitingApproval" ||
          o.decidedBy?.id === v.approverId ||
          o.outcome?.decidedBy?.id === v.approverId));
    const matching = this.all()
      .filter(visible)
      .filter((o) => query.customerId === undefined || o.customerId === query.customerId)
      .filter((o) => query.status === undefined || o.status === query.status)
      .filter((o) => query.from === undefined || o.createdAt >= query.from)
      .filter((o) => query.to === undefined || o.createdAt < query.to)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    const start = query.continuationToken ? Number(atob(query.continuationToken)) : 0;
    if (!Number.isInteger(start) || start < 0) throw new Error("invalid continuation token");
    const items = matching.slice(start, start + query.limit);
    const end = start + items.length;
    return end < matching.length ? { items, continuationToken: btoa(String(end)) } : { items };
  }

  async recordAction(orderId: string, action: OrderAction): Promise<Order> {
    const read = this.#docs.get(orderId);
    if (!read) throw new OrderNotFoundError(orderId);
    const next: Order = {
      ...structuredClone(read.order),
      operatorActions: [...(read.order.operatorActions ?? []), structuredClone(action)],
      updatedAt: this.now().toISOString(),
    };
    this.put(next);
    return structuredClone(next);
  }

  async listStale(query: {
    statuses: readonly OrderStatus[];
    updatedBefore: string;
    updatedAfter?: string;
    limit: number;
  }): Promise<Order[]> {
    return this.all()
      .filter((o) => query.statuses.includes(o.status) && o.updatedAt < query.updatedBefore)
      .filter((o) => query.updatedAfter === undefined || o.updatedAt > query.updatedAfter)
      .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
      .slice(0, query.limit);
  }

  async listCreated(query: { from: string; to: string }): Promise<OrderStatsRow[]> {
    return this.all()
      .filter((o) => o.createdAt >= query.from && o.createdAt < query.to)
      .map(({ id, status, createdAt, updatedAt }) => ({ id, status, createdAt, updatedAt }));
  }

  #nextEtag(): string {
    this.#etag += 1;
    return `"etag-${this.#etag}"`;
  }
}
