/**
 * Benchmark dispatcher: `npm run bench -- [name...] [--quick] [--no-write]` runs the named
 * benchmarks, or the default set (all but the opt-in ones) when no name is given, prints each
 * one's table and writes the run's figures to bench/results/<time>.json. `report [file]` reprints
 * the tables of a results file (the newest by default) for docs/performance.md. Each module
 * exports `run(ctx)`; what it resolves with goes into the JSON under its name.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "./lib/args";
import { lineChart } from "./lib/chart";
import { durabilityOverhead } from "./lib/overhead";
import type { BenchContext } from "./lib/context";
import { ROOT } from "./lib/host";
import { report } from "./lib/report";
import { latestResults, newResults, writeResults, type BenchResults } from "./lib/results";
import type { DirectFigures } from "./direct";
import type { OrdersFigures } from "./orders";
import type { PeerFigures } from "./peer";
import { directTable, ordersTables, peerTables } from "./lib/report";

type Bench = (ctx: BenchContext) => Promise<unknown>;

// Add the name of each benchmark module, `./<name>` (only modules that are committed, or a clean
// clone breaks). Each is loaded only when it runs: `direct` loads the app itself, and once
// `@azure/functions` is loaded outside the functions core, `soak` and `durable-engine` cannot
// register theirs.
const BENCHMARKS = [
  "durable-log",
  "cosmos",
  "durable-engine",
  "servicebus",
  "orders",
  "direct",
  "startup",
  "peer",
  "chaos",
  "soak",
];
const isBenchmark = (name: string): boolean => BENCHMARKS.includes(name);
const load = createRequire(__filename);
const benchmark = (name: string): Bench => (load(`./${name}`) as { run: Bench }).run;

/** Run only when named: chaos is a 30-minute soak by default, soak runs 200k instances. */
const OPT_IN = new Set(["chaos", "soak"]);
/** The default set under --quick: the figures the issue asks for, in under a minute. */
const QUICK_DEFAULT = ["orders", "direct", "peer"];

/** Table formatters by benchmark, for the printed report and `report`. */
const formatters: Record<string, (figures: never) => string> = {
  orders: (f: OrdersFigures) => ordersTables(f),
  direct: (f: DirectFigures) => directTable(f),
  peer: (f: PeerFigures) => peerTables(f),
};

const chartConditions = (r: BenchResults) =>
  `${r.startedAt.slice(0, 10)}, ${r.machine.cpus} CPUs, Node ${r.node}, load average at start ${r.machine.loadAverageAtStart}`;

/** docs/bench-latency.svg: p50 and p99 against offered load, one pair of lines per engine. */
function writeChart(f: PeerFigures, conditions: string): string {
  const file = path.join(ROOT, "docs", "bench-latency.svg");
  const series = f.engines.flatMap((e) =>
    (["p50", "p99"] as const).map((p) => ({
      name: `${e.engine.replace(/ \(.*\)$/, "")} ${p}`,
      dashed: p === "p50",
      points: f.rates
        .filter((r) => e.latency[String(r)])
        .map((r) => [r, e.latency[String(r)][p]] as [number, number]),
    })),
  );
  fs.writeFileSync(
    file,
    lineChart({
      title: `6-step no-op workflow: latency vs offered load (${conditions})`,
      xLabel: "offered workflows/s (open loop)",
      yLabel: "latency ms (log)",
      series,
      width: 900,
      height: 460,
    }),
  );
  return file;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.names[0] === "report") {
    const file = args.names[1] ?? latestResults(ROOT);
    if (!file) throw new Error("no results file in bench/results/");
    const saved = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
    process.stdout.write(report(saved, formatters));
    // --chart: redraw docs/bench-latency.svg from this file's peer figures.
    const savedPeer = saved.benchmarks.peer as PeerFigures | undefined;
    if (args.flags.includes("chart") && savedPeer) {
      console.log(`chart: ${writeChart(savedPeer, chartConditions(saved))}`);
    }
    return;
  }
  const unknown = args.names.filter((n) => !isBenchmark(n));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(", ")}; known: ${BENCHMARKS.join(", ")}, report`,
    );
    process.exitCode = 2;
    return;
  }
  const names =
    args.names.length > 0
      ? args.names
      : args.quick
        ? QUICK_DEFAULT
        : BENCHMARKS.filter((n) => !OPT_IN.has(n));
  if (args.flags.includes("cpu-prof")) {
    // Every process of every host started writes a V8 CPU profile here when it exits.
    process.env.BENCH_CPU_PROF_DIR = path.join(ROOT, "bench", "results", "profiles");
    console.error(`CPU profiles go to ${process.env.BENCH_CPU_PROF_DIR}`);
  }
  const ctx: BenchContext = { args, quick: args.quick };
  // `--figures-out <file>`: this process is one benchmark of a larger run (below).
  const figuresOut = args.values["figures-out"];
  if (figuresOut) {
    fs.writeFileSync(figuresOut, JSON.stringify((await benchmark(names[0]!)(ctx)) ?? null));
    return;
  }
  const results = newResults(ROOT, args.quick);
  for (const name of names) {
    const figures = names.length > 1 ? await inOwnProcess(name) : await benchmark(name)(ctx);
    if (figures !== undefined && figures !== null) results.benchmarks[name] = figures;
    const completed = (figures as { completedOrdersPerSec?: unknown } | undefined)
      ?.completedOrdersPerSec;
    if (typeof completed === "number") results.completedOrdersPerSec = completed;
  }
  results.finishedAt = new Date().toISOString();
  // Durability overhead: both legs of the same run, kept with the orders figures.
  const ordersFigures = results.benchmarks.orders as OrdersFigures | undefined;
  const directFigures = results.benchmarks.direct as DirectFigures | undefined;
  if (ordersFigures && directFigures) {
    ordersFigures.durabilityOverhead = durabilityOverhead(ordersFigures, directFigures);
  }
  const peerFigures = results.benchmarks.peer as PeerFigures | undefined;
  if (args.write && peerFigures && peerFigures.rates.length > 1) {
    console.log(`chart: ${writeChart(peerFigures, chartConditions(results))}`);
  }
  console.log(`\n${report(results, formatters)}`);
  if (args.write && Object.keys(results.benchmarks).length > 0) {
    console.log(`results: ${writeResults(ROOT, results)}`);
  }
}

/**
 * Runs one benchmark in a fresh Node process with this run's options and returns its figures:
 * whatever one benchmark leaves behind in the load generator (timers, pools, heap) cannot
 * disturb the next. (The aborts once seen here, "an array grown past V8's limit" after the
 * Restate step, were the chart's log axis looping on a p99 of Infinity: fixed in lib/chart.)
 */
async function inOwnProcess(name: string): Promise<unknown> {
  const out = path.join(os.tmpdir(), `bench-${process.pid}-${name}.json`);
  const passed = process.argv.slice(2).filter((a) => !isBenchmark(a));
  const child = spawn(process.execPath, [__filename, name, ...passed, `--figures-out=${out}`], {
    stdio: "inherit",
    env: process.env,
  });
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  try {
    if (code !== 0) throw new Error(`benchmark ${name} exited with code ${code}`);
    return JSON.parse(fs.readFileSync(out, "utf8")) as unknown;
  } finally {
    fs.rmSync(out, { force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
