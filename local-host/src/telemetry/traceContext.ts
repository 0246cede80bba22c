// The trace context the host passes with an invocation (RpcInvocationRequest.traceContext), taken
// from what arrived with the work: an HTTP request's traceparent header, or a Service Bus
// message's application properties (traceparent, or Diagnostic-Id as the Service Bus SDK writes
// it). Nothing there: no context, and the worker's function span starts a new trace.
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

export type TraceContext = { traceParent: string; traceState?: string };

function valid(value: unknown): string | undefined {
  const v = typeof value === "string" ? value.trim().toLowerCase() : "";
  return TRACEPARENT.test(v) && !/^00-0{32}-|-0{16}-/.test(v) ? v : undefined;
}

export function fromHeaders(
  headers: Record<string, string | string[] | undefined>,
): TraceContext | undefined {
  const parent = valid(headers.traceparent);
  if (!parent) return undefined;
  const state = headers.tracestate;
  return { traceParent: parent, ...(typeof state === "string" ? { traceState: state } : {}) };
}

export function fromApplicationProperties(
  props: Record<string, unknown> | undefined,
): TraceContext | undefined {
  const parent = valid(props?.traceparent) ?? valid(props?.["Diagnostic-Id"]);
  if (!parent) return undefined;
  const state = props?.tracestate;
  return { traceParent: parent, ...(typeof state === "string" ? { traceState: state } : {}) };
}
