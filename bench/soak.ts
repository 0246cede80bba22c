/**
 * Durable store soak: `npm run bench -- soak [--instances N] [--in-flight K] [--no-fsync]`.
 * Runs N (default 200,000) no-op orchestrations (one no-op activity each) through the engine
 * in-process (the real SDK through FunctionsCore, as bench/durable-engine.ts), K (default 64) in
 * flight, and reports at 10k, 50k, 100k, 200k (and N) instances: RSS, heap, the store's size on
 * disk, the instances in the hot state vs the finished store, compactions so far, throughput in
 * the last stretch and the longest event-loop stall in it (perf_hooks monitorEventLoopDelay).
 * `node --expose-gc dist/bench/run.js soak` measures the heap after a full GC.
 * Flat is the target: RSS and stalls must not grow with the number of finished instances.
 */
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay, performance } from "node:perf_hooks";
import { FunctionInvocationError, type FunctionInvoker } from "../local-host/src/contracts";
import { DurableEngine } from "../local-host/src/durable";
import { FunctionsCore } from "../local-host/src/worker/functionsCore";

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  const value = at >= 0 ? Number(process.argv[at + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} needs a positive integer`);
  return value;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : fs.statSync(p).size;
  }
  return total;
}

const mib = (n: number) => (n / 1024 / 1024).toFixed(1);

export interface SoakFigures {
  instances: number;
  inFlight: number;
  fsync: boolean;
  seconds: number;
  rows: Record<string, number>[];
}

export async function run(): Promise<SoakFigures> {
  const total = option("--instances", 200_000);
  const inFlight = option("--in-flight", 64);
  const fsync = !process.argv.includes("--no-fsync");
  const marks = [...new Set([10_000, 50_000, 100_000, 200_000, total])]
    .filter((m) => m <= total)
    .sort((a, b) => a - b);

  const core = new FunctionsCore();
  core.installAsModule();
  const load = createRequire(__filename);
  const df = load("durable-functions") as typeof import("durable-functions");
  type Ctx = import("durable-functions").OrchestrationContext;
  df.app.activity("soakStep", { handler: (x: number) => x });
  df.app.orchestration("soakNoop", function* (ctx: Ctx) {
    return yield ctx.df.callActivity("soakStep", ctx.df.getInput<number>());
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
  const dataDir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "soak-"));
  const engine = await DurableEngine.open({
    dataDir,
    taskHub: "Soak",
    functions,
    invoker,
    publicBaseUrl: "http://localhost:7071",
    rpcBaseUrl: "http://127.0.0.1:17071/durabletask/",
    fsync,
  });
  engine.start();

  console.log(
    `\ndurable store soak (in-process, fsync ${fsync ? "on" : "off"}, ${dataDir}; ${os.cpus().length} CPUs, ` +
      `Node ${process.version}; ${total} no-op instances, ${inFlight} in flight)`,
  );
  console.log(
    "instances | RSS MiB | heap MiB | external MiB | store MiB | hot / finished | compactions | wf/s (stretch) | longest stall ms (stretch)",
  );
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let started = 0;
  let done = 0;
  let markAt = 0;
  let stretchStart = performance.now();
  let stretchDone = 0;
  const rows: Record<string, number>[] = [];
  const report = () => {
    const now = performance.now();
    const maxStallMs = delay.max / 1e6;
    // With --expose-gc the heap is measured after a full GC (live data, not garbage); the
    // collection's own pause falls outside the stretches (the monitor is reset after it).
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    const mem = process.memoryUsage();
    const row = {
      instances: done,
      rssMiB: mem.rss / 1048576,
      heapMiB: mem.heapUsed / 1048576,
      externalMiB: mem.external / 1048576,
      storeMiB: dirBytes(dataDir) / 1048576,
      hot: engine.state.live.size,
      finished: engine.state.finished.size,
      compactions: engine.compactions,
      perSecond: (done - stretchDone) / ((now - stretchStart) / 1000),
      maxStallMs,
    };
    rows.push(row);
    console.log(
      `${String(done).padStart(9)} | ${row.rssMiB.toFixed(0).padStart(7)} | ${row.heapMiB.toFixed(0).padStart(8)} | ` +
        `${row.externalMiB.toFixed(0).padStart(12)} | ` +
        `${row.storeMiB.toFixed(1).padStart(9)} | ${`${row.hot} / ${row.finished}`.padStart(14)} | ` +
        `${String(row.compactions).padStart(11)} | ${row.perSecond.toFixed(0).padStart(14)} | ${row.maxStallMs.toFixed(1)}`,
    );
    delay.reset();
    stretchStart = now;
    stretchDone = done;
  };
  const lane = async () => {
    while (started < total) {
      const n = started++;
      const id = await engine.startNew("soakNoop", `soak-${n}`, String(n));
      const inst = await engine.waitForCompletion(id, 120_000);
      if (inst?.status !== "Completed") throw new Error(`${id} ended ${inst?.status}`);
      done++;
      if (markAt < marks.length && done >= marks[markAt]) {
        markAt++;
        report();
      }
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = (performance.now() - t0) / 1000;
  delay.disable();
  // Every finished instance is still readable after the run (spot checks across the range).
  for (const n of [0, Math.floor(total / 2), total - 1]) {
    if (engine.getInstance(`soak-${n}`)?.output !== String(n))
      throw new Error(`soak-${n} is not readable after the soak`);
  }
  await engine.stop();
  console.log(
    `total ${total} in ${elapsed.toFixed(0)} s (${(total / elapsed).toFixed(0)} wf/s); final store ${mib(dirBytes(dataDir))} MiB`,
  );
  if (process.env.BENCH_KEEP !== "true") fs.rmSync(dataDir, { recursive: true, force: true });
  return { instances: total, inFlight, fsync, seconds: elapsed, rows };
}
