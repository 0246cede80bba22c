// The orchestration span, emitted by the host (as the Durable extension does), never by the
// replaying orchestrator: one span per instance from its start to its terminal status, child of
// the caller's trace context (the traceparent the durable client sends with start-new). The
// engine passes this span's context with every orchestrator episode and activity it dispatches,
// so activities are its children however often the orchestrator replays. The span's identity
// (`SpanIdentity`) is stored with the instance, so an instance that outlives a host restart is
// reopened under the same span and stays in its caller's trace.
import { randomBytes } from "node:crypto";

/** What the engine keeps with an instance to reopen its span after a restart (plain JSON). */
export interface SpanIdentity {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  sampled: boolean;
  /** Start, epoch ms. */
  startMs: number;
}

interface Open extends SpanIdentity {
  name: string;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const MAX_OPEN = 10000;

export type SpanSink = (resourceSpans: unknown) => void;

/** POSTs OTLP/HTTP JSON to `${endpoint}/v1/traces`; failures are dropped (telemetry only). */
export function otlpSink(endpoint: string): SpanSink {
  const url = `${endpoint.replace(/\/$/, "")}/v1/traces`;
  return (body) => {
    fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).catch(() => undefined);
  };
}

const ns = (ms: number) => (BigInt(ms) * 1_000_000n).toString();

export class OrchestrationSpans {
  readonly #open = new Map<string, Open>();
  constructor(readonly sink: SpanSink | undefined) {}

  /** A new span's identity: a child of `traceparent` when it is valid, else a new trace. */
  identity(traceparent: string | undefined): SpanIdentity {
    const parent = TRACEPARENT.exec(traceparent?.trim().toLowerCase() ?? "");
    return {
      traceId: parent?.[1] ?? randomBytes(16).toString("hex"),
      spanId: randomBytes(8).toString("hex"),
      ...(parent ? { parentSpanId: parent[2] } : {}),
      sampled: parent ? (parseInt(parent[3], 16) & 1) === 1 : true,
      startMs: Date.now(),
    };
  }

  /** Opens (or, after a restart, reopens) the span of an instance. */
  open(instanceId: string, name: string, identity: SpanIdentity): void {
    if (this.#open.size >= MAX_OPEN) this.#open.delete(this.#open.keys().next().value as string);
    this.#open.set(instanceId, { ...identity, name });
  }

  start(instanceId: string, name: string, traceparent: string | undefined): void {
    this.open(instanceId, name, this.identity(traceparent));
  }

  /** The traceContext for an invocation dispatched on behalf of this instance. */
  traceContext(instanceId: string): { traceParent: string } | undefined {
    const o = this.#open.get(instanceId);
    return o && { traceParent: `00-${o.traceId}-${o.spanId}-${o.sampled ? "01" : "00"}` };
  }

  /** Ends the span once (later calls for the same instance do nothing). */
  finish(instanceId: string, status: string): void {
    const o = this.#open.get(instanceId);
    if (!o) return;
    this.#open.delete(instanceId);
    if (!o.sampled || !this.sink) return;
    this.sink({
      resourceSpans: [
        {
          resource: {
            attributes: [{ key: "service.name", value: { stringValue: "local-host" } }],
          },
          scopeSpans: [
            {
              scope: { name: "local-host.durable" },
              spans: [
                {
                  traceId: o.traceId,
                  spanId: o.spanId,
                  ...(o.parentSpanId ? { parentSpanId: o.parentSpanId } : {}),
                  name: `orchestration ${o.name}`,
                  kind: 1,
                  startTimeUnixNano: ns(o.startMs),
                  endTimeUnixNano: ns(Date.now()),
                  attributes: [
                    { key: "durable.instance_id", value: { stringValue: instanceId } },
                    { key: "durable.runtime_status", value: { stringValue: status } },
                  ],
                  status: { code: status === "Failed" ? 2 : 0 },
                },
              ],
            },
          ],
        },
      ],
    });
  }
}
