/**
 * Benchmark dispatcher: `node dist/bench/run.js [name...]` runs the named benchmarks, or all of
 * them when no name is given. Each benchmark module exports `run(): Promise<void>`.
 */
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
};

async function main(): Promise<void> {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in benchmarks));
  if (unknown.length > 0) {
    console.error(
      `unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(benchmarks).join(", ")}`,
    );
    process.exitCode = 2;
    return;
  }
  for (const name of names.length > 0 ? names : Object.keys(benchmarks)) {
    await benchmarks[name]();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
