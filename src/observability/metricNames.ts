// Names of the app's metrics and their attributes, shared by the code that records them, the
// Bicep alerts (infra/app/alerts.bicep queries these names) and the tests. OpenTelemetry semantic
// conventions have no order-processing names, so these follow their rules: dot-separated
// namespaces, the unit in `unit` not in the name, lower-case attribute values.
export const METRIC = {
  /** Counter, attribute order.source: http | servicebus. */
  ordersAccepted: "orders.accepted",
  /** Counter, attribute order.outcome: completed | rejected | cancelled | failed. */
  ordersFinished: "orders.finished",
  /** Histogram in seconds from acceptance to the final status, attribute order.outcome. */
  orderDuration: "orders.duration",
  /** Counter, attribute payment.result: charged | declined | transient_failure. */
  paymentAttempts: "payments.attempts",
  /** Counter, attribute approval.decision: approved | rejected | timed_out. */
  approvals: "approvals.decisions",
  /** Histogram in seconds an order waited for its approval decision, attribute approval.decision. */
  approvalWait: "approvals.wait",
  /** Counter of notifications delivered to the notifier. */
  notificationsDelivered: "notifications.delivered",
  /** Counter of notifications moved to the dead-letter queue. */
  notificationsDeadLettered: "notifications.dead_lettered",
  /** Counter of orders-inbound messages rejected as invalid. */
  inboundRejected: "inbound.rejected",
} as const;

export const ATTR = {
  source: "order.source",
  outcome: "order.outcome",
  paymentResult: "payment.result",
  decision: "approval.decision",
} as const;

/** The log event whose durationMs feeds the accept→finish p95 alert. */
export const ORDER_FINISHED_EVENT = "order.finished";
