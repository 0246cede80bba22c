// OpenTelemetry in the worker: one tracer and meter provider, set up before any function is
// registered (src/index.ts imports this first). Each invocation runs in a function-execution span
// parented on the trace context the host passes with it (InvocationContext.traceContext), so one
// order is one trace: POST → orchestration (the host/engine emits that span, once, however often
// the orchestrator replays) → activities → their Cosmos / Service Bus calls (the Azure SDKs' own
// spans) → the Service Bus triggers. Orchestrator invocations get no span of their own here:
// they replay, and a span per episode would duplicate the orchestration.
//
// Export: APPLICATIONINSIGHTS_CONNECTION_STRING → Application Insights (@azure/monitor-opentelemetry,
// Entra auth with the app's identity); else OTEL_EXPORTER_OTLP_ENDPOINT → OTLP/HTTP (the local
// host sets it to its own receiver); else nothing leaves the process. Sampling: parent-based
// trace-id ratio, OTEL_TRACES_SAMPLER_ARG (default 1, every order; README "host.json").
import type { InvocationContext } from "@azure/functions";
import { AzureFunctionsInstrumentation } from "@azure/functions-opentelemetry-instrumentation";
import { createAzureSdkInstrumentation } from "@azure/opentelemetry-instrumentation-azure-sdk";
import {
  context as otelContext,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Span,
} from "@opentelemetry/api";
import { OTLPMetricExporter } from "@opentelemetry/exporter-metrics-otlp-http";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { registerInstrumentations } from "@opentelemetry/instrumentation";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { MeterProvider, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics";
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

export const SERVICE_NAME = "order-processing";

function ratio(): number {
  const r = Number(process.env.OTEL_TRACES_SAMPLER_ARG ?? "1");
  return Number.isFinite(r) && r >= 0 && r <= 1 ? r : 1;
}

function setUp(): void {
  const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
  if (process.env.APPLICATIONINSIGHTS_CONNECTION_STRING) {
    /* eslint-disable @typescript-eslint/no-require-imports -- loaded only in Azure, after the
       SDK instrumentation is registered */
    const { useAzureMonitor } =
      require("@azure/monitor-opentelemetry") as typeof import("@azure/monitor-opentelemetry");
    const { credentialFor } =
      require("../adapters/credential") as typeof import("../adapters/credential");
    /* eslint-enable @typescript-eslint/no-require-imports */
    useAzureMonitor({
      azureMonitorExporterOptions: {
        connectionString: process.env.APPLICATIONINSIGHTS_CONNECTION_STRING,
        credential: credentialFor({
          credential: process.env.AzureWebJobsStorage__credential,
          clientId: process.env.AzureWebJobsStorage__clientId ?? process.env.AZURE_CLIENT_ID,
        }),
      },
      samplingRatio: ratio(),
    });
  } else if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: SERVICE_NAME });
    const tracer = new NodeTracerProvider({
      resource,
      sampler,
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter(), { scheduledDelayMillis: 500 }),
      ],
    });
    tracer.register();
    metrics.setGlobalMeterProvider(
      new MeterProvider({
        resource,
        readers: [
          new PeriodicExportingMetricReader({
            exporter: new OTLPMetricExporter(),
            exportIntervalMillis: Number(process.env.OTEL_METRIC_EXPORT_INTERVAL ?? 5000),
          }),
        ],
      }),
    );
  }
  registerInstrumentations({
    instrumentations: [new AzureFunctionsInstrumentation(), createAzureSdkInstrumentation()],
  });
  // The instrumentations patch modules as they are required; a host that preloads libraries (the
  // local host does) loaded these already, so require them again for the patch to apply.
  /* eslint-disable @typescript-eslint/no-require-imports */
  require("@azure/functions");
  require("@azure/core-tracing");
  /* eslint-enable @typescript-eslint/no-require-imports */
}

type Kind = "http" | "servicebus" | "activity" | "orchestration" | "other";

function kindOf(context: InvocationContext): Kind {
  const type = String(context.options.trigger.type).toLowerCase();
  if (type === "httptrigger") return "http";
  if (type === "servicebustrigger") return "servicebus";
  if (type === "activitytrigger") return "activity";
  if (type === "orchestrationtrigger") return "orchestration";
  return "other";
}

const SPAN_KIND: Record<Kind, SpanKind> = {
  http: SpanKind.SERVER,
  servicebus: SpanKind.CONSUMER,
  activity: SpanKind.INTERNAL,
  orchestration: SpanKind.INTERNAL,
  other: SpanKind.INTERNAL,
};

const SPAN = "otelSpan";

function hookSpans(): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { app } = require("@azure/functions") as typeof import("@azure/functions");
  const tracer = trace.getTracer(SERVICE_NAME);
  app.hook.preInvocation((hook) => {
    const ctx = hook.invocationContext;
    const tc = ctx.traceContext;
    const parent = tc?.traceParent
      ? propagation.extract(otelContext.active(), {
          traceparent: tc.traceParent,
          ...(tc.traceState ? { tracestate: tc.traceState } : {}),
        })
      : otelContext.active();
    const kind = kindOf(ctx);
    if (kind === "orchestration") {
      hook.functionHandler = otelContext.bind(parent, hook.functionHandler);
      return;
    }
    const span = tracer.startSpan(
      `${kind === "activity" ? "activity" : "function"} ${ctx.functionName}`,
      {
        kind: SPAN_KIND[kind],
        attributes: {
          "faas.name": ctx.functionName,
          "faas.invocation_id": ctx.invocationId,
          "faas.trigger": kind === "http" ? "http" : kind === "servicebus" ? "pubsub" : "other",
        },
      },
      parent,
    );
    hook.hookData[SPAN] = span;
    hook.functionHandler = otelContext.bind(trace.setSpan(parent, span), hook.functionHandler);
  });
  app.hook.postInvocation((hook) => {
    const span = hook.hookData[SPAN] as Span | undefined;
    if (!span) return;
    if (hook.error) {
      span.recordException(hook.error as Error);
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    const status = (hook.result as { status?: number } | null)?.status;
    if (typeof status === "number") {
      span.setAttribute("http.response.status_code", status);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  });
}

// Our span hook first: hooks wrap the handler in registration order, so the first one's context
// is the innermost, the one the function runs in (the Functions instrumentation binds only the
// host's trace context, which would hide the function span).
hookSpans();
setUp();
