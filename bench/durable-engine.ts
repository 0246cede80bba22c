/**
 * Durable engine benchmark, in-process (no HTTP, no worker process): the real durable-functions
 * SDK through FunctionsCore, state in a DurableLog with fsync on. Workloads: a 3-activity chain
 * and a 3-way fan-out/fan-in of no-op activities. Reports workflows/s at a fixed number of
 * workflows in flight, p50/p99 start→completion latency (loaded and one-at-a-time), and the ratio
 * to running the same activities directly through FunctionsCore (no durability, no replay).
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { FunctionInvocationError, type FunctionInvoker } from "../local-host/src/contracts";
import { DurableEngine } from "../local-host/src/durable";
import { FunctionsCore } from "../local-host/src/worker/functionsCore";

interface Stats {
  perSecond: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Runs `total` workflows with `inFlight` concurrently; returns throughput and latencies. */
async function drive(total: number, inFlight: number, one: () => Promise<void>): Promise<Stats> {
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (next < total) {
      next++;
      const s = performance.now();
      await one();
      latencies.push(performance.now() - s);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: total / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

const fmt = (n: number, d = 1) => n.toFixed(d);

export async function run(): Promise<void> {
  const core = new FunctionsCore();
  core.installAsModule();
  const load = createRequire(__filename);
  // Loaded only after the core module is installed, as the real worker does.
  const df = load("durable-functions") as typeof import("durable-functions");
  type Ctx = import("durable-functions").OrchestrationContext;
  df.app.activity("benchNoop", { handler: (x: number) => x + 1 });
  df.app.orchestration("benchChain3", function* (ctx: Ctx) {
    let x = ctx.df.getInput<number>();
    x = yield ctx.df.callActivity("benchNoop", x);
    x = yield ctx.df.callActivity("benchNoop", x);
    x = yield ctx.df.callActivity("benchNoop", x);
    return x;
  });
  df.app.orchestration("benchFanout3", function* (ctx: Ctx) {
    const x = ctx.df.getInput<number>();
    const r: number[] = yield ctx.df.Task.all(
      [0, 1, 2].map((i) => ctx.df.callActivity("benchNoop", x + i)),
    );
    return r.reduce((a, b) => a + b, 0);
  });

  const invoker: FunctionInvoker = {
    async invoke(name, request) {
      try {
        return await core.invoke(name, request);
      } catch (err) {
        throw new FunctionInvocationError(name, (err as Error).message, (err as Error).stack);
      }
    },
  };
  const functions = [...core.functions.values()].map((f) => ({
    name: f.metadata.name,
    bindings: f.metadata.bindings,
  }));
  const activityBinding = core.triggerOf("benchNoop").name;
  const direct = (x: number) =>
    core.invoke("benchNoop", {
      inputData: [{ name: activityBinding, data: { json: JSON.stringify(x) } }],
    });

  const dataDir = fs.mkdtempSync(
    path.join(process.env.BENCH_DIR ?? os.tmpdir(), "durable-engine-bench-"),
  );
  const engine = await DurableEngine.open({
    dataDir,
    taskHub: "Bench",
    functions,
    invoker,
    publicBaseUrl: "http://localhost:7071",
    rpcBaseUrl: "http://127.0.0.1:17071/durabletask/",
    fsync: true,
  });
  engine.start();
  const durable = (name: string) => async () => {
    const id = await engine.startNew(name, undefined, "1");
    const inst = await engine.waitForCompletion(id, 60_000);
    if (inst?.status !== "Completed")
      throw new Error(`${name} ended ${inst?.status}: ${inst?.output}`);
  };
  const workloads: { name: string; durable: () => Promise<void>; direct: () => Promise<void> }[] = [
    {
      name: "chain of 3 activities",
      durable: durable("benchChain3"),
      direct: async () => {
        let x = 1;
        for (let i = 0; i < 3; i++)
          x = Number(JSON.parse(String((await direct(x)).returnValue?.json ?? x)));
      },
    },
    {
      name: "fan-out/fan-in of 3",
      durable: durable("benchFanout3"),
      direct: async () => {
        await Promise.all([1, 2, 3].map((x) => direct(x)));
      },
    },
  ];

  const total = Number(process.env.BENCH_WORKFLOWS ?? 1000);
  const inFlight = Number(process.env.BENCH_IN_FLIGHT ?? 64);
  console.log(
    `\ndurable engine (in-process, fsync on, ${dataDir}; ${os.cpus().length} CPUs, Node ${process.version}; ` +
      `${total} workflows, ${inFlight} in flight; direct = same activities via FunctionsCore, no durability)`,
  );
  console.log(
    "workload               | durable wf/s | p50 ms | p99 ms | 1-at-a-time p50/p99 ms | direct wf/s | direct p50/p99 ms | throughput ratio",
  );
  try {
    for (const w of workloads) {
      await drive(100, 16, w.durable); // warm-up
      await drive(200, 16, w.direct);
      const d = await drive(total, inFlight, w.durable);
      const serial = await drive(100, 1, w.durable);
      const b = await drive(total, inFlight, w.direct);
      console.log(
        `${w.name.padEnd(22)} | ${fmt(d.perSecond, 0).padStart(12)} | ${fmt(d.p50).padStart(6)} | ${fmt(d.p99).padStart(6)} | ` +
          `${`${fmt(serial.p50)} / ${fmt(serial.p99)}`.padStart(22)} | ${fmt(b.perSecond, 0).padStart(11)} | ` +
          `${`${fmt(b.p50, 2)} / ${fmt(b.p99, 2)}`.padStart(17)} | ${`1 : ${fmt(b.perSecond / d.perSecond, 1)}`.padStart(16)}`,
      );
    }
  } finally {
    await engine.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
