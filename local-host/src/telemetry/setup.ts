// Where the host's and the worker's telemetry goes: OTEL_EXPORTER_OTLP_ENDPOINT when the
// environment (or local.settings.json) names a collector, else the host's own OTLP/HTTP receiver
// (receiver.ts), whose URL the worker gets as OTEL_EXPORTER_OTLP_ENDPOINT and endpoints.json
// lists as `otlp`.
import { OrchestrationSpans, otlpSink } from "./orchestrationSpans";
import { startReceiver, type Receiver } from "./receiver";

export interface Telemetry {
  endpoint: string;
  receiver?: Receiver;
  spans: OrchestrationSpans;
  /** Settings the worker gets (empty when a collector is configured already). */
  env: Record<string, string>;
}

export async function startTelemetry(configured: string | undefined): Promise<Telemetry> {
  const receiver = configured ? undefined : await startReceiver();
  const endpoint = configured ?? receiver!.url;
  return {
    endpoint,
    ...(receiver ? { receiver } : {}),
    spans: new OrchestrationSpans(otlpSink(endpoint)),
    env: receiver
      ? {
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
          OTEL_METRIC_EXPORT_INTERVAL: "1000",
          // Local only: where the app's operator API reads an order's spans back (GET /v1/traces).
          LOCAL_TRACE_RECEIVER_URL: endpoint,
        }
      : {},
  };
}
