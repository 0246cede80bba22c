// Workflow version 3's last step: records the order's Paid and Notifying stages (its `stage`),
// enqueues the order's notification for every channel in one Service Bus batch (all or none),
// then records the outcome (Completed). Every part is idempotent, so a retry after a crash at
// any point redoes only what is missing: a re-sent message keeps its id `${orderId}:${channel}`,
// which the delivery record (and duplicate detection, where the queue has it) drops, and a stage
// already recorded is not written again.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import type { NotificationMessage } from "../adapters/ports";
import { logError, logInfo } from "../observability/log";
import { activityFields } from "./activityLog";
import type { SendNotificationsInput, SendNotificationsOutput } from "./contracts";
import { recordStage } from "./recordStage";
import { notificationIdOf } from "./sendNotification";

export async function sendNotifications(
  input: SendNotificationsInput,
  context: InvocationContext,
): Promise<SendNotificationsOutput> {
  const messages: NotificationMessage[] = input.channels.map((channel) => ({
    notificationId: notificationIdOf(input.orderId, channel),
    orderId: input.orderId,
    customerId: input.customerId,
    channel,
    template: input.template,
    data: input.data,
  }));
  const notificationIds = messages.map((m) => m.notificationId);
  const fields = activityFields(context, input.orderId);
  if (input.stage) {
    const doneAt = input.outcome?.status;
    const order = await recordStage(context, input.orderId, input.stage, doneAt ? { doneAt } : {});
    // An earlier attempt got as far as the outcome: everything was sent before it.
    if (doneAt && order.status === doneAt) return { notificationIds };
  }
  try {
    await getServices().notifications.enqueueBatch(messages);
  } catch (err) {
    logError(context, "notification.enqueue.failed", err, { ...fields, notificationIds });
    throw err;
  }
  for (const m of messages) {
    logInfo(context, "notification.enqueued", {
      ...fields,
      channel: m.channel,
      notificationId: m.notificationId,
    });
  }
  if (input.outcome) {
    await recordStage(context, input.orderId, {
      status: input.outcome.status,
      outcome: input.outcome,
    });
  }
  return { notificationIds };
}

df.app.activity("sendNotifications", { handler: sendNotifications });
