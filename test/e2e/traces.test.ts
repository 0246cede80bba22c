/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Traces end to end on a running local host and its OTLP receiver: one order is one trace
// (the caller's traceparent → createOrder → the orchestration → each activity → its Azure SDK
// calls → the deliverNotification run), and replays of the orchestrator add no spans.
import fs from "node:fs";
import { randomBytes, randomUUID } from "node:crypto";
import { ServiceBusClient } from "@azure/service-bus";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import {
  ALL_CARDS,
  Api,
  ensureFreshBuild,
  eventually,
  orderRequest,
  pollToOutcome,
  sleep,
  waitForStage,
} from "./support/e2e";

let host: StartedHost;
let api: Api;
let otlp: string;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT });
  api = Api.forHost(host);
  otlp = (host.endpoints as any).otlp.url;
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

interface Span {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind?: number;
  attributes: Record<string, unknown>;
}

async function spansOf(traceId: string): Promise<Span[]> {
  const res = await fetch(`${otlp}/v1/traces?traceId=${traceId}`);
  return ((await res.json()) as { spans: Span[] }).spans;
}

/** Places an order under a caller's trace and waits for its outcome; returns the trace id. */
async function tracedOrder(): Promise<{ traceId: string; callerSpanId: string; orderId: string }> {
  const traceId = randomBytes(16).toString("hex");
  const callerSpanId = randomBytes(8).toString("hex");
  const res = await api.post("/orders", orderRequest({ quantity: 2, unitPrice: 1500 }), {
    traceparent: `00-${traceId}-${callerSpanId}-01`,
  });
  expect(res.status).toBe(202);
  const polled = await pollToOutcome(api, res.headers.get("location")!);
  expect(polled.body.status).toBe("Completed");
  return { traceId, callerSpanId, orderId: res.body.orderId };
}

describe("one order is one trace", () => {
  it("HTTP → orchestration → activities → Cosmos / Service Bus → delivery, as one tree", async () => {
    const { traceId, callerSpanId, orderId } = await tracedOrder();
    // The delivery runs after the orchestration ends; the exporters batch for ~1 s.
    const spans = await eventually(
      async () => {
        const s = await spansOf(traceId);
        const done =
          s.some((x) => x.name === "function deliverNotification") &&
          s.some((x) => x.name.startsWith("orchestration "));
        return done ? s : undefined;
      },
      "the order's spans",
      30000,
    );
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parentOf = (s: Span) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const ancestors = (s: Span): string[] => {
      const p = parentOf(s);
      return p ? [p.name, ...ancestors(p)] : [];
    };
    const named = (name: string) => spans.filter((s) => s.name === name);

    const [http] = named("function createOrder");
    expect(http).toBeDefined();
    expect(http.parentSpanId).toBe(callerSpanId);
    expect(http.kind).toBe(2); // SERVER

    const orchestrations = spans.filter((s) => s.name.startsWith("orchestration "));
    expect(orchestrations.map((s) => s.name)).toEqual(["orchestration processOrder"]);
    const [orchestration] = orchestrations;
    expect(orchestration.attributes["durable.instance_id"]).toEqual(expect.any(String));
    expect(ancestors(orchestration)).toContain("function createOrder");

    const activities = spans.filter((s) => s.name.startsWith("activity "));
    expect(activities.map((s) => s.name)).toEqual(
      expect.arrayContaining([
        "activity chargePayment",
        "activity capturePayment",
        "activity sendNotifications",
      ]),
    );
    for (const a of activities) expect(a.parentSpanId).toBe(orchestration.spanId);

    // The Azure SDKs' own spans sit under the activity (or function) that made the call.
    const sdk = spans.filter((s) => s.attributes["az.namespace"] !== undefined);
    expect(sdk.some((s) => s.attributes["az.namespace"] === "Microsoft.DocumentDB")).toBe(true);
    const sbSend = sdk.filter((s) => s.attributes["az.namespace"] === "Microsoft.ServiceBus");
    expect(sbSend.length).toBeGreaterThan(0);
    for (const s of sdk) {
      expect(ancestors(s).some((n) => n.startsWith("activity ") || n.startsWith("function "))).toBe(
        true,
      );
    }

    // The notification's delivery continues the trace through the message's properties.
    const [delivery] = named("function deliverNotification");
    expect(delivery.kind).toBe(5); // CONSUMER
    expect(ancestors(delivery)).toContain("activity sendNotifications");

    // Every span is in the one trace, and every parent is a span of it (or the caller's).
    for (const s of spans) {
      expect(s.traceId).toBe(traceId);
      if (s.parentSpanId && s !== http) expect(byId.has(s.parentSpanId)).toBe(true);
    }
    // No attribute carries a card number (or anything that looks like one).
    const attributeText = JSON.stringify(spans.map((s) => s.attributes));
    for (const card of ALL_CARDS) expect(attributeText).not.toContain(card);
    expect(attributeText).not.toMatch(/\b\d{13,19}\b/);
    expect(orderId).toMatch(/^[0-9a-f-]{36}$/);
  }, 90000);

  it("replays add no spans: one orchestration span, one span per activity execution", async () => {
    const { traceId } = await tracedOrder();
    await eventually(
      async () => {
        const s = await spansOf(traceId);
        return s.some((x) => x.name === "function deliverNotification") ? s : undefined;
      },
      "the delivery span",
      30000,
    );
    await sleep(2500); // anything a replay would still export has had time to arrive
    const spans = await spansOf(traceId);
    expect(spans.filter((s) => s.name.startsWith("orchestration ")).length).toBe(1);
    const invocations = spans
      .filter((s) => s.name.startsWith("activity ") || s.name.startsWith("function "))
      .map((s) => s.attributes["faas.invocation_id"]);
    expect(new Set(invocations).size).toBe(invocations.length);
    // The orchestrator ran several episodes (one per activity result), yet no span is its own.
    expect(spans.some((s) => s.name === "function processOrder")).toBe(false);
    expect(spans.filter((s) => s.name === "activity chargePayment").length).toBe(1);
  }, 90000);
});

describe("orders-inbound continues a sender's trace", () => {
  it("a message with traceparent (or Diagnostic-Id) in its application properties", async () => {
    const bus = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString));
    const sender = bus.createSender("orders-inbound");
    const sent: { traceId: string; spanId: string; orderId: string }[] = [];
    try {
      for (const property of ["traceparent", "Diagnostic-Id"]) {
        const trace = {
          traceId: randomBytes(16).toString("hex"),
          spanId: randomBytes(8).toString("hex"),
          orderId: randomUUID(),
        };
        sent.push(trace);
        await sender.sendMessages({
          body: { ...orderRequest(), orderId: trace.orderId },
          messageId: `msg-${trace.orderId}`,
          contentType: "application/json",
          applicationProperties: { [property]: `00-${trace.traceId}-${trace.spanId}-01` },
        });
      }
    } finally {
      await sender.close();
      await bus.close();
    }
    for (const { traceId, spanId } of sent) {
      const spans = await eventually(
        async () => {
          const s = await spansOf(traceId);
          const done =
            s.some((x) => x.name.startsWith("orchestration ")) &&
            s.some((x) => x.name === "function ordersInbound");
          return done ? s : undefined;
        },
        "the inbound order's spans",
        30000,
      );
      const [inbound] = spans.filter((s) => s.name === "function ordersInbound");
      expect(inbound).toMatchObject({ parentSpanId: spanId, kind: 5 });
      const orchestration = spans.find((s) => s.name === "orchestration processOrder")!;
      expect(orchestration.parentSpanId).toBeDefined();
      expect(spans.map((s) => s.spanId)).toContain(orchestration.parentSpanId);
    }
  }, 90000);
});

/** The latest cumulative value of a metric's data points whose attributes match. */
async function metricValue(name: string, attrs: Record<string, string>): Promise<number> {
  const res = await fetch(`${otlp}/v1/metrics`);
  const { batches } = (await res.json()) as { batches: any[] };
  for (const batch of [...batches].reverse()) {
    for (const rm of batch.resourceMetrics ?? [])
      for (const sm of rm.scopeMetrics ?? [])
        for (const m of sm.metrics ?? []) {
          if (m.name !== name) continue;
          const points: any[] = m.sum?.dataPoints ?? m.histogram?.dataPoints ?? [];
          return points
            .filter((p) =>
              Object.entries(attrs).every(([k, v]) =>
                (p.attributes ?? []).some((a: any) => a.key === k && a.value.stringValue === v),
              ),
            )
            .reduce((n, p) => n + Number(p.asInt ?? p.asDouble ?? p.count ?? 0), 0);
        }
  }
  return 0;
}

describe("metrics", () => {
  it("counts match the orders sent: accepted, finished by outcome, durations, deliveries", async () => {
    const read = () =>
      Promise.all([
        metricValue("orders.accepted", { "order.source": "http" }),
        metricValue("orders.finished", { "order.outcome": "completed" }),
        metricValue("orders.duration", { "order.outcome": "completed" }),
        metricValue("payments.attempts", { "payment.result": "charged" }),
      ]);
    // Earlier tests' orders are exported by now (the host exports every second).
    await sleep(2500);
    const before = await read();
    const sent = 3;
    for (let i = 0; i < sent; i++) await tracedOrder();
    const after = await eventually(
      async () => {
        const now = await read();
        return now.every((v, i) => v - before[i] >= sent) ? now : undefined;
      },
      "the metrics of the orders sent",
      20000,
    );
    await sleep(2500); // nothing more arrives: no replay or retry counted twice
    expect((await read()).map((v, i) => v - before[i])).toEqual([sent, sent, sent, sent]);
    expect(after.map((v, i) => v - before[i])).toEqual([sent, sent, sent, sent]);
  }, 90000);
});

// Last in this file: it restarts the shared host.
describe("an order that outlives a host restart", () => {
  it("stays in its caller's trace: the orchestration span is reopened, not replaced", async () => {
    const traceId = randomBytes(16).toString("hex");
    const callerSpanId = randomBytes(8).toString("hex");
    const res = await api.post("/orders", orderRequest({ quantity: 1, unitPrice: 150000 }), {
      traceparent: `00-${traceId}-${callerSpanId}-01`,
    });
    expect(res.status).toBe(202);
    const orderId: string = res.body.orderId;
    await waitForStage(api, orderId, "AwaitingApproval");
    // Before the restart: the activity that recorded AwaitingApproval ran under the
    // orchestration's span, itself a child of the createOrder invocation.
    const before = await eventually(
      async () => {
        const s = await spansOf(traceId);
        const activity = s.find((x) => x.name === "activity setOrderStatus");
        const create = s.find((x) => x.name === "function createOrder");
        return activity && create ? { activity, create } : undefined;
      },
      "the spans before the restart",
      15000,
    );

    await host.stop();
    host = await startHost({ appDir: PROJECT_ROOT, dataDir: host.dataDir });
    api = Api.forHost(host);
    otlp = (host.endpoints as any).otlp.url;

    const approval = await api.post(`/orders/${orderId}/approval`, {
      approved: true,
      reason: "checked after the restart",
    });
    expect(approval.status).toBe(202);
    // The status URL on the restarted host's port.
    const location = new URL(res.headers.get("location")!);
    location.port = new URL(host.baseUrl).port;
    expect((await pollToOutcome(api, location.href)).body.status).toBe("Completed");
    // The new host's receiver holds what was exported after the restart, all in the one trace.
    const spans = await eventually(
      async () => {
        const s = await spansOf(traceId);
        return s.some((x) => x.name.startsWith("orchestration ")) &&
          s.some((x) => x.name === "activity chargePayment")
          ? s
          : undefined;
      },
      "the orchestration span and the charge after the restart",
      30000,
    );
    const orchestration = spans.filter((x) => x.name === "orchestration processOrder");
    expect(orchestration).toHaveLength(1);
    expect(orchestration[0].spanId).toBe(before.activity.parentSpanId);
    expect(orchestration[0].parentSpanId).toBe(before.create.spanId);
    expect(before.create.parentSpanId).toBe(callerSpanId);
    const charge = spans.find((x) => x.name === "activity chargePayment")!;
    expect(charge.parentSpanId).toBe(orchestration[0].spanId);
  }, 120000);
});
