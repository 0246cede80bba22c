// Cosmos DB client spans. The Cosmos SDK emits none of its own (it has no @azure/core-tracing
// instrumenter), so a client plugin wraps each operation (retries included) in a CLIENT span
// named as the database semantic conventions ask: `<operation> <collection>`, with
// db.system.name azure.cosmosdb. Only under an active span: background metadata reads outside an
// invocation would otherwise each start a trace. No request or response content is recorded.
import { PluginOn, type PluginConfig } from "@azure/cosmos";
import { context as otelContext, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

const tracer = () => trace.getTracer("order-processing.cosmos");

function collectionOf(path: string | undefined): string | undefined {
  return /\/colls\/([^/]+)/.exec(path ?? "")?.[1];
}

export const cosmosTracing: PluginConfig = {
  on: PluginOn.operation,
  plugin: async (requestContext, diagnosticNode, next) => {
    if (!trace.getActiveSpan()) return next(requestContext);
    const operation = String(requestContext.operationType ?? "operation").toLowerCase();
    const collection = collectionOf(requestContext.path);
    const span = tracer().startSpan(collection ? `${operation} ${collection}` : operation, {
      kind: SpanKind.CLIENT,
      attributes: {
        "db.system.name": "azure.cosmosdb",
        "db.operation.name": operation,
        ...(collection ? { "db.collection.name": collection } : {}),
        "az.namespace": "Microsoft.DocumentDB",
      },
    });
    try {
      const response = await otelContext.with(trace.setSpan(otelContext.active(), span), () =>
        next(requestContext),
      );
      const code = (response as { code?: number }).code;
      if (typeof code === "number") span.setAttribute("db.response.status_code", String(code));
      return response;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code !== undefined) span.setAttribute("db.response.status_code", String(code));
      // 404 and 409 are answers the app expects (idempotent creates, lookups).
      if (code !== 404 && code !== 409) span.setStatus({ code: SpanStatusCode.ERROR });
      throw err;
    } finally {
      span.end();
    }
  },
};
