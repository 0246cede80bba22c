// A small OTLP/HTTP receiver (JSON encoding, as the SDK's OTLP/HTTP exporters send by default)
// for traces and metrics, kept in memory and bounded: at most MAX_SPANS spans and MAX_METRIC_BATCHES
// metric export batches, oldest dropped first; nothing is written under DATA_DIR, a restart
// empties it. POST /v1/traces and /v1/metrics take exports; GET /v1/traces?traceId=… and
// GET /v1/metrics return what is kept, flattened, for tests and the console.
import http from "node:http";
import { listenLocalhost, type Listener } from "../http/server";

export const MAX_SPANS = 20000;
export const MAX_METRIC_BATCHES = 2000;
const MAX_BODY = 8 * 1024 * 1024;

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: Record<string, unknown>;
  status?: { code?: number };
  service?: string;
}

type OtlpValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
};
type OtlpAttr = { key: string; value: OtlpValue };

export function attributes(list: OtlpAttr[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of list ?? [])
    out[a.key] =
      a.value.stringValue ?? a.value.intValue ?? a.value.doubleValue ?? a.value.boolValue;
  return out;
}

export class TelemetryStore {
  readonly spans: ReceivedSpan[] = [];
  readonly metricBatches: unknown[] = [];

  addTraces(body: { resourceSpans?: unknown[] }): void {
    for (const rs of (body.resourceSpans ?? []) as {
      resource?: { attributes?: OtlpAttr[] };
      scopeSpans?: { spans?: (ReceivedSpan & { attributes?: OtlpAttr[] })[] }[];
    }[]) {
      const service = attributes(rs.resource?.attributes)["service.name"] as string | undefined;
      for (const ss of rs.scopeSpans ?? [])
        for (const s of ss.spans ?? []) {
          this.spans.push({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            name: s.name,
            kind: s.kind,
            startTimeUnixNano: String(s.startTimeUnixNano),
            endTimeUnixNano: String(s.endTimeUnixNano),
            attributes: attributes(s.attributes as unknown as OtlpAttr[]),
            status: s.status,
            service,
          });
        }
    }
    if (this.spans.length > MAX_SPANS) this.spans.splice(0, this.spans.length - MAX_SPANS);
  }

  addMetrics(body: unknown): void {
    this.metricBatches.push(body);
    if (this.metricBatches.length > MAX_METRIC_BATCHES)
      this.metricBatches.splice(0, this.metricBatches.length - MAX_METRIC_BATCHES);
  }
}

export interface Receiver {
  url: string;
  store: TelemetryStore;
  close(): Promise<void>;
}

function handler(store: TelemetryStore): http.RequestListener {
  return (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, body: unknown) => {
      res.statusCode = status;
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify(body));
    };
    if (req.method === "GET" && url.pathname === "/v1/traces") {
      const id = url.searchParams.get("traceId");
      return send(200, { spans: id ? store.spans.filter((s) => s.traceId === id) : store.spans });
    }
    if (req.method === "GET" && url.pathname === "/v1/metrics")
      return send(200, { batches: store.metricBatches });
    if (req.method !== "POST" || !["/v1/traces", "/v1/metrics"].includes(url.pathname))
      return send(404, {});
    if (!String(req.headers["content-type"] ?? "").includes("json"))
      return send(415, { error: "only OTLP/HTTP JSON is accepted" });
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on("end", () => {
      if (size > MAX_BODY) return send(413, {});
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          resourceSpans?: unknown[];
        };
        if (url.pathname === "/v1/traces") store.addTraces(body);
        else store.addMetrics(body);
        send(200, {});
      } catch {
        send(400, { error: "invalid JSON" });
      }
    });
  };
}

export async function startReceiver(store = new TelemetryStore()): Promise<Receiver> {
  const listener: Listener = await listenLocalhost(handler(store), 0, ["127.0.0.1"]);
  return {
    url: `http://127.0.0.1:${listener.port}`,
    store,
    close: () => listener.close(),
  };
}
