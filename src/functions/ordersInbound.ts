// Service Bus trigger on `orders-inbound`: orders from other systems, through the same intake
// (validation, idempotency, repair) as the HTTP API. The order id is the message's `orderId`, or
// derived from its messageId, so a redelivered or re-sent message lands on the same order.
// A v4 Node trigger cannot dead-letter with a reason, so an invalid message is recorded in
// `rejected-messages` (body with card numbers masked, the reasons, and the card's token when its
// number was valid, for an operator's resubmission) and then completed by returning normally.
// Anything else (Cosmos or Durable unavailable) throws: Service Bus redelivers and dead-letters
// after maxDeliveryCount. A dependency that is down is waited for (1 s, 2 s, 4 s... by delivery
// count, up to 30 s, the lock renewed by the host meanwhile) before throwing: redelivered at
// once, a message would use up its deliveries within a second of an outage.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { dependencyUnavailable } from "../adapters/errors";
import { scrubCardNumbers } from "../adapters/scrub";
import { getServices } from "../adapters/services";
import { getSettings } from "../config";
import type { FieldError } from "../domain/validation";
import { acceptOrder } from "../intake/acceptOrder";
import { deriveOrderId } from "../intake/orderId";
import { tokeniseRejectedCard } from "../intake/rejectedCard";
import { logInfo, logWarn } from "../observability/log";
import { inboundRejected } from "../observability/metrics";

export const ORDERS_INBOUND_QUEUE = "orders-inbound";

/** How long a delivery that met an unavailable dependency waits before it gives the message back. */
export function redeliveryDelayMs(deliveryCount: number | undefined): number {
  const n = Math.max(1, deliveryCount ?? 1);
  return Math.min(1000 * 2 ** (n - 1), 30_000);
}

/** The message body as JSON: the library hands over an object, a string or bytes. */
export function decodeBody(
  message: unknown,
): { ok: true; value: unknown } | { ok: false; raw: string } {
  if (typeof message === "string" || message instanceof Uint8Array) {
    const text = typeof message === "string" ? message : Buffer.from(message).toString("utf8");
    try {
      return { ok: true, value: JSON.parse(text) };
    } catch {
      return { ok: false, raw: text.slice(0, 64 * 1024) };
    }
  }
  return { ok: true, value: message };
}

function metadata(context: InvocationContext) {
  const meta = context.triggerMetadata ?? {};
  const text = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  const enqueued = meta.enqueuedTimeUtc;
  // The programming model JSON-parses string metadata, so a messageId like "123" arrives as a
  // number: keep it, or a redelivery would not find its order.
  const messageId = typeof meta.messageId === "number" ? String(meta.messageId) : meta.messageId;
  return {
    messageId: text(messageId),
    enqueuedTime: enqueued instanceof Date ? enqueued.toISOString() : text(enqueued),
    deliveryCount: typeof meta.deliveryCount === "number" ? meta.deliveryCount : undefined,
  };
}

export async function ordersInbound(
  message: unknown,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<void> {
  const { messageId, enqueuedTime, deliveryCount } = metadata(context);
  const services = getServices();

  const reject = async (body: unknown, reasons: FieldError[], orderId?: string) => {
    // Tokenised before anything is written: the record keeps the token, never the number.
    const card = await tokeniseRejectedCard(body, services.gateway);
    await services.rejectedMessages.record({
      // One record per message, so a redelivery overwrites instead of duplicating.
      id: deriveOrderId("rejected", messageId ?? context.invocationId),
      source: ORDERS_INBOUND_QUEUE,
      ...(messageId ? { messageId } : {}),
      ...(enqueuedTime ? { enqueuedTime } : {}),
      ...(deliveryCount !== undefined ? { deliveryCount } : {}),
      // Masked here as well as in the store: an invalid message may carry a valid card number.
      body: scrubCardNumbers(body),
      reasons,
      rejectedAt: new Date().toISOString(),
      ...(card ? { card } : {}),
    });
    inboundRejected();
    logWarn(context, "order.rejected", {
      messageId,
      orderId,
      instanceId: orderId,
      reasons: reasons.map((r) => `${r.pointer} ${r.detail}`),
    });
  };

  const decoded = decodeBody(message);
  if (!decoded.ok) {
    await reject(decoded.raw, [{ pointer: "", detail: "the message body is not valid JSON" }]);
    return;
  }
  let result: Awaited<ReturnType<typeof acceptOrder>>;
  try {
    result = await acceptOrder(
      decoded.value,
      { kind: "servicebus", messageId },
      {
        client,
        orders: services.orders,
        gateway: services.gateway,
        settings: getSettings(),
        context,
      },
    );
  } catch (err) {
    if (dependencyUnavailable(err)) {
      await new Promise((r) => setTimeout(r, redeliveryDelayMs(deliveryCount)));
    }
    throw err;
  }
  switch (result.kind) {
    case "invalid":
      return reject(decoded.value, result.errors);
    case "conflict":
      return reject(
        decoded.value,
        [{ pointer: "/orderId", detail: "this order id already belongs to a different order" }],
        result.order.id,
      );
    default:
      logInfo(context, "order.inbound_accepted", {
        messageId,
        orderId: result.order.id,
        instanceId: result.order.id,
        outcome: result.kind,
      });
  }
}

df.app.client.serviceBusQueue("ordersInbound", {
  queueName: ORDERS_INBOUND_QUEUE,
  connection: "ServiceBusConnection",
  handler: ordersInbound,
});
