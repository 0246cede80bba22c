// Service Bus trigger on `notifications`: delivers one notification (one channel of one order)
// through the Notifier. Delivery is idempotent per notificationId, so a redelivery is harmless.
// Failures throw: Service Bus retries and dead-letters after maxDeliveryCount.
import { app, type InvocationContext } from "@azure/functions";
import { getServices } from "../adapters/services";
import type { NotificationMessage } from "../adapters/ports";
import { NOTIFICATION_CHANNELS } from "../domain/order";
import { logInfo } from "../observability/log";
import { decodeBody } from "./ordersInbound";
import { notificationDeadLettered, notificationDelivered } from "../observability/metrics";

export const NOTIFICATIONS_QUEUE = "notifications";
/** The queue's maxDeliveryCount (infra/app-entities.json): a failure on this delivery dead-letters. */
export const NOTIFICATIONS_MAX_DELIVERY_COUNT = 5;

function isNotification(value: unknown): value is NotificationMessage {
  const m = value as Partial<NotificationMessage> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    typeof m.notificationId === "string" &&
    typeof m.orderId === "string" &&
    typeof m.customerId === "string" &&
    (NOTIFICATION_CHANNELS as readonly unknown[]).includes(m.channel)
  );
}

export async function deliverNotification(
  message: unknown,
  context: InvocationContext,
): Promise<void> {
  try {
    await deliver(message, context);
  } catch (err) {
    const count = Number(context.triggerMetadata?.deliveryCount ?? 0);
    if (count >= NOTIFICATIONS_MAX_DELIVERY_COUNT) notificationDeadLettered();
    throw err;
  }
}

async function deliver(message: unknown, context: InvocationContext): Promise<void> {
  const decoded = decodeBody(message);
  if (!decoded.ok || !isNotification(decoded.value)) {
    // Not ours to fix: let it reach the dead-letter queue where operators can see it.
    throw new Error("The message is not a notification (notificationId, orderId, channel)");
  }
  const notification = decoded.value;
  const delivery = await getServices().notifier.deliver(notification);
  notificationDelivered();
  logInfo(context, "notification.delivered", {
    orderId: notification.orderId,
    instanceId: notification.orderId,
    notificationId: notification.notificationId,
    channel: notification.channel,
    deliveredAt: delivery.deliveredAt,
  });
}

app.serviceBusQueue("deliverNotification", {
  queueName: NOTIFICATIONS_QUEUE,
  connection: "ServiceBusConnection",
  handler: deliverNotification,
});
