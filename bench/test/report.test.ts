import { fmt, ordersTables, peerTables, report, table } from "../lib/report";
import { newResults, RESULTS_SCHEMA } from "../lib/results";

const engine = (name: string, wf32: number, wf128: number, p99: number) => ({
  engine: name,
  throughput: { "32": wf32, "128": wf128 },
  latency: { "50": { p50: 9.5, p95: 12, p99, achieved: 50, errors: 0 } },
  cpuMsPerWorkflow: { host: 2, worker: 1, loadgen: 0.3, total: 3 },
  perWorkflow: { "host.durable.statusReads": 12.5 },
  peakRssMiB: { host: 150 },
});

const peer = {
  connections: [32, 128],
  rates: [50],
  seconds: 8,
  engines: [engine("local", 600, 500, 20), engine("Restate", 480, 630, 15)],
  ratios: { local: { "throughput@32": 1.25, "throughput@128": 0.79, "p99@50/s": 1.33 } },
  statusRead: [
    {
      instance: "Completed",
      readsPerSec: 6000,
      latency: { p50: 2, p95: 3, p99: 4 },
      hostCpuMsPerRead: 0.056,
    },
  ],
};

const orders = {
  completedOrdersPerSec: 97.4,
  saturation: {
    clients: 64,
    orders: 1300,
    acceptedPerSec: 120,
    post: { p50: 100, p95: 200, p99: 300 },
    cpuMsPerOrder: { host: 5, worker: 11, emulators: 5, loadgen: 1.5, total: 21 },
    hopsPerOrder: { "host.invocations.activityTrigger": 9, "emulators.cosmos.requests": 14.5 },
  },
  paced: [
    {
      offeredPerSec: 50,
      acceptedPerSec: 50,
      post: { p50: 9, p95: 15, p99: 24 },
      acceptToTerminal: { p50: 28, p95: 60, p99: 95 },
      clientSeen: { p50: 1010, p95: 1020, p99: 1100, retryAfterSeconds: [1], pollsPerOrder: 1.02 },
      statusQuery: { p50: 2.5, p95: 5, p99: 8, perSec: 900 },
      errors: 0,
      loadAverage: 3.2,
    },
  ],
  startup: { readyMs: 900, firstAcceptedMs: 950 },
  peakRssMiB: { host: 160, worker: 210 },
};

describe("bench report", () => {
  it("formats numbers for the tables", () => {
    expect(fmt(1234.56)).toBe("1,235");
    expect(fmt(12.345)).toBe("12.3");
    expect(fmt(1.2345, 2)).toBe("1.23");
    expect(fmt(NaN)).toBe("–");
    expect(fmt(undefined)).toBe("–");
  });

  it("draws a markdown table", () => {
    expect(table(["a", "b"], [[1, "x"]])).toBe("| a | b |\n| --- | --- |\n| 1 | x |");
  });

  it("shows the peer figures, the load generator apart, the ratios and the status read cost", () => {
    const text = peerTables(peer);
    expect(text).toContain(
      "| local | 600 | 500 | 9.5 / 20 | 3 (host 2, worker 1; loadgen 0.3) | 12.5 |",
    );
    expect(text).toContain("| local | 1.25× | 0.79× | 1.33× |");
    expect(text).toContain("host CPU 0.056 ms per read");
  });

  it("shows the order figures with hops by name", () => {
    const text = ordersTables(orders);
    expect(text).toContain("**97.4** completed/s");
    expect(text).toContain(
      "| paced 50/s (load 3.2) | 50 | 9 / 15 / 24 | 28 / 60 / 95 | 1,010 / 1,100 (Retry-After 1 s, 1.02 polls) | 2.5 / 8 | 0 |",
    );
    expect(text).toContain("| activity executions | 9 |");
    expect(text).toContain("| Cosmos requests | 14.5 |");
    expect(text).toContain("load generator apart: 1.5");
    expect(text).toContain("first order accepted 950 ms");
  });

  it("heads the report with the run's conditions and completedOrdersPerSec", () => {
    const r = newResults(process.cwd(), true);
    r.completedOrdersPerSec = 97.4;
    r.benchmarks = { orders, peer };
    const text = report(r, {
      orders: (f: typeof orders) => ordersTables(f),
      peer: (f: typeof peer) => peerTables(f),
    });
    expect(text).toMatch(
      /^Conditions: .*Node v\d+.*fsync on, token checks on, trace sampler parentbased_traceidratio/,
    );
    expect(text).toContain("completedOrdersPerSec: 97.4");
    expect(text.indexOf("### orders")).toBeLessThan(text.indexOf("### peer"));
  });

  it("records machine, Node, commit and settings in every results file", () => {
    const r = newResults(process.cwd(), false);
    expect(r.schema).toBe(RESULTS_SCHEMA);
    expect(Object.keys(r).sort()).toEqual(
      [
        "benchmarks",
        "completedOrdersPerSec",
        "git",
        "machine",
        "node",
        "schema",
        "settings",
        "startedAt",
      ].sort(),
    );
    expect(r.machine.cpus).toBeGreaterThan(0);
    expect(r.node).toBe(process.version);
    expect(r.git.commit).toMatch(/^([0-9a-f]{40}|unknown)$/);
    expect(r.settings).toMatchObject({ fsync: true, tokenChecks: true, quick: false });
    expect(r.completedOrdersPerSec).toBeNull();
  });
});
