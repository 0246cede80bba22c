// The local host's telemetry pieces on their own: trace context from what arrives with the work,
// the bounded OTLP receiver, and the orchestration span (ended once, child of the caller).
import { fromApplicationProperties, fromHeaders } from "../src/telemetry/traceContext";
import { MAX_SPANS, startReceiver, TelemetryStore } from "../src/telemetry/receiver";
import { OrchestrationSpans } from "../src/telemetry/orchestrationSpans";

const T = "0af7651916cd43dd8448eb211c80319c";
const P = "b7ad6b7169203331";

describe("trace context passed with an invocation", () => {
  it("takes a valid traceparent header (and tracestate), refuses malformed and all-zero ids", () => {
    expect(fromHeaders({ traceparent: `00-${T}-${P}-01`, tracestate: "a=b" })).toEqual({
      traceParent: `00-${T}-${P}-01`,
      traceState: "a=b",
    });
    expect(fromHeaders({})).toBeUndefined();
    expect(fromHeaders({ traceparent: "00-xyz-01" })).toBeUndefined();
    expect(fromHeaders({ traceparent: `00-${"0".repeat(32)}-${P}-01` })).toBeUndefined();
    expect(fromHeaders({ traceparent: `00-${T}-${"0".repeat(16)}-01` })).toBeUndefined();
  });

  it("reads traceparent, else Diagnostic-Id, from a message's application properties", () => {
    expect(fromApplicationProperties({ "Diagnostic-Id": `00-${T}-${P}-01` })).toEqual({
      traceParent: `00-${T}-${P}-01`,
    });
    const other = "1".repeat(32);
    expect(
      fromApplicationProperties({
        traceparent: `00-${other}-${P}-00`,
        "Diagnostic-Id": `00-${T}-${P}-01`,
      }),
    ).toEqual({ traceParent: `00-${other}-${P}-00` });
    expect(fromApplicationProperties({ "Diagnostic-Id": "|legacy.id." })).toBeUndefined();
    expect(fromApplicationProperties(undefined)).toBeUndefined();
  });
});

const exportOf = (count: number, traceId = T) => ({
  resourceSpans: [
    {
      resource: { attributes: [{ key: "service.name", value: { stringValue: "svc" } }] },
      scopeSpans: [
        {
          spans: Array.from({ length: count }, (_, i) => ({
            traceId,
            spanId: i.toString(16).padStart(16, "0"),
            name: `s${i}`,
            startTimeUnixNano: "1",
            endTimeUnixNano: "2",
            attributes: [{ key: "n", value: { intValue: String(i) } }],
          })),
        },
      ],
    },
  ],
});

describe("OTLP receiver", () => {
  it("keeps at most MAX_SPANS spans, dropping the oldest", () => {
    const store = new TelemetryStore();
    store.addTraces(exportOf(MAX_SPANS));
    store.addTraces(exportOf(10, "f".repeat(32)));
    expect(store.spans).toHaveLength(MAX_SPANS);
    expect(store.spans[0].name).toBe("s10");
    expect(store.spans.at(-1)).toMatchObject({ traceId: "f".repeat(32), service: "svc" });
  });

  it("takes OTLP/HTTP JSON and serves a trace's spans back; refuses protobuf", async () => {
    const receiver = await startReceiver();
    try {
      const post = (body: string, type = "application/json") =>
        fetch(`${receiver.url}/v1/traces`, {
          method: "POST",
          headers: { "Content-Type": type },
          body,
        });
      expect((await post(JSON.stringify(exportOf(2)))).status).toBe(200);
      expect((await post("x", "application/x-protobuf")).status).toBe(415);
      expect((await post("{not json")).status).toBe(400);
      const res = await fetch(`${receiver.url}/v1/traces?traceId=${T}`);
      const { spans } = (await res.json()) as { spans: { name: string; attributes: object }[] };
      expect(spans.map((s) => s.name)).toEqual(["s0", "s1"]);
      expect(spans[1].attributes).toEqual({ n: "1" });
    } finally {
      await receiver.close();
    }
  });
});

describe("orchestration spans", () => {
  it("is a child of the caller, gives its context to dispatched work, and ends once", () => {
    const sent: any[] = []; // eslint-disable-line @typescript-eslint/no-explicit-any
    const spans = new OrchestrationSpans((body) => sent.push(body));
    spans.start("i1", "processOrder", `00-${T}-${P}-01`);
    const ctx = spans.traceContext("i1")!;
    expect(ctx.traceParent).toMatch(new RegExp(`^00-${T}-[0-9a-f]{16}-01$`));
    expect(ctx.traceParent).not.toContain(P);
    spans.finish("i1", "Completed");
    spans.finish("i1", "Completed");
    expect(sent).toHaveLength(1);
    const span = sent[0].resourceSpans[0].scopeSpans[0].spans[0];
    expect(span).toMatchObject({
      traceId: T,
      parentSpanId: P,
      spanId: ctx.traceParent.split("-")[2],
      name: "orchestration processOrder",
    });
    expect(spans.traceContext("i1")).toBeUndefined();
  });

  it("starts a new trace without a caller, and exports nothing for an unsampled one", () => {
    const sent: unknown[] = [];
    const spans = new OrchestrationSpans((body) => sent.push(body));
    spans.start("a", "processOrder", undefined);
    expect(spans.traceContext("a")!.traceParent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    spans.start("b", "processOrder", `00-${T}-${P}-00`);
    expect(spans.traceContext("b")!.traceParent).toMatch(/-00$/);
    spans.finish("b", "Failed");
    expect(sent).toHaveLength(0);
  });
});
