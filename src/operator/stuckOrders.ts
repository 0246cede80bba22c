// Stuck orders: a non-terminal stage held longer than its threshold (awaiting approval may
// legitimately wait APPROVAL_TIMEOUT), or Failed with the money taken and not given back. Actions
// follow the table in ./actionTable.ts; each is checked against fresh state when it is taken, and
// recorded on the order (operatorActions) with its reason.
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";
import type { Actor, LedgerEntry } from "../adapters/ports";
import { getServices } from "../adapters/services";
import type { AppSettings } from "../config";
import {
  CANCEL_EVENT,
  ORCHESTRATOR_NAME,
  type Order,
  type OrderAction,
  type OrderStatus,
} from "../domain/order";
import { processOrderInput } from "../intake/acceptOrder";
import { getInstance, IN_PROGRESS } from "../intake/instances";
import { allowedActions, type Situation, type StuckAction } from "./actionTable";

/** Seconds a stage may be held before the order counts as stuck. */
export function thresholdSeconds(status: OrderStatus, settings: AppSettings): number | undefined {
  switch (status) {
    case "Received":
    case "Approved":
    case "Paid":
      return 120;
    case "AwaitingApproval":
      // The deadline, plus five minutes for the timer to fire and the order to be rejected.
      return Math.ceil(settings.approvalTimeoutMs / 1000) + 300;
    case "Charging":
      return 300; // the charge's retries take ~15 s; the rest is slack for a slow gateway
    case "Notifying":
      return 600;
    case "Failed":
      return 0; // only when charged and not refunded (see isStuck)
    default:
      return undefined;
  }
}

export const STUCK_STAGES: readonly OrderStatus[] = [
  "Received",
  "AwaitingApproval",
  "Approved",
  "Charging",
  "Paid",
  "Notifying",
  "Failed",
];

export interface Assessed {
  order: Order;
  instance: DurableOrchestrationStatus | undefined;
  situation: Situation;
  ledger: LedgerEntry[];
  actions: StuckAction[];
}

export async function assess(client: DurableClient, order: Order): Promise<Assessed> {
  const [instance, ledger] = await Promise.all([
    getInstance(client, order.id),
    getServices().payments.list(order.id),
  ]);
  const situation: Situation = {
    status: order.status,
    runtimeStatus: instance ? String(instance.runtimeStatus) : "None",
    charged: ledger.some((e) => e.kind === "charge"),
    refunded: ledger.some((e) => e.kind === "refund"),
  };
  return { order, instance, situation, ledger, actions: allowedActions(situation) };
}

export function isStuck(a: Assessed): boolean {
  if (a.order.status === "Failed") return a.situation.charged && !a.situation.refunded;
  return a.actions.length > 0 || a.situation.runtimeStatus !== "Completed";
}

export interface StuckItem {
  orderId: string;
  status: OrderStatus;
  runtimeStatus: string;
  since: string;
  ageSeconds: number;
  thresholdSeconds: number;
  actions: StuckAction[];
}

export function stuckItem(a: Assessed, settings: AppSettings, now: Date): StuckItem {
  return {
    orderId: a.order.id,
    status: a.order.status,
    runtimeStatus: a.situation.runtimeStatus,
    since: a.order.updatedAt,
    ageSeconds: Math.max(0, Math.floor((now.getTime() - Date.parse(a.order.updatedAt)) / 1000)),
    thresholdSeconds: thresholdSeconds(a.order.status, settings) ?? 0,
    actions: a.actions,
  };
}

/** Stuck orders, the longest-held first; `after` is the `since` of the previous page's last. */
export async function listStuck(
  client: DurableClient,
  settings: AppSettings,
  query: { limit: number; after?: string },
  now: Date = new Date(),
): Promise<{ items: StuckItem[]; next?: string }> {
  const byStage = await Promise.all(
    STUCK_STAGES.map((status) =>
      getServices().orders.listStale({
        statuses: [status],
        updatedBefore: new Date(
          now.getTime() - (thresholdSeconds(status, settings) ?? 0) * 1000,
        ).toISOString(),
        limit: query.limit + 1,
        ...(query.after ? { updatedAfter: query.after } : {}),
      }),
    ),
  );
  const candidates = byStage
    .flat()
    // A Failed order is a candidate only when money was taken and no refund is recorded on it.
    .filter((o) => o.status !== "Failed" || (o.outcome?.chargeId && !o.outcome.refundId))
    .sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))
    .slice(0, query.limit + 1);
  const page = candidates.slice(0, query.limit);
  const assessed = await Promise.all(page.map((o) => assess(client, o)));
  const items = assessed.filter(isStuck).map((a) => stuckItem(a, settings, now));
  const last = page[page.length - 1];
  return candidates.length > query.limit && last ? { items, next: last.updatedAt } : { items };
}

export class ActionRefused extends Error {
  constructor(detail: string) {
    super(detail);
    this.name = "ActionRefused";
  }
}

export interface ActionResult {
  orderId: string;
  action: StuckAction;
  status: OrderStatus;
  refundId?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Terminates a live instance and waits (up to ~10 s) until the runtime says it stopped. */
async function stop(client: DurableClient, orderId: string, reason: string): Promise<void> {
  const instance = await getInstance(client, orderId);
  if (!instance || !IN_PROGRESS.has(String(instance.runtimeStatus))) return;
  await client.terminate(orderId, reason);
  for (let i = 0; i < 50; i++) {
    const now = await getInstance(client, orderId);
    if (!now || !IN_PROGRESS.has(String(now.runtimeStatus))) return;
    await sleep(200);
  }
  throw new ActionRefused(`The orchestration of order ${orderId} did not stop; nothing changed.`);
}

/** Waits (up to ~5 s) for the stored order to leave `status`; resolves the latest order. */
async function settled(orderId: string, status: OrderStatus): Promise<Order | undefined> {
  for (let i = 0; i < 25; i++) {
    const order = await getServices().orders.get(orderId);
    if (!order || order.status !== status) return order;
    await sleep(200);
  }
  return getServices().orders.get(orderId);
}

/**
 * Takes `action` on the order if the table allows it now (ActionRefused otherwise), records it
 * on the order and resolves the result. The caller writes the audit entry.
 */
export async function takeAction(
  client: DurableClient,
  settings: AppSettings,
  order: Order,
  action: StuckAction,
  by: Actor,
  reason: string,
  now: Date = new Date(),
): Promise<ActionResult> {
  const services = getServices();
  const a = await assess(client, order);
  if (!a.actions.includes(action)) {
    throw new ActionRefused(
      `Action ${action} is not allowed for order ${order.id} at stage ${order.status} with runtime status ${a.situation.runtimeStatus}` +
        (a.actions.length
          ? ` (allowed: ${a.actions.join(", ")}).`
          : " (no action is allowed now)."),
    );
  }
  const why = `${action} by ${by.name}: ${reason}`;
  let status: OrderStatus = order.status;
  let refundId: string | undefined;
  const decidedBy = { ...by, at: now.toISOString() };
  switch (action) {
    case "start":
      await client.startNew(ORCHESTRATOR_NAME, {
        instanceId: order.id,
        input: processOrderInput(order, settings),
      });
      break;
    case "resume":
      await client.resume(order.id, why);
      break;
    case "rewind":
      await client.rewind(order.id, why);
      break;
    case "cancel": {
      if (order.status === "AwaitingApproval" && a.situation.runtimeStatus === "Running") {
        // The workflow's own way out: it records Cancelled with decidedBy.
        await client.raiseEvent(order.id, CANCEL_EVENT, { reason: why, decidedBy });
        status = (await settled(order.id, "AwaitingApproval"))?.status ?? status;
        break;
      }
      await stop(client, order.id, why);
      const ledger = await services.payments.list(order.id);
      if (ledger.some((e) => e.kind === "charge")) {
        throw new ActionRefused(
          `Order ${order.id} was charged meanwhile; it can only be refunded now.`,
        );
      }
      const end = order.status === "Charging" ? "PaymentFailed" : "Cancelled";
      const updated = await services.orders.updateStatus(
        order.id,
        end,
        { status: end, reason: `Cancelled by ${by.name} before any charge: ${reason}`, decidedBy },
        decidedBy,
      );
      status = updated.status;
      break;
    }
    case "refund": {
      await stop(client, order.id, why);
      if ((await services.orders.get(order.id))?.status === "Completed") {
        throw new ActionRefused(`Order ${order.id} completed meanwhile; nothing was refunded.`);
      }
      const charge = (await services.payments.list(order.id)).find((e) => e.kind === "charge");
      if (!charge) throw new ActionRefused(`Order ${order.id} has no charge to refund.`);
      const refund = await services.gateway.refund({
        // The same key as the workflow's compensation: one refund per order, whoever asks.
        idempotencyKey: order.id,
        chargeId: charge.reference,
        amount: charge.amount,
        currency: charge.currency,
        reason: why,
      });
      refundId = refund.refundId;
      const current = await services.orders.get(order.id);
      if (current && current.status !== "Failed" && current.status !== "Completed") {
        const updated = await services.orders.updateStatus(order.id, "Failed", {
          status: "Failed",
          reason: `Refunded by ${by.name}: ${reason}`,
          chargeId: charge.reference,
          refundId,
        });
        status = updated.status;
      } else if (current) status = current.status;
      break;
    }
  }
  const record: OrderAction = {
    action,
    reason,
    by,
    at: now.toISOString(),
    stage: order.status,
    runtimeStatus: a.situation.runtimeStatus,
    ...(refundId ? { refundId } : {}),
  };
  await services.orders.recordAction(order.id, record);
  return { orderId: order.id, action, status, ...(refundId ? { refundId } : {}) };
}
