// Small interfaces the activities and triggers depend on; Cosmos, Service Bus and the simulated
// gateway/notifier implement them, tests use fakes.
import type { Visibility } from "../auth/rights";
import type {
  DecidedBy,
  NotificationChannel,
  Order,
  OrderAction,
  OrderOutcome,
  OrderStatus,
  PaymentMethodRef,
} from "../domain/order";
import type { StageStep } from "../domain/status";

export interface OrderStore {
  /** Creates the order; resolves `{ created: false, existing }` when the id is already taken. */
  create(
    order: Order,
  ): Promise<{ created: true; order: Order } | { created: false; existing: Order }>;
  get(orderId: string): Promise<Order | undefined>;
  /** Etag-guarded status change; idempotent when the order already has `status`. */
  /** `decidedBy` (else `outcome.decidedBy`) is recorded on the order with the change. */
  updateStatus(
    orderId: string,
    status: OrderStatus,
    outcome?: OrderOutcome,
    decidedBy?: DecidedBy,
  ): Promise<Order>;
  /**
   * Records the missing ones of `steps` in order (see nextStage in domain/status.ts), all in
   * one etag-guarded write; `before` is the order as the write found it, `after` as it left
   * it. Nothing is written when the order is at the last step or at `doneAt` already.
   */
  advance(
    orderId: string,
    steps: readonly StageStep[],
    options?: { doneAt?: OrderStatus },
  ): Promise<{ before: Order; after: Order }>;
  list(query: {
    customerId?: string;
    status?: OrderStatus;
    /** Created at or after `from` and before `to` (ISO 8601 UTC). */
    from?: string;
    to?: string;
    limit: number;
    continuationToken?: string;
    /** Only orders matching at least one of these (absent: every order). */
    visibleTo?: Visibility;
  }): Promise<{ items: Order[]; continuationToken?: string }>;
  /** Appends an operator action to the order (its reason kept with the order). */
  recordAction(orderId: string, action: OrderAction): Promise<Order>;
  /** Orders in one of `statuses` last changed before `updatedBefore`, oldest first. */
  listStale(query: {
    statuses: readonly OrderStatus[];
    updatedBefore: string;
    /** Exclusive lower bound (the previous page's last updatedAt). */
    updatedAfter?: string;
    limit: number;
  }): Promise<Order[]>;
  /** Orders created in [from, to), only the fields order statistics need. */
  listCreated(query: { from: string; to: string }): Promise<OrderStatsRow[]>;
}

export type OrderStatsRow = Pick<Order, "id" | "status" | "createdAt" | "updatedAt">;

export type ChargeResult =
  | { outcome: "approved"; chargeId: string; amount: number; currency: string }
  | { outcome: "declined"; reason: "card_declined" | "insufficient_funds" | string };

export interface PaymentGateway {
  tokenize(cardNumber: string): Promise<PaymentMethodRef>;
  /** Idempotent per key: a repeated call returns the first result, never charges twice. Throws only on transient errors. */
  charge(req: {
    idempotencyKey: string;
    token: string;
    amount: number;
    currency: string;
  }): Promise<ChargeResult>;
  /** Confirms capture of an approved charge; throws when it fails. */
  capture(req: { chargeId: string; idempotencyKey: string }): Promise<void>;
  /** Idempotent per key. */
  refund(req: {
    idempotencyKey: string;
    chargeId: string;
    amount: number;
    currency: string;
    reason: string;
  }): Promise<{ refundId: string }>;
}

/** One row of the `payments` container: every charge and refund, so a double charge is visible. */
export interface LedgerEntry {
  id: string;
  orderId: string;
  kind: "charge" | "refund" | "decline";
  amount: number;
  currency: string;
  reference: string;
  createdAt: string;
}

export interface NotificationMessage {
  notificationId: string;
  orderId: string;
  customerId: string;
  channel: NotificationChannel;
  template: "order-completed";
  data: Record<string, unknown>;
}

export interface NotificationDelivery {
  id: string;
  orderId: string;
  channel: NotificationChannel;
  notificationId: string;
  deliveredAt: string;
}

export interface Notifier {
  /** Delivers once per notificationId (idempotent); throws on failure so Service Bus retries. */
  deliver(message: NotificationMessage): Promise<NotificationDelivery>;
}

/** Append-only writes to the `payments` ledger, keyed by deterministic ids. */
export interface PaymentsLedger {
  /** Writes the entry unless its id exists; then resolves with the stored one (idempotent). */
  record(entry: LedgerEntry): Promise<{ created: boolean; entry: LedgerEntry }>;
  get(orderId: string, id: string): Promise<LedgerEntry | undefined>;
  list(orderId: string): Promise<LedgerEntry[]>;
}

/** Delivered notifications (the built-in notifier's record), one document per notificationId. */
export interface NotificationDeliveries {
  record(
    delivery: NotificationDelivery,
  ): Promise<{ created: boolean; delivery: NotificationDelivery }>;
  list(orderId: string): Promise<NotificationDelivery[]>;
}

/** The `notifications` queue (sending side). */
export interface NotificationQueue {
  /** messageId = notificationId, so Service Bus duplicate detection drops a re-send. */
  enqueue(message: NotificationMessage): Promise<void>;
  /** The messages as one batch: all are enqueued or none (ids as for `enqueue`). */
  enqueueBatch(messages: NotificationMessage[]): Promise<void>;
}

/** One page of a list; `continuationToken` is the store's own (the API wraps it). */
export interface Page<T> {
  items: T[];
  continuationToken?: string;
}

/** A person acting: token `oid` (else `sub`) and display name. */
export interface Actor {
  id: string;
  name: string;
}

/** How an operator resolved a rejected message (kept on the record). */
export interface Resolution {
  by: Actor;
  at: string;
  reason: string;
  orderId?: string;
}

export type RejectedState = "rejected" | "resubmitted" | "discarded";

/** An orders-inbound message that failed validation, kept with its reasons (card numbers masked). */
export interface RejectedMessage {
  id: string;
  source: "orders-inbound";
  messageId?: string;
  enqueuedTime?: string;
  deliveryCount?: number;
  body: unknown;
  reasons: { pointer: string; detail: string }[];
  rejectedAt: string;
  /** The card tokenised at rejection time when its number was valid (the number itself is gone). */
  card?: PaymentMethodRef;
  /** Absent on records written before operators could act on them: "rejected". */
  state?: RejectedState;
  resolution?: Resolution;
}

export interface RejectedMessages {
  /** Writes the record unless it was already resolved (a redelivery must not undo a discard). */
  record(message: RejectedMessage): Promise<void>;
  get(id: string): Promise<RejectedMessage | undefined>;
  list(query: {
    state?: RejectedState;
    limit: number;
    continuationToken?: string;
  }): Promise<Page<RejectedMessage>>;
  /** Marks the record resolved; resolves the stored record. */
  resolve(
    id: string,
    state: Exclude<RejectedState, "rejected">,
    resolution: Resolution,
  ): Promise<RejectedMessage>;
}

/** One operator or approver action (container `audit`, kept for its default TTL). */
export interface AuditEntry {
  id: string;
  at: string;
  actor: Actor;
  action: string;
  target: { kind: "order" | "rejected-message" | "dead-letter"; id: string };
  reason: string;
  /** `orderId` here when the target is not the order itself, so the order's audit finds it. */
  details?: Record<string, unknown>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first; `orderId` matches the target or `details.orderId`, `actor` the actor's id. */
  list(query: {
    orderId?: string;
    actor?: string;
    limit: number;
    continuationToken?: string;
  }): Promise<Page<AuditEntry>>;
}

/** A message in a queue's dead-letter subqueue, as peeked (body card-scrubbed by the API). */
export interface DeadLetteredMessage {
  /** Service Bus sequence numbers are 64-bit: a decimal string. */
  sequenceNumber: string;
  messageId?: string;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  deliveryCount?: number;
  enqueuedAt?: string;
  body: unknown;
  applicationProperties?: Record<string, unknown>;
}

/** The dead-letter subqueues of orders-inbound and notifications. */
export interface DeadLetters {
  peek(
    queue: string,
    query: { limit: number; fromSequenceNumber?: string },
  ): Promise<Page<DeadLetteredMessage>>;
  /**
   * Locks the dead-lettered message with this sequence number and runs `work` on it: the message
   * is completed (removed) when `work` resolves and abandoned (kept) when it throws. Undefined when
   * the message is not there (already resubmitted or discarded).
   */
  settle<T>(
    queue: string,
    sequenceNumber: string,
    work: (message: DeadLetteredMessage) => Promise<T>,
  ): Promise<{ result: T } | undefined>;
  /** Sends a notification back to its queue (the notifier delivers once per notificationId). */
  resend(queue: string, message: DeadLetteredMessage): Promise<void>;
}
