// Cheap operation counters for the benchmarks (hops per order: activity executions, episodes,
// fsyncs, Cosmos and Service Bus operations). Counting is a Map increment; only when
// LOCALHOST_COUNTERS_DIR is set does each process write its counts to `<dir>/<role>-<pid>.json`
// every 250 ms (unref'd timer), which `npm run bench` reads.
import fs from "node:fs";
import path from "node:path";
import { durableLogTotals } from "../../durable-log/src";

const counts = new Map<string, number>();
/** Counts kept elsewhere in this process (a library's own totals), merged in when dumped. */
const sources: (() => Record<string, number>)[] = [];

export function addCounterSource(source: () => Record<string, number>): void {
  sources.push(source);
}

export function count(name: string, n = 1): void {
  counts.set(name, (counts.get(name) ?? 0) + n);
}

export function counters(): Record<string, number> {
  const t = durableLogTotals();
  return Object.assign(
    { ...Object.fromEntries(counts), fsyncs: t.commits, logAppends: t.appends },
    ...sources.map((s) => s()),
  ) as Record<string, number>;
}

let started = false;

/** Starts the periodic dump for this process when LOCALHOST_COUNTERS_DIR is set. */
export function dumpCountersPeriodically(role: string): void {
  const dir = process.env.LOCALHOST_COUNTERS_DIR;
  if (!dir || started) return;
  started = true;
  const file = path.join(dir, `${role}-${process.pid}.json`);
  const write = () => {
    try {
      fs.writeFileSync(`${file}.tmp`, JSON.stringify({ role, counters: counters() }));
      fs.renameSync(`${file}.tmp`, file);
    } catch {
      // the bench removed the directory: nothing to report to
    }
  };
  write();
  setInterval(write, 250).unref();
}

/** Invocations by trigger: `invocations.activityTrigger` = activity executions, etc. */
export function countInvocation(
  fn: { bindings: Record<string, { type?: unknown; direction?: unknown }> } | undefined,
): void {
  const trigger = fn && Object.values(fn.bindings).find((b) => String(b.type).endsWith("Trigger"));
  count(`invocations.${trigger ? String(trigger.type) : "other"}`);
}
