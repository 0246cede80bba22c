/**
 * Benchmark dispatcher: `node dist/bench/run.js [name...]` runs the named benchmarks, or all of
 * them when no name is given. Each benchmark module exports `run(): Promise<void>`.
 */
import { run as chaos } from "./chaos";
import { run as cosmos } from "./cosmos";
import { run as durableEngine } from "./durable-engine";
import { run as durableLog } from "./durable-log";
import { run as orders } from "./orders";
import { run as servicebus } from "./servicebus";
import { run as soak } from "./soak";
import { run as startup } from "./startup";

// Add an entry per benchmark module (only modules that are committed, or a clean clone breaks).
const benchmarks: Record<string, () => Promise<void>> = {
  "durable-log": durableLog,
  cosmos,
  "durable-engine": durableEngine,
  servicebus,
  orders,
  startup,
  chaos,
  soak,
};

async function main(): Promise<void> {
  // Options (`--minutes N`, `--instances N`) belong to the benchmark that reads them, not to
  // the name list.
  const valued = new Set(["--minutes", "--instances", "--in-flight"]);
  const names = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith("--") && !valued.has(all[i - 1]));
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}`,
    );
    process.exitCode = 2;
    return;
  }
  // chaos (a 30-minute soak by default) and soak (200k instances) run only when named.
  const all = Object.keys(benchmarks).filter((n) => n !== "chaos" && n !== "soak");
  for (const name of names.length > 0 ? names : all) {
    await benchmarks[name]();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
