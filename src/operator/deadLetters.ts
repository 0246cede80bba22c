// Resubmitting a dead-lettered message. orders-inbound: through the intake with the original
// message id (re-enqueueing would be dropped by duplicate detection, or with a new id become a
// second order). notifications: sent back to the queue; the notifier records one delivery per
// notificationId, so however often it is resubmitted it is delivered once.
import type { InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { DeadLetteredMessage } from "../adapters/ports";
import { getServices } from "../adapters/services";
import { QUEUES } from "../adapters/servicebus/client";
import { getSettings } from "../config";
import { NOTIFICATION_CHANNELS, type Order } from "../domain/order";
import type { FieldError } from "../domain/validation";
import { acceptOrder } from "../intake/acceptOrder";

export const DEAD_LETTER_QUEUES: readonly string[] = [QUEUES.ordersInbound, QUEUES.notifications];

export type ResubmitOutcome =
  | { kind: "order"; order: Order; created: boolean }
  | { kind: "notification"; notificationId: string; orderId: string }
  | { kind: "invalid"; errors: FieldError[] }
  | { kind: "conflict"; detail: string };

/** Thrown inside settle() so the dead-lettered message is abandoned (kept), not completed. */
export class NotResubmitted extends Error {
  constructor(readonly outcome: Extract<ResubmitOutcome, { kind: "invalid" | "conflict" }>) {
    super(outcome.kind);
  }
}

function bodyOf(message: DeadLetteredMessage): unknown {
  const body = message.body;
  if (typeof body === "string" || body instanceof Uint8Array) {
    const text = typeof body === "string" ? body : Buffer.from(body).toString("utf8");
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return body;
}

export function notificationOf(
  body: unknown,
): { notificationId: string; orderId: string } | undefined {
  const m = body as Record<string, unknown> | null;
  return m &&
    typeof m === "object" &&
    typeof m.notificationId === "string" &&
    typeof m.orderId === "string" &&
    typeof m.customerId === "string" &&
    (NOTIFICATION_CHANNELS as readonly unknown[]).includes(m.channel)
    ? { notificationId: m.notificationId, orderId: m.orderId }
    : undefined;
}

export async function resubmitDeadLetter(
  queue: string,
  message: DeadLetteredMessage,
  deps: { client: DurableClient; context: InvocationContext },
): Promise<ResubmitOutcome> {
  const services = getServices();
  const body = bodyOf(message);
  if (queue === QUEUES.notifications) {
    const n = notificationOf(body);
    if (!n) {
      throw new NotResubmitted({
        kind: "conflict",
        detail:
          "The message is not a notification (notificationId, orderId, customerId, channel); it can only be discarded.",
      });
    }
    await services.deadLetters.resend(queue, { ...message, body });
    return { kind: "notification", ...n };
  }
  const result = await acceptOrder(
    body,
    { kind: "servicebus", ...(message.messageId ? { messageId: message.messageId } : {}) },
    {
      client: deps.client,
      orders: services.orders,
      gateway: services.gateway,
      settings: getSettings(),
      context: deps.context,
    },
  );
  if (result.kind === "invalid")
    throw new NotResubmitted({ kind: "invalid", errors: result.errors });
  if (result.kind === "conflict") {
    throw new NotResubmitted({
      kind: "conflict",
      detail: `This message's order id already belongs to order ${result.order.id} with different contents.`,
    });
  }
  return { kind: "order", order: result.order, created: result.kind === "created" };
}
