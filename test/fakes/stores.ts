// In-memory ledger, deliveries, notification queue, rejected-message store, audit log and
// dead-letter subqueues.
import type {
  AuditEntry,
  AuditLog,
  DeadLetteredMessage,
  DeadLetters,
  LedgerEntry,
  NotificationDeliveries,
  NotificationDelivery,
  NotificationMessage,
  NotificationQueue,
  PaymentsLedger,
  Page,
  RejectedMessage,
  RejectedMessages,
  RejectedState,
  Resolution,
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
  readonly failures = new Failures<"enqueue">();
  readonly sent: NotificationMessage[] = [];

  async enqueue(message: NotificationMessage): Promise<void> {
    this.failures.check("enqueue");
    this.sent.push(structuredClone(message));
  }
}

export class InMemoryRejectedMessages implements RejectedMessages {
  readonly failures = new Failures<"record" | "list">();
  readonly records: RejectedMessage[] = [];

  async record(message: RejectedMessage): Promise<void> {
    this.failures.check("record");
    const scrubbed: RejectedMessage = {
      ...message,
      body: scrubCardNumbers(message.body),
      reasons: message.reasons.map((r) => ({ ...r, detail: scrubCardNumbers(r.detail) as string })),
      state: "rejected",
    };
    const index = this.records.findIndex((r) => r.id === message.id);
    if (index >= 0 && (this.records[index]!.state ?? "rejected") !== "rejected") return;
    if (index >= 0) this.records[index] = scrubbed;
    else this.records.push(scrubbed);
  }

  async get(id: string): Promise<RejectedMessage | undefined> {
    const found = this.records.find((r) => r.id === id);
    return found ? structuredClone(found) : undefined;
  }

  async list(query: {
    state?: RejectedState;
    limit: number;
    continuationToken?: string;
  }): Promise<Page<RejectedMessage>> {
    this.failures.check("list");
    const matching = [...this.records]
      .filter((r) => query.state === undefined || (r.state ?? "rejected") === query.state)
      .sort((a, b) => b.rejectedAt.localeCompare(a.rejectedAt));
    return pageOf(matching, query.limit, query.continuationToken);
  }

  async resolve(
    id: string,
    state: Exclude<RejectedState, "rejected">,
    resolution: Resolution,
  ): Promise<RejectedMessage> {
    const index = this.records.findIndex((r) => r.id === id);
    if (index < 0) throw new Error(`rejected message ${id} does not exist`);
    this.records[index] = {
      ...this.records[index]!,
      state,
      resolution: structuredClone(resolution),
    };
    return structuredClone(this.records[index]!);
  }
}

/** A page of an in-memory list; the token is the next offset. */
export function pageOf<T>(all: T[], limit: number, token: string | undefined): Page<T> {
  const start = token ? Number(atob(token)) : 0;
  if (!Number.isInteger(start) || start < 0) throw new Error("invalid continuation token");
  const items = structuredClone(all.slice(start, start + limit));
  const end = start + items.length;
  return end < all.length ? { items, continuationToken: btoa(String(end)) } : { items };
}

export class InMemoryAuditLog implements AuditLog {
  readonly failures = new Failures<"record" | "list">();
  readonly entries: AuditEntry[] = [];

  async record(entry: AuditEntry): Promise<void> {
    this.failures.check("record");
    this.entries.push(structuredClone(entry));
  }

  async list(query: {
    orderId?: string;
    actor?: string;
    limit: number;
    continuationToken?: string;
  }): Promise<Page<AuditEntry>> {
    this.failures.check("list");
    const matching = this.entries
      .filter(
        (e) =>
          query.orderId === undefined ||
          (e.target.kind === "order" && e.target.id === query.orderId) ||
          e.details?.orderId === query.orderId,
      )
      .filter((e) => query.actor === undefined || e.actor.id === query.actor)
      .sort((a, b) => b.at.localeCompare(a.at));
    return pageOf(matching, query.limit, query.continuationToken);
  }
}

/** Dead-letter subqueues in memory: tests put messages in; resent ones are recorded. */
export class InMemoryDeadLetters implements DeadLetters {
  readonly queues = new Map<string, DeadLetteredMessage[]>();
  readonly resent: { queue: string; message: DeadLetteredMessage }[] = [];
  #seq = 0;

  add(queue: string, message: Omit<DeadLetteredMessage, "sequenceNumber">): DeadLetteredMessage {
    const stored = { ...structuredClone(message), sequenceNumber: String(++this.#seq) };
    this.queues.set(queue, [...(this.queues.get(queue) ?? []), stored]);
    return structuredClone(stored);
  }

  async peek(
    queue: string,
    query: { limit: number; fromSequenceNumber?: string },
  ): Promise<Page<DeadLetteredMessage>> {
    const from = BigInt(query.fromSequenceNumber ?? "0");
    const matching = (this.queues.get(queue) ?? []).filter((m) => BigInt(m.sequenceNumber) >= from);
    const items = structuredClone(matching.slice(0, query.limit));
    const next = matching[query.limit];
    return next ? { items, continuationToken: next.sequenceNumber } : { items };
  }

  async settle<T>(
    queue: string,
    sequenceNumber: string,
    work: (message: DeadLetteredMessage) => Promise<T>,
  ): Promise<{ result: T } | undefined> {
    const list = this.queues.get(queue) ?? [];
    const found = list.find((m) => m.sequenceNumber === sequenceNumber);
    if (!found) return undefined;
    const result = await work(structuredClone(found));
    this.queues.set(
      queue,
      list.filter((m) => m !== found),
    );
    return { result };
  }

  async resend(queue: string, message: DeadLetteredMessage): Promise<void> {
    this.resent.push({ queue, message: structuredClone(message) });
  }
}
