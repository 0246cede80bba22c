// In-memory ledger, deliveries, notification queue and rejected-message store.
import type {
  LedgerEntry,
  NotificationDeliveries,
  NotificationDelivery,
  NotificationMessage,
  NotificationQueue,
  PaymentsLedger,
  RejectedMessage,
  RejectedMessages,
} from "../../src/adapters/ports";
import { scrubCardNumbers } from "../../src/adapters/scrub";
import { Failures } from "./failures";

export class InMemoryPaymentsLedger implements PaymentsLedger {
  readonly failures = new Failures<"record" | "get" | "list">();
  readonly entries: LedgerEntry[] = [];
  /** Writes refused because the id existed (what Cosmos answers with 409). */
  conflicts = 0;

  async record(entry: LedgerEntry): Promise<{ created: boolean; entry: LedgerEntry }> {
    this.failures.check("record");
    const existing = this.entries.find((e) => e.orderId === entry.orderId && e.id === entry.id);
    if (existing) {
      this.conflicts++;
      return { created: false, entry: { ...existing } };
    }
    this.entries.push({ ...entry });
    return { created: true, entry: { ...entry } };
  }

  async get(orderId: string, id: string): Promise<LedgerEntry | undefined> {
    this.failures.check("get");
    const found = this.entries.find((e) => e.orderId === orderId && e.id === id);
    return found ? { ...found } : undefined;
  }

  async list(orderId: string): Promise<LedgerEntry[]> {
    this.failures.check("list");
    return this.entries.filter((e) => e.orderId === orderId).map((e) => ({ ...e }));
  }
}

export class InMemoryNotificationDeliveries implements NotificationDeliveries {
  readonly failures = new Failures<"record" | "list">();
  readonly deliveries: NotificationDelivery[] = [];

  async record(
    delivery: NotificationDelivery,
  ): Promise<{ created: boolean; delivery: NotificationDelivery }> {
    this.failures.check("record");
    const existing = this.deliveries.find(
      (d) => d.orderId === delivery.orderId && d.id === delivery.id,
    );
    if (existing) return { created: false, delivery: { ...existing } };
    this.deliveries.push({ ...delivery });
    return { created: true, delivery: { ...delivery } };
  }

  async list(orderId: string): Promise<NotificationDelivery[]> {
    this.failures.check("list");
    return this.deliveries.filter((d) => d.orderId === orderId).map((d) => ({ ...d }));
  }
}

/** Records what would be sent to the `notifications` queue. */
export class RecordingNotificationQueue implements NotificationQueue {
  readonly failures = new Failures<"enqueue" | "enqueueBatch">();
  readonly sent: NotificationMessage[] = [];
  /** How many messages each send carried (1 for `enqueue`). */
  readonly sends: number[] = [];

  async enqueue(message: NotificationMessage): Promise<void> {
    this.failures.check("enqueue");
    this.sent.push(structuredClone(message));
    this.sends.push(1);
  }

  async enqueueBatch(messages: NotificationMessage[]): Promise<void> {
    this.failures.check("enqueueBatch");
    this.sent.push(...structuredClone(messages));
    this.sends.push(messages.length);
  }
}

export class InMemoryRejectedMessages implements RejectedMessages {
  readonly failures = new Failures<"record" | "list">();
  readonly records: RejectedMessage[] = [];

  async record(message: RejectedMessage): Promise<void> {
    this.failures.check("record");
    const scrubbed = {
      ...message,
      body: scrubCardNumbers(message.body),
      reasons: message.reasons.map((r) => ({ ...r, detail: scrubCardNumbers(r.detail) as string })),
    };
    const index = this.records.findIndex((r) => r.id === message.id);
    if (index >= 0) this.records[index] = scrubbed;
    else this.records.push(scrubbed);
  }

  async list(query: { limit?: number } = {}): Promise<RejectedMessage[]> {
    this.failures.check("list");
    return [...this.records]
      .sort((a, b) => b.rejectedAt.localeCompare(a.rejectedAt))
      .slice(0, query.limit ?? 100);
  }
}
