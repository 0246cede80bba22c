// Structured logging through the invocation context, so the Functions host (and App Insights)
// attributes each line to its invocation. Every entry carries orderId/instanceId when known, so
// one order can be followed end to end. Card-number-like digit runs are masked as a last line of
// defence: no code path should log one, and tests assert that.
import type { InvocationContext } from "@azure/functions";
import { trace } from "@opentelemetry/api";

export interface LogFields {
  orderId?: string;
  instanceId?: string;
  [field: string]: unknown;
}

// UUIDs (order and instance ids) are matched first and kept: their digit-only groups would
// otherwise look like a card number and the ids that tie an order's log lines together be lost.
const UUID_OR_PAN_LIKE =
  /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|\b(?:\d[ -]?){12,18}\d\b/gi;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function redact(text: string): string {
  return text.replace(UUID_OR_PAN_LIKE, (match) =>
    UUID.test(match) ? match : `[redacted …${match.replace(/\D/g, "").slice(-4)}]`,
  );
}

// The active span (the invocation's, or an Azure SDK call's) ties the entry to its trace. The
// ids are taken from the context, so they are there whether or not the trace is sampled.
function traceIds(): { traceId?: string; spanId?: string } {
  const span = trace.getActiveSpan()?.spanContext();
  return span && trace.isSpanContextValid(span)
    ? { traceId: span.traceId, spanId: span.spanId }
    : {};
}

// The ids are appended after redaction: an all-digit span id must not be masked as a card number.
function entry(event: string, fields: LogFields): string {
  const text = redact(JSON.stringify({ event, ...fields }));
  const ids = traceIds();
  return ids.traceId ? `${text.slice(0, -1)},${JSON.stringify(ids).slice(1)}` : text;
}

export function logInfo(context: InvocationContext, event: string, fields: LogFields = {}): void {
  context.info(entry(event, fields));
}

export function logWarn(context: InvocationContext, event: string, fields: LogFields = {}): void {
  context.warn(entry(event, fields));
}

export function logError(
  context: InvocationContext,
  event: string,
  error: unknown,
  fields: LogFields = {},
): void {
  const message = error instanceof Error ? error.message : String(error);
  context.error(entry(event, { ...fields, error: message }));
}
