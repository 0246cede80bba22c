// Structured logging through the invocation context, so the Functions host (and App Insights)
// attributes each line to its invocation. Every entry carries orderId/instanceId when known, so
// one order can be followed end to end. Card-number-like digit runs are masked as a last line of
// defence: no code path should log one, and tests assert that.
import type { InvocationContext } from "@azure/functions";

export interface LogFields {
  orderId?: string;
  instanceId?: string;
  [field: string]: unknown;
}

const PAN_LIKE = /\b(?:\d[ -]?){12,18}\d\b/g;

export function redact(text: string): string {
  return text.replace(PAN_LIKE, (match) => `[redacted …${match.replace(/\D/g, "").slice(-4)}]`);
}

function entry(event: string, fields: LogFields): string {
  return redact(JSON.stringify({ event, ...fields }));
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
