// Order intake, shared by the HTTP API (createOrder) and the orders-inbound queue: validate →
// tokenise the card (the number is dropped right here) → price on the server → write the order
// (status Received) → start the orchestration with instance id = order id.
//
// Idempotency: the order id is derived from the idempotency key (or the message id), so a retry
// lands on the same document. Same request hash → the same order; a different hash → conflict.
// A retry also repairs an order that was written but whose orchestration never started (the
// process died between the two writes). startNew is never issued blindly on an existing id: the
// extension's default restarts a completed/failed instance with the same id, which would process
// the order twice.
import type { InvocationContext } from "@azure/functions";
import { isValidTraceId, trace } from "@opentelemetry/api";
import type { OrderStore, PaymentGateway } from "../adapters/ports";
import { sameCreator } from "../auth/rights";
import {
  NOTIFICATION_CHANNELS,
  type CreatedBy,
  ORCHESTRATOR_NAME,
  type NewOrderRequest,
  type Order,
  type PaymentMethodRef,
  type ProcessOrderInput,
} from "../domain/order";
import { PricingError, priceOrder } from "../domain/pricing";
import {
  validateInboundOrder,
  validateOrderRequest,
  validateResubmittedOrder,
  type FieldError,
} from "../domain/validation";
import { logInfo, logWarn } from "../observability/log";
import { getInstance, type InstanceClient } from "./instances";
import { deriveOrderId, newOrderId } from "./orderId";
import { requestHash } from "./requestHash";
import { orderAccepted } from "../observability/metrics";

export type OrderSource =
  /** `createdBy` is required for a valid HTTP order (absent only when the body is invalid). */
  | { kind: "http"; idempotencyKey?: string; createdBy?: CreatedBy }
  /**
   * orders-inbound, keyed by the message id. `payment`: a card tokenised when the message was
   * rejected, for an operator's resubmission of the corrected order (which carries no card).
   */
  | { kind: "servicebus"; messageId?: string; payment?: PaymentMethodRef };

export interface AcceptOrderDeps {
  client: InstanceClient;
  orders: OrderStore;
  gateway: PaymentGateway;
  settings: { approvalThresholdMinor: number; approvalTimeout: string };
  context: InvocationContext;
  now?: () => Date;
}

export type AcceptResult =
  /** New order written and its orchestration started. */
  | { kind: "created"; order: Order }
  /** The same request was accepted before; `repaired` when this call started its orchestration. */
  | { kind: "existing"; order: Order; repaired: boolean }
  /** The id (idempotency key / message id / orderId) belongs to a different request. */
  | { kind: "conflict"; order: Order }
  | { kind: "invalid"; errors: FieldError[] };

export function processOrderInput(
  order: Order,
  settings: AcceptOrderDeps["settings"],
): ProcessOrderInput {
  return {
    orderId: order.id,
    customerId: order.customerId,
    currency: order.currency,
    total: order.totals.total,
    payment: order.payment,
    channels: [...NOTIFICATION_CHANNELS],
    approval: {
      thresholdMinor: settings.approvalThresholdMinor,
      timeout: settings.approvalTimeout,
    },
  };
}

type Parsed =
  | {
      ok: true;
      request: Omit<NewOrderRequest, "payment">;
      /** The card number to tokenise, or the token stored at rejection time. */
      card: { cardNumber: string } | { payment: PaymentMethodRef };
      orderId: string;
    }
  | { ok: false; errors: FieldError[] };

function parse(body: unknown, source: OrderSource): Parsed {
  if (source.kind === "http") {
    const result = validateOrderRequest(body);
    if (!result.ok) return result;
    const { payment, ...request } = result.value;
    const orderId = source.idempotencyKey
      ? deriveOrderId(request.customerId, source.idempotencyKey)
      : newOrderId();
    return { ok: true, request, card: payment, orderId };
  }
  const messageOrderId = (orderId: string | undefined) =>
    orderId ?? (source.messageId ? deriveOrderId("servicebus", source.messageId) : newOrderId());
  if (source.payment) {
    const result = validateResubmittedOrder(body);
    if (!result.ok) return result;
    const { request, orderId } = result.value;
    return {
      ok: true,
      request,
      card: { payment: source.payment },
      orderId: messageOrderId(orderId),
    };
  }
  const result = validateInboundOrder(body);
  if (!result.ok) return result;
  const { payment, ...request } = result.value.request;
  return { ok: true, request, card: payment, orderId: messageOrderId(result.value.orderId) };
}

export async function acceptOrder(
  body: unknown,
  source: OrderSource,
  deps: AcceptOrderDeps,
): Promise<AcceptResult> {
  const parsed = parse(body, source);
  if (!parsed.ok) return { kind: "invalid", errors: parsed.errors };
  const { request, orderId, card } = parsed;

  let priced;
  try {
    priced = priceOrder(request.items);
  } catch (err) {
    if (err instanceof PricingError) return { kind: "invalid", errors: err.errors };
    throw err;
  }
  if (priced.totals.total <= 0) {
    return {
      kind: "invalid",
      errors: [{ pointer: "/items", detail: "the order total must be greater than zero" }],
    };
  }

  const payment = "payment" in card ? card.payment : await deps.gateway.tokenize(card.cardNumber);
  const now = (deps.now ?? (() => new Date()))().toISOString();
  const order: Order = {
    id: orderId,
    customerId: request.customerId,
    currency: request.currency,
    lines: priced.lines,
    totals: priced.totals,
    shippingAddress: request.shippingAddress,
    payment,
    status: "Received",
    requestHash: requestHash(request, payment.fingerprint),
    source: source.kind,
    createdAt: now,
    updatedAt: now,
  };
  // The trace this order began in (the operator API's trace view and Application Insights link).
  const traceId = trace.getActiveSpan()?.spanContext().traceId;
  if (traceId && isValidTraceId(traceId)) order.traceId = traceId;
  if (source.kind === "http") {
    if (!source.createdBy) throw new Error("an HTTP order needs its creator");
    order.createdBy = source.createdBy;
    if (source.idempotencyKey) order.idempotencyKey = source.idempotencyKey;
  }

  const fields = { orderId, instanceId: orderId, source: source.kind };
  const written = await deps.orders.create(order);
  if (written.created) {
    await start(written.order, deps);
    logInfo(deps.context, "order.accepted", { ...fields, total: order.totals.total });
    orderAccepted(source.kind);
    return { kind: "created", order: written.order };
  }

  const existing = written.existing;
  // The key is scoped to the customer; replayed by another creator, it answers nothing of the
  // order (not even that it exists with the same body).
  const foreign = source.kind === "http" && !sameCreator(existing.createdBy, order.createdBy!);
  if (foreign || existing.requestHash !== order.requestHash) {
    logWarn(deps.context, "order.idempotency_conflict", fields);
    return { kind: "conflict", order: existing };
  }
  const instance = await getInstance(deps.client, orderId);
  // Only an order still in Received can be missing its orchestration. A later status without an
  // instance means the history was purged after it finished: never start it again.
  if (instance || existing.status !== "Received") {
    logInfo(deps.context, "order.duplicate", { ...fields, status: existing.status });
    return { kind: "existing", order: existing, repaired: false };
  }
  await start(existing, deps);
  logWarn(deps.context, "order.repaired", { ...fields, reason: "orchestration was not started" });
  return { kind: "existing", order: existing, repaired: true };
}

async function start(order: Order, deps: AcceptOrderDeps): Promise<void> {
  try {
    await deps.client.startNew(ORCHESTRATOR_NAME, {
      instanceId: order.id,
      input: processOrderInput(order, deps.settings),
    });
  } catch (err) {
    // A concurrent request for the same id may have started it first; that is success.
    if (await getInstance(deps.client, order.id)) return;
    throw err;
  }
}
