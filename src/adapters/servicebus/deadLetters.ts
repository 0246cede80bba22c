// The dead-letter subqueues ($DeadLetterQueue) of orders-inbound and notifications, for operators:
// peek (locks nothing), and settle one message by sequence number. Service Bus can only receive a
// dead-lettered message by lock, not by sequence number (that is for deferred messages), so
// settle receives in peek-lock until it meets the one asked for, holds the others' locks while it
// works, and abandons them afterwards (they stay, and are not handed out twice meanwhile).
import type {
  ServiceBusClient,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
} from "@azure/service-bus";
import Long from "long";
import type { DeadLetteredMessage, DeadLetters, Page } from "../ports";
import { QUEUES } from "./client";

/** Receive rounds settle makes before it decides the message is not there. */
const MAX_ROUNDS = 20;

export function toDeadLettered(m: ServiceBusReceivedMessage): DeadLetteredMessage {
  const text = (v: unknown) => (typeof v === "string" && v ? v : undefined);
  const result: DeadLetteredMessage = {
    sequenceNumber: (m.sequenceNumber ?? Long.ZERO).toString(),
    body: m.body,
  };
  const messageId = m.messageId === undefined ? undefined : String(m.messageId);
  if (messageId) result.messageId = messageId;
  const reason = text(m.deadLetterReason);
  if (reason) result.deadLetterReason = reason;
  const description = text(m.deadLetterErrorDescription);
  if (description) result.deadLetterErrorDescription = description;
  if (typeof m.deliveryCount === "number") result.deliveryCount = m.deliveryCount;
  if (m.enqueuedTimeUtc) result.enqueuedAt = m.enqueuedTimeUtc.toISOString();
  if (m.applicationProperties) result.applicationProperties = { ...m.applicationProperties };
  return result;
}

export class ServiceBusDeadLetters implements DeadLetters {
  constructor(private readonly client: () => ServiceBusClient) {}

  async #with<T>(queue: string, use: (r: ServiceBusReceiver) => Promise<T>): Promise<T> {
    const options = { subQueueType: "deadLetter", receiveMode: "peekLock" } as const;
    // Only these two queues, by name (the infra tests check every queue the code opens).
    let receiver: ServiceBusReceiver;
    if (queue === QUEUES.notifications) {
      receiver = this.client().createReceiver(QUEUES.notifications, options);
    } else if (queue === QUEUES.ordersInbound) {
      receiver = this.client().createReceiver(QUEUES.ordersInbound, options);
    } else throw new Error(`No dead-letter queue ${queue}`);
    try {
      return await use(receiver);
    } finally {
      await receiver.close();
    }
  }

  async peek(
    queue: string,
    query: { limit: number; fromSequenceNumber?: string },
  ): Promise<Page<DeadLetteredMessage>> {
    return this.#with(queue, async (receiver) => {
      const from = query.fromSequenceNumber ? Long.fromString(query.fromSequenceNumber) : Long.ONE;
      // One more than asked: its sequence number is where the next page starts.
      const peeked = await receiver.peekMessages(query.limit + 1, { fromSequenceNumber: from });
      const items = peeked.slice(0, query.limit).map(toDeadLettered);
      const next = peeked[query.limit];
      return next?.sequenceNumber
        ? { items, continuationToken: next.sequenceNumber.toString() }
        : { items };
    });
  }

  async settle<T>(
    queue: string,
    sequenceNumber: string,
    work: (message: DeadLetteredMessage) => Promise<T>,
  ): Promise<{ result: T } | undefined> {
    const wanted = Long.fromString(sequenceNumber);
    return this.#with(queue, async (receiver) => {
      const [first] = await receiver.peekMessages(1, { fromSequenceNumber: wanted });
      if (!first?.sequenceNumber?.equals(wanted)) return undefined;
      const held: ServiceBusReceivedMessage[] = [];
      try {
        for (let round = 0; round < MAX_ROUNDS; round++) {
          const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: 1000 });
          if (batch.length === 0) break;
          const found = batch.find((m) => m.sequenceNumber?.equals(wanted));
          held.push(...batch.filter((m) => m !== found));
          if (!found) continue;
          let result: T;
          try {
            result = await work(toDeadLettered(found));
          } catch (err) {
            await receiver.abandonMessage(found);
            throw err;
          }
          await receiver.completeMessage(found);
          return { result };
        }
        return undefined;
      } finally {
        await Promise.allSettled(held.map((m) => receiver.abandonMessage(m)));
      }
    });
  }

  async resend(queue: string, message: DeadLetteredMessage): Promise<void> {
    // Only notifications go back to their queue; inbound orders are resubmitted through the intake.
    if (queue !== QUEUES.notifications) throw new Error(`Messages are not resent to ${queue}`);
    const sender = this.client().createSender(QUEUES.notifications);
    try {
      await sender.sendMessages({
        body: message.body,
        contentType: "application/json",
        ...(message.messageId ? { messageId: message.messageId } : {}),
        ...(message.applicationProperties
          ? { applicationProperties: message.applicationProperties as Record<string, string> }
          : {}),
      });
    } finally {
      await sender.close();
    }
  }
}
