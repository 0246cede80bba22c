// Small interfaces the activities and triggers depend on; Cosmos, Service Bus and the simulated
// gateway/notifier implement them, tests use fakes.
import type { Visibility } from "../auth/rights";
import type {
  DecidedBy,
  NotificationChannel,
  Order,
  OrderOutcome,
  OrderStatus,
  PaymentMethodRef,
} from "../domain/order";

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
  list(query: {
    customerId?: string;
    status?: OrderStatus;
    limit: number;
    continuationToken?: string;
    /** Only orders matching at least one of these (absent: every order). */
    visibleTo?: Visibility;
  }): Promise<{ items: Order[]; continuationToken?: string }>;
}

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
}

export interface RejectedMessages {
  record(message: RejectedMessage): Promise<void>;
  list(query?: { limit?: number }): Promise<RejectedMessage[]>;
}
