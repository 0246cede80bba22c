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
};

async function main(): Promise<void> {
  // Options (`--minutes N`) belong to the benchmark that reads them, not to the name list.
  const names = process.argv
    .slice(2)
    .filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--minutes");
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}`,
    );
    process.exitCode = 2;
    return;
  }
  // chaos (a 30-minute soak by default) runs only when named.
  const all = Object.keys(benchmarks).filter((n) => n !== "chaos");
  for (const name of names.length > 0 ? names : all) {
    await benchmarks[name]();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
