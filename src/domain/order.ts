// The order model shared by triggers, activities and the orchestrator. Money is always integer
// minor units of `currency` (ISO 4217); the server computes every total from the caller's quote.

export const ORDER_STATUSES = [
  "Received",
  "AwaitingApproval",
  "Approved",
  "Charging",
  "Paid",
  "Notifying",
  "Completed",
  "Rejected",
  "Cancelled",
  "PaymentDeclined",
  "PaymentFailed",
  "Failed",
] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** Business outcomes: the orchestration ends normally with one of these in its output. */
export const TERMINAL_STATUSES = [
  "Completed",
  "Rejected",
  "Cancelled",
  "PaymentDeclined",
  "PaymentFailed",
  "Failed",
] as const satisfies readonly OrderStatus[];
export type TerminalStatus = (typeof TERMINAL_STATUSES)[number];

export const NOTIFICATION_CHANNELS = ["email", "sms", "push"] as const;
export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];

export interface OrderItemInput {
  sku: string;
  name: string;
  quantity: number;
  /** Quote from the caller's cart, minor units. */
  unitPrice: number;
}

export interface Address {
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
}

/** A validated order request as it arrives (the only place a full card number exists). */
export interface NewOrderRequest {
  customerId: string;
  currency: string;
  items: OrderItemInput[];
  shippingAddress: Address;
  payment: { cardNumber: string };
}

/** What is stored and passed around instead of a card number. */
export interface PaymentMethodRef {
  token: string;
  brand: string;
  last4: string;
  /** Gateway-provided stable identity of the card (same card → same value), never reversible to
   * the number; used in the idempotency request hash instead of the card number. */
  fingerprint: string;
}

export interface OrderLine extends OrderItemInput {
  lineTotal: number;
}

export interface OrderTotals {
  subtotal: number;
  total: number;
}

export interface Order {
  /** Also the orchestration instance id and the payment idempotency key. */
  id: string;
  customerId: string;
  currency: string;
  lines: OrderLine[];
  totals: OrderTotals;
  shippingAddress: Address;
  payment: PaymentMethodRef;
  status: OrderStatus;
  /** SHA-256 of the canonical request (card replaced by its token's fingerprint) for idempotency. */
  requestHash: string;
  idempotencyKey?: string;
  source: "http" | "servicebus";
  /** Who placed an order that came over HTTP (absent for orders-inbound). */
  createdBy?: CreatedBy;
  /** Who approved, rejected or cancelled it, recorded with the status change that followed. */
  decidedBy?: DecidedBy;
  createdAt: string;
  updatedAt: string;
  outcome?: OrderOutcome;
  /** The W3C trace id of the request (or message) that created the order. */
  traceId?: string;
  /** Operator actions on a stuck order, oldest first, each with who and why. */
  operatorActions?: OrderAction[];
}

/** An operator's action on the order (src/operator/stuckOrders.ts). */
export interface OrderAction {
  action: string;
  reason: string;
  by: { id: string; name: string };
  at: string;
  /** The stage and runtime status it was taken at. */
  stage: OrderStatus;
  runtimeStatus: string;
  refundId?: string;
}

/** Output of the processOrder orchestration (and the `outcome` stored on the order). */
export interface OrderOutcome {
  status: TerminalStatus;
  reason?: string;
  chargeId?: string;
  refundId?: string;
  /** The approver's display name (decidedBy.name). */
  approvedBy?: string;
  /** Who approved, rejected or cancelled the order, and when. */
  decidedBy?: DecidedBy;
}

/**
 * The caller that placed an order: a customer (delegated token; `id` = their oid, `clientId` =
 * the client application they used) or an application (app-only token; `id` = its client id).
 */
export interface CreatedBy {
  kind: "customer" | "app";
  id: string;
  clientId?: string;
}

/** A person's decision: token `oid` (else `sub`), display name, and when it was made. */
export interface DecidedBy {
  id: string;
  name: string;
  at: string;
}

/** Input of the processOrder orchestration: everything it needs, config included (no env reads). */
export interface ProcessOrderInput {
  orderId: string;
  customerId: string;
  currency: string;
  total: number;
  payment: PaymentMethodRef;
  channels: NotificationChannel[];
  approval: { thresholdMinor: number; timeout: string /* ISO 8601 duration */ };
}

/** Custom status published at every stage (what clients see while polling). */
export interface OrderCustomStatus {
  stage: OrderStatus;
  updatedAt: string;
  detail?: string;
}

export const ORCHESTRATOR_NAME = "processOrder";
export const APPROVAL_EVENT = "ApprovalDecision";
export const CANCEL_EVENT = "CancelOrder";

/** The approval event's data. `approver` is the decider's display name (kept for instances
 * started before decisions carried `decidedBy`). */
export interface ApprovalDecision {
  approved: boolean;
  approver: string;
  reason?: string;
  decidedBy?: DecidedBy;
}

/** The cancel event's data. */
export interface CancelRequest {
  reason?: string;
  decidedBy?: DecidedBy;
}
