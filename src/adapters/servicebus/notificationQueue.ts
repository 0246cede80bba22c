// Sends notification messages to the `notifications` queue. messageId = notificationId, so the
// queue's duplicate detection (and the notifier's idempotent record) absorb a re-send after an
// activity retry.
import type { ServiceBusClient, ServiceBusSender } from "@azure/service-bus";
import type { NotificationMessage, NotificationQueue } from "../ports";
import { QUEUES } from "./client";

export class ServiceBusNotificationQueue implements NotificationQueue {
  #sender: ServiceBusSender | undefined;

  constructor(private readonly client: () => ServiceBusClient) {}

  /** One sender per process: creating a link per message would cost a round trip each time. */
  get sender(): ServiceBusSender {
    this.#sender ??= this.client().createSender(QUEUES.notifications);
    return this.#sender;
  }

  async enqueue(message: NotificationMessage): Promise<void> {
    await this.sender.sendMessages({
      body: message,
      contentType: "application/json",
      messageId: message.notificationId,
      correlationId: message.orderId,
      subject: message.channel,
    });
  }

  /** Opens the sender link (and its auth handshake) without sending anything. */
  async check(): Promise<void> {
    await this.sender.createMessageBatch();
  }
}
