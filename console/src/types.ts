// Shapes of the API's answers the console reads (openapi.yaml; the operator API's contract).
import { ORDER_STATUSES, TERMINAL_STATUSES } from "../../src/domain/order";
// The status lists are the app's own (src/domain/order.ts has no imports, so it bundles as is).
export const STATUSES = ORDER_STATUSES;
export const TERMINAL: readonly string[] = TERMINAL_STATUSES;

export interface Order {
  orderId: string;
  customerId: string;
  currency: string;
  lines: { sku: string; name: string; quantity: number; unitPrice: number }[];
  totals: { subtotal?: number; total: number; [k: string]: number | undefined };
  payment: { brand: string; last4: string };
  status: string;
  outcome?: {
    status: string;
    reason?: string;
    decidedBy?: { id: string; name: string; at: string };
  };
  source: string;
  decidedBy?: { id: string; name: string; at: string };
  createdAt: string;
  updatedAt: string;
  runtimeStatus?: string | null;
}

export interface OrderStats {
  from?: string;
  to?: string;
  countsByStatus: Record<string, number>;
  perMinute: { minute: string; outcomes: Record<string, number> }[];
  latency: { minute: string; p50Ms: number; p95Ms: number }[];
}

export interface HistoryEvent {
  eventType: string;
  name?: string;
  timestamp: string;
  input?: unknown;
  result?: unknown;
  failure?: unknown;
  /** The attempt number of a retried activity (2 = the first retry). */
  retry?: number;
}

export interface History {
  instanceId: string;
  runtimeStatus: string;
  version?: string;
  events: HistoryEvent[];
}

export interface Span {
  spanId: string;
  parentSpanId?: string | null;
  name: string;
  kind?: string | number;
  startTime: string | number;
  endTime: string | number;
  status?: unknown;
  attributes?: Record<string, unknown>;
}

export type Trace = { traceId: string; spans: Span[] } | { traceId: string; link: string | null };

export interface RejectedMessage {
  id: string;
  messageId: string;
  rejectedAt: string;
  reasons: { field: string; detail: string }[];
  body: unknown;
  card: { brand: string; last4: string } | null;
  state: "rejected" | "resubmitted" | "discarded";
  resolution?: { by: { id: string; name: string }; at: string; reason: string; orderId?: string };
}

export interface DeadLetter {
  sequenceNumber: string;
  messageId: string;
  deadLetterReason?: string;
  deadLetterErrorDescription?: string;
  deliveryCount: number;
  enqueuedAt: string;
  body: unknown;
}

export interface StuckOrder {
  orderId: string;
  status: string;
  runtimeStatus: string;
  since: string;
  ageSeconds: number;
  thresholdSeconds: number;
  actions: string[];
}

export interface AuditEntry {
  id: string;
  at: string;
  actor: { id: string; name: string };
  action: string;
  target: { kind: string; id: string };
  reason: string;
  details?: unknown;
}
