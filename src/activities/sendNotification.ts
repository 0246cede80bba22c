// Enqueues one notification on the `notifications` queue; the deliverNotification Service Bus
// trigger delivers it. The id `${orderId}:${channel}` is the message id and the delivery record
// id, so a retried activity cannot produce a second delivery.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { logError, logInfo } from "../observability/log";
import { activityFields } from "./activityLog";
import type { SendNotificationInput, SendNotificationOutput } from "./contracts";

export function notificationIdOf(orderId: string, channel: string): string {
  return `${orderId}:${channel}`;
}

export async function sendNotification(
  input: SendNotificationInput,
  context: InvocationContext,
): Promise<SendNotificationOutput> {
  const notificationId = notificationIdOf(input.orderId, input.channel);
  const fields = {
    ...activityFields(context, input.orderId),
    channel: input.channel,
    notificationId,
  };
  try {
    await getServices().notifications.enqueue({
      notificationId,
      orderId: input.orderId,
      customerId: input.customerId,
      channel: input.channel,
      template: input.template,
      data: input.data,
    });
    logInfo(context, "notification.enqueued", fields);
    return { notificationId };
  } catch (err) {
    logError(context, "notification.enqueue.failed", err, fields);
    throw err;
  }
}

df.app.activity("sendNotification", { handler: sendNotification });
