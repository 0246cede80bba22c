// An order's trace for the console. Locally (LOCAL_TRACE_RECEIVER_URL, set by the local host when
// it runs its own OTLP receiver) the spans are read from that receiver; in Azure the answer is a
// link to Application Insights transaction search for the operation id (= the trace id), built
// from APPLICATIONINSIGHTS_RESOURCE_ID. The trace id is the one stored on the order at intake.
import type { Order } from "../domain/order";
import { withoutPaymentSecrets } from "./history";

export interface TraceSpan {
  spanId: string;
  parentSpanId: string | null;
  name: string;
  kind: string;
  startTime: string;
  endTime: string;
  status: "Unset" | "Ok" | "Error";
  attributes: Record<string, unknown>;
}

interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes?: Record<string, unknown>;
  status?: { code?: number };
}

const KINDS = ["Unspecified", "Internal", "Server", "Client", "Producer", "Consumer"];
const STATUSES = ["Unset", "Ok", "Error"] as const;

const isoOfNanos = (nanos: string) => new Date(Number(BigInt(nanos) / 1_000_000n)).toISOString();

function spanView(s: ReceivedSpan): TraceSpan {
  return {
    spanId: s.spanId,
    parentSpanId: s.parentSpanId ?? null,
    name: s.name,
    kind: KINDS[s.kind ?? 0] ?? "Unspecified",
    startTime: isoOfNanos(s.startTimeUnixNano),
    endTime: isoOfNanos(s.endTimeUnixNano),
    status: STATUSES[s.status?.code ?? 0] ?? "Unset",
    attributes: withoutPaymentSecrets(s.attributes ?? {}) as Record<string, unknown>,
  };
}

async function received(receiver: string, traceId?: string): Promise<ReceivedSpan[]> {
  const url = new URL("/v1/traces", receiver);
  if (traceId) url.searchParams.set("traceId", traceId);
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`The trace receiver answered ${res.status}`);
  return ((await res.json()) as { spans: ReceivedSpan[] }).spans;
}

export type TraceAnswer =
  { traceId: string; spans: TraceSpan[] } | { traceId: string; link: string | null } | undefined;

export async function orderTrace(
  order: Order,
  env: Record<string, string | undefined> = process.env,
): Promise<TraceAnswer> {
  const receiver = env.LOCAL_TRACE_RECEIVER_URL?.trim();
  if (receiver) {
    let traceId = order.traceId;
    // Orders from before trace ids were stored: find the orchestration span of the instance.
    traceId ??= (await received(receiver)).find(
      (s) => s.attributes?.["durable.instance_id"] === order.id,
    )?.traceId;
    if (!traceId) return undefined;
    const spans = (await received(receiver, traceId))
      .map(spanView)
      .sort((a, b) => a.startTime.localeCompare(b.startTime));
    return { traceId, spans };
  }
  if (!order.traceId) return undefined;
  return {
    traceId: order.traceId,
    link: transactionSearchLink(order, env.APPLICATIONINSIGHTS_RESOURCE_ID),
  };
}

/** Application Insights transaction search, filtered to the operation id, around the order's time. */
export function transactionSearchLink(order: Order, resourceId: string | undefined): string | null {
  if (!resourceId?.trim() || !order.traceId) return null;
  const from = new Date(Date.parse(order.createdAt) - 60 * 60 * 1000).toISOString();
  const to = new Date(Date.parse(order.updatedAt) + 60 * 60 * 1000).toISOString();
  const inputs = {
    tables: ["requests", "dependencies", "traces", "exceptions"],
    timeContextWhereClause: `| where timestamp > datetime("${from}") and timestamp < datetime("${to}")`,
    filterWhereClause: `| where operation_Id == "${order.traceId}"`,
    originalParams: {
      searchPhrase: { _text: order.traceId },
      timeContext: { durationMs: Date.parse(to) - Date.parse(from), endTime: to },
    },
  };
  return (
    "https://portal.azure.com/#blade/AppInsightsExtension/BladeRedirect/BladeName/searchV1" +
    `/ResourceId/${encodeURIComponent(resourceId.trim())}` +
    `/BladeInputs/${encodeURIComponent(JSON.stringify(inputs))}`
  );
}
