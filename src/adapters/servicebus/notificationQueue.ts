// Sends notification messages to the `notifications` queue. messageId = notificationId, so the
// queue's duplicate detection (and the notifier's idempotent record) absorb a re-send after an
// activity retry.
import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceiver,
  ServiceBusSender,
} from "@azure/service-bus";
import type { NotificationMessage, NotificationQueue } from "../ports";
import { QUEUES } from "./client";

export class ServiceBusNotificationQueue implements NotificationQueue {
  #sender: ServiceBusSender | undefined;
  #prober: ServiceBusReceiver | undefined;

  constructor(private readonly client: () => ServiceBusClient) {}

  /** One sender per process: creating a link per message would cost a round trip each time. */
  get sender(): ServiceBusSender {
    this.#sender ??= this.client().createSender(QUEUES.notifications);
    return this.#sender;
  }

  async enqueue(message: NotificationMessage): Promise<void> {
    await this.sender.sendMessages(toServiceBus(message));
  }

  /** One AMQP transfer: Service Bus enqueues a batch atomically. */
  async enqueueBatch(messages: NotificationMessage[]): Promise<void> {
    if (messages.length > 0) await this.sender.sendMessages(messages.map(toServiceBus));
  }

  /**
   * Health probe: a peek is a request/response on the queue's management link, so it needs a
   * live broker. (createMessageBatch on an open sender answers from the cached link and reported
   * "up" for a broker that had just died.) Peek locks nothing and consumes nothing.
   */
  async check(): Promise<void> {
    this.#prober ??= this.client().createReceiver(QUEUES.notifications);
    // Abort rather than let the SDK's retries run on behind the health endpoint's 5 s deadline.
    await this.#prober.peekMessages(1, { abortSignal: AbortSignal.timeout(4500) });
  }
}

function toServiceBus(message: NotificationMessage): ServiceBusMessage {
  return {
    body: message,
    contentType: "application/json",
    messageId: message.notificationId,
    correlationId: message.orderId,
    subject: message.channel,
  };
}
