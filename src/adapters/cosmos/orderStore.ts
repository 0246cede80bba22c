// Orders in Cosmos DB (container `orders`, pk /id). Status changes are optimistic: take the
// document with its etag, check the lifecycle allows the move, replace with IfMatch; on 412
// (someone else changed it in between) read again and re-decide.
//
// The store remembers the last version of each order it read or wrote (a bounded map), and a
// change starts from it instead of a read: an order's stages are written one after the
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
    // Every missing step applied in memory (each checked by the lifecycle), then one write: the
    // stages in between (Paid on the way to Notifying) are never a version of their own.
    const decide = (current: Order): Order | undefined => {
      let next: Order | undefined;
      for (let step; (step = nextStage(next ?? current, steps, options.doneAt));) {
        next = applyStatus(next ?? current, step.status, step.outcome, this.now(), step.decidedBy);
      }
      return next;
    };
    return this.#update(orderId, decide);
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
   * One etag-guarded change: `change` decides on the current version (undefined: nothing to
   * write) and the result replaces it with IfMatch. It starts from the remembered version; a
   * decision not to write, or a refusal (`change` throws), is only taken on a version known to
   * be current (just read), else it reads and decides again. A 412 (changed since) reads again,
   * up to MAX_UPDATE_ATTEMPTS times.
   */
  async #update(
    orderId: string,
    change: (current: Order) => Order | undefined,
  ): Promise<{ before: Order; after: Order }> {
    let doc = this.#recent.get(orderId);
    let confirmed = false;
    for (let conflicts = 0; ;) {
      if (!doc) {
        doc = await this.#read(orderId);
        confirmed = true;
      }
      const current = withoutSystemProperties(doc);
      let next: Order | undefined;
      try {
        next = change(current);
      } catch (err) {
        if (confirmed) throw err;
        doc = undefined; // the remembered version may be stale: decide on a read
        continue;
      }
      if (next === undefined) {
        if (confirmed) return { before: current, after: current };
        doc = undefined;
        continue;
      }
      try {
        const { resource } = await this.container
          .item(orderId, orderId)
          .replace<StoredOrder>(next, {
            accessCondition: { type: "IfMatch", condition: doc._etag! },
          });
        if (resource) this.#remember(resource);
        else this.#recent.delete(orderId);
        return { before: current, after: resource ? withoutSystemProperties(resource) : next };
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
    // A condition on a parameter, into `into`, when the value is given.
    const when = (into: string[], value: string | undefined, name: string, clause: string) => {
      if (value === undefined) return;
      into.push(clause);
      parameters.push({ name, value });
    };
    if (query.visibleTo) {
      const v = query.visibleTo;
      const any: string[] = [];
      when(any, v.customerId, "@visibleCustomer", "c.customerId = @visibleCustomer");
      when(
        any,
        v.createdByApp,
        "@visibleApp",
        "(c.createdBy.kind = 'app' AND c.createdBy.id = @visibleApp)",
      );
      when(
        any,
        v.approverId,
        "@visibleApprover",
        "c.status = 'AwaitingApproval' OR c.decidedBy.id = @visibleApprover OR c.outcome.decidedBy.id = @visibleApprover",
      );
      filters.push(any.length ? `(${any.join(" OR ")})` : "false");
    }
    when(filters, query.customerId, "@customerId", "c.customerId = @customerId");
    when(filters, query.status, "@status", "c.status = @status");
    when(filters, query.from, "@from", "c.createdAt >= @from");
    when(filters, query.to, "@to", "c.createdAt < @to");
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
    const { after } = await this.#update(orderId, (current) => ({
      ...current,
      operatorActions: [...(current.operatorActions ?? []), action],
      updatedAt: this.now().toISOString(),
    }));
    return after;
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
