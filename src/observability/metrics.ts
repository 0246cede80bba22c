// The app's metric instruments (names in metricNames.ts). Recorded only by activities and
// triggers, which run once per execution; never by the orchestrator, whose replays would count
// again. Instruments are created on first use from the global meter provider (telemetry.ts).
import { metrics, type Counter, type Histogram } from "@opentelemetry/api";
import { ATTR, METRIC } from "./metricNames";

const meter = () => metrics.getMeter("order-processing");
const counters = new Map<string, Counter>();
const histograms = new Map<string, Histogram>();

function counter(name: string, description: string): Counter {
  let c = counters.get(name);
  if (!c) counters.set(name, (c = meter().createCounter(name, { description, unit: "{order}" })));
  return c;
}

function histogram(name: string, description: string): Histogram {
  let h = histograms.get(name);
  if (!h) histograms.set(name, (h = meter().createHistogram(name, { description, unit: "s" })));
  return h;
}

export function orderAccepted(source: "http" | "servicebus"): void {
  counter(METRIC.ordersAccepted, "Orders accepted").add(1, { [ATTR.source]: source });
}

export function orderFinished(outcome: string, seconds: number): void {
  const attrs = { [ATTR.outcome]: outcome.toLowerCase() };
  counter(METRIC.ordersFinished, "Orders that reached a final status").add(1, attrs);
  histogram(METRIC.orderDuration, "Time from acceptance to the final status").record(
    seconds,
    attrs,
  );
}

export function paymentAttempt(result: "charged" | "declined" | "transient_failure"): void {
  counter(METRIC.paymentAttempts, "Payment charge attempts").add(1, {
    [ATTR.paymentResult]: result,
  });
}

export function approvalDecided(decision: string, waitSeconds: number): void {
  const attrs = { [ATTR.decision]: decision };
  counter(METRIC.approvals, "Approval decisions").add(1, attrs);
  histogram(METRIC.approvalWait, "Time an order waited for its approval decision").record(
    waitSeconds,
    attrs,
  );
}

export function notificationDelivered(): void {
  counter(METRIC.notificationsDelivered, "Notifications delivered").add(1);
}

export function notificationDeadLettered(): void {
  counter(METRIC.notificationsDeadLettered, "Notifications dead-lettered").add(1);
}

export function inboundRejected(): void {
  counter(METRIC.inboundRejected, "orders-inbound messages rejected as invalid").add(1);
}
