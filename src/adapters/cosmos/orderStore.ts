// Orders in Cosmos DB (container `orders`, pk /id). Status changes are optimistic: take the
// document with its etag, check the lifecycle allows the move, replace with IfMatch; on 412
// (someone else changed it in between) read again and re-decide.
//
// The store remembers the last version of each order it read or wrote (a bounded map), and a
// stage change starts from it instead of a read: an order's stages are written one after the
// other by the same worker (create, Charging, Paid, Notifying, Completed), so most changes cost
// one request instead of two. IfMatch keeps this exact: a remembered version someone else has
// since replaced gets a 412 and the change re-reads; a decision to write nothing is never taken
// on a remembered version alone.
import type { Container, SqlParameter } from "@azure/cosmos";
import type { DecidedBy, Order, OrderAction, OrderOutcome, OrderStatus } from "../../domain/order";
import { applyStatus, nextStage, type StageStep } from "../../domain/status";
import { ConcurrentUpdateError, MAX_UPDATE_ATTEMPTS, OrderNotFoundError } from "../errors";
import type { Visibility } from "../../auth/rights";
import type { OrderStatsRow, OrderStore } from "../ports";
import { cosmosStatus, withoutSystemProperties } from "./errors";

type StoredOrder = Order & { _etag?: string };

/** Orders remembered with their etag (most recent last). */
const REMEMBERED_ORDERS = 1024;

export class CosmosOrderStore implements OrderStore {
  readonly #recent = new Map<string, StoredOrder>();

  constructor(
    private readonly container: Container,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async create(
    order: Order,
  ): Promise<{ created: true; order: Order } | { created: false; existing: Order }> {
    try {
      const { resource } = await this.container.items.create<StoredOrder>(order);
      if (resource) this.#remember(resource);
      return { created: true, order: withoutSystemProperties(resource ?? order) };
    } catch (err) {
      if (cosmosStatus(err) !== 409) throw err;
      const existing = await this.get(order.id);
      if (!existing) throw err;
      return { created: false, existing };
    }
  }

  async get(orderId: string): Promise<Order | undefined> {
    const { resource } = await this.container.item(orderId, orderId).read<StoredOrder>();
    if (resource) this.#remember(resource);
    return resource ? withoutSystemProperties(resource) : undefined;
  }

  async updateStatus(
    orderId: string,
    status: OrderStatus,
    outcome?: OrderOutcome,
    decidedBy?: DecidedBy,
  ): Promise<Order> {
    // Replays and retried activities land here: when the change already happened, none is made.
    return (await this.advance(orderId, [{ status, outcome, decidedBy }])).after;
  }

  async advance(
    orderId: string,
    steps: readonly StageStep[],
    options: { doneAt?: OrderStatus } = {},
  ): Promise<{ before: Order; after: Order }> {
    let doc = this.#recent.get(orderId);
    let confirmed = false; // doc is known to be the current version (read, or our own write)
    let before: Order | undefined;
    for (let conflicts = 0; ;) {
      if (!doc) {
        doc = await this.#read(orderId);
        confirmed = true;
      }
      const current = withoutSystemProperties(doc);
      let step: StageStep | undefined;
      try {
        step = nextStage(current, steps, options.doneAt);
      } catch (err) {
        if (confirmed) throw err;
        doc = undefined; // the remembered version may be stale: decide on a read
        continue;
      }
      if (!step) {
        if (confirmed) return { before: before ?? current, after: current };
        doc = undefined;
        continue;
      }
      const next = applyStatus(current, step.status, step.outcome, this.now(), step.decidedBy);
      try {
        const { resource } = await this.container
          .item(orderId, orderId)
          .replace<StoredOrder>(next, {
            accessCondition: { type: "IfMatch", condition: doc._etag! },
          });
        before ??= current;
        if (!resource) return { before, after: next };
        doc = this.#remember(resource);
        confirmed = true;
      } catch (err) {
        const status = cosmosStatus(err);
        // 412: changed since; 404 on a remembered version: deleted since (the read says so).
        if (status !== 412 && !(status === 404 && !confirmed)) throw err;
        this.#recent.delete(orderId);
        if (confirmed && ++conflicts >= MAX_UPDATE_ATTEMPTS) {
          throw new ConcurrentUpdateError(orderId, MAX_UPDATE_ATTEMPTS);
        }
        doc = undefined;
      }
    }
  }

  async #read(orderId: string): Promise<StoredOrder> {
    const { resource } = await this.container.item(orderId, orderId).read<StoredOrder>();
    if (!resource) throw new OrderNotFoundError(orderId);
    return this.#remember(resource);
  }

  #remember(doc: StoredOrder): StoredOrder {
    this.#recent.delete(doc.id);
    this.#recent.set(doc.id, doc);
    if (this.#recent.size > REMEMBERED_ORDERS) {
      this.#recent.delete(this.#recent.keys().next().value!);
    }
    return doc;
  }

  /**
   * Read, change, replace with the read's etag; on a concurrent write (412) read again, up to
   * MAX_UPDATE_ATTEMPTS times. `change` returns undefined when there is nothing to write.
   * (Operator actions are rare: they always read first.)
   */
  async #update(orderId: string, change: (current: Order) => Order | undefined): Promise<Order> {
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const resource = await this.#read(orderId);
      const current = withoutSystemProperties(resource);
      const next = change(current);
      if (next === undefined) return current;
      try {
        const { resource: saved } = await this.container
          .item(orderId, orderId)
          .replace<StoredOrder>(next, {
            accessCondition: { type: "IfMatch", condition: resource._etag! },
          });
        if (saved) this.#remember(saved);
        return withoutSystemProperties(saved ?? next);
      } catch (err) {
        if (cosmosStatus(err) !== 412) throw err;
        this.#recent.delete(orderId);
      }
    }
    throw new ConcurrentUpdateError(orderId, MAX_UPDATE_ATTEMPTS);
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
    const filters: string[] = [];
    const parameters: SqlParameter[] = [];
    if (query.visibleTo) {
      const v = query.visibleTo;
      const any: string[] = [];
      if (v.customerId !== undefined) {
        any.push("c.customerId = @visibleCustomer");
        parameters.push({ name: "@visibleCustomer", value: v.customerId });
      }
      if (v.createdByApp !== undefined) {
        any.push("(c.createdBy.kind = 'app' AND c.createdBy.id = @visibleApp)");
        parameters.push({ name: "@visibleApp", value: v.createdByApp });
      }
      if (v.approverId !== undefined) {
        any.push(
          "c.status = 'AwaitingApproval' OR c.decidedBy.id = @visibleApprover OR c.outcome.decidedBy.id = @visibleApprover",
        );
        parameters.push({ name: "@visibleApprover", value: v.approverId });
      }
      filters.push(any.length ? `(${any.join(" OR ")})` : "false");
    }
    if (query.customerId !== undefined) {
      filters.push("c.customerId = @customerId");
      parameters.push({ name: "@customerId", value: query.customerId });
    }
    if (query.status !== undefined) {
      filters.push("c.status = @status");
      parameters.push({ name: "@status", value: query.status });
    }
    if (query.from !== undefined) {
      filters.push("c.createdAt >= @from");
      parameters.push({ name: "@from", value: query.from });
    }
    if (query.to !== undefined) {
      filters.push("c.createdAt < @to");
      parameters.push({ name: "@to", value: query.to });
    }
    const where = filters.length ? ` WHERE ${filters.join(" AND ")}` : "";
    const iterator = this.container.items.query<StoredOrder>(
      { query: `SELECT * FROM c${where} ORDER BY c.createdAt DESC`, parameters },
      { maxItemCount: query.limit, continuationToken: query.continuationToken },
    );
    // A page may come back empty with a continuation (cross-partition): keep going until items
    // arrive or the results end, so callers never see an empty page that is not the last.
    let page = await iterator.fetchNext();
    while (page.resources.length === 0 && page.continuationToken && iterator.hasMoreResults()) {
      page = await iterator.fetchNext();
    }
    const result: { items: Order[]; continuationToken?: string } = {
      items: page.resources.map((doc) => withoutSystemProperties(doc)),
    };
    if (page.continuationToken) result.continuationToken = page.continuationToken;
    return result;
  }

  async recordAction(orderId: string, action: OrderAction): Promise<Order> {
    return this.#update(orderId, (current) => ({
      ...current,
      operatorActions: [...(current.operatorActions ?? []), action],
      updatedAt: this.now().toISOString(),
    }));
  }

  async listStale(query: {
    statuses: readonly OrderStatus[];
    updatedBefore: string;
    updatedAfter?: string;
    limit: number;
  }): Promise<Order[]> {
    const names = query.statuses.map((_, i) => `@s${i}`);
    const after = query.updatedAfter === undefined ? "" : " AND c.updatedAt > @after";
    const { resources } = await this.container.items
      .query<StoredOrder>({
        query: `SELECT TOP @limit * FROM c WHERE c.status IN (${names.join(", ")}) AND c.updatedAt < @before${after} ORDER BY c.updatedAt ASC`,
        parameters: [
          { name: "@limit", value: query.limit },
          { name: "@before", value: query.updatedBefore },
          ...(query.updatedAfter === undefined
            ? []
            : [{ name: "@after", value: query.updatedAfter }]),
          ...query.statuses.map((value, i) => ({ name: names[i]!, value })),
        ],
      })
      .fetchAll();
    return resources.map((doc) => withoutSystemProperties(doc));
  }

  async listCreated(query: { from: string; to: string }): Promise<OrderStatsRow[]> {
    const { resources } = await this.container.items
      .query<OrderStatsRow>({
        query:
          "SELECT c.id, c.status, c.createdAt, c.updatedAt FROM c WHERE c.createdAt >= @from AND c.createdAt < @to",
        parameters: [
          { name: "@from", value: query.from },
          { name: "@to", value: query.to },
        ],
      })
      .fetchAll();
    return resources;
  }
}
