/**
 * durable-log benchmark: appends/s and per-append latency for awaited single appends, 64
 * concurrent appenders and appendMany batches, with fsync on and off.
 */
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { performance } from "node:perf_hooks";
import { DurableLog } from "../durable-log/src/index";

const RECORD = {
  type: "OrderUpdated",
  orderId: "ord-000000000001",
  customerId: "cus-42",
  lines: [
    { sku: "SKU-1", qty: 2, price: 19.99 },
    { sku: "SKU-2", qty: 1, price: 5.5 },
  ],
  at: "2026-01-01T00:00:00.000Z",
};
const RECORD_BYTES = JSON.stringify(RECORD).length;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);

interface Result {
  scenario: string;
  fsync: boolean;
  records: number;
  seconds: number;
  commits: number;
  latencies: number[]; // ms per append()/appendMany() call
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function scenario(
  root: string,
  name: string,
  fsync: boolean,
  worker: (
    log: DurableLog<never, typeof RECORD>,
    deadline: number,
    lat: number[],
  ) => Promise<number>,
  workers: number,
): Promise<Result> {
  const dir = await fsp.mkdtemp(path.join(root, "b-"));
  const { log } = await DurableLog.open<never, typeof RECORD>({ dir, fsync });
  const latencies: number[] = [];
  const start = performance.now();
  const deadline = start + DURATION_MS;
  const counts = await Promise.all(
    Array.from({ length: workers }, () => worker(log, deadline, latencies)),
  );
  const seconds = (performance.now() - start) / 1000;
  const commits = log.stats.commits;
  await log.close();
  await fsp.rm(dir, { recursive: true, force: true });
  const records = counts.reduce((a, b) => a + b, 0);
  return { scenario: name, fsync, records, seconds, commits, latencies };
}

/** Repeats `step` (which appends and returns how many records) until `deadline`, timing each. */
async function timedLoop(
  deadline: number,
  lat: number[],
  step: () => Promise<number>,
): Promise<number> {
  let n = 0;
  while (performance.now() < deadline) {
    const t = performance.now();
    n += await step();
    lat.push(performance.now() - t);
  }
  return n;
}

/** One appender awaiting each append before the next (what a sequential caller sees). */
function sequential(
  log: DurableLog<never, typeof RECORD>,
  deadline: number,
  lat: number[],
): Promise<number> {
  return timedLoop(deadline, lat, () => log.append(RECORD).then(() => 1));
}

const BATCH = 100;
const batch = Array.from({ length: BATCH }, () => RECORD);

function batches(
  log: DurableLog<never, typeof RECORD>,
  deadline: number,
  lat: number[],
): Promise<number> {
  return timedLoop(deadline, lat, () => log.appendMany(batch).then(() => BATCH));
}

export async function run(): Promise<void> {
  const root = await fsp.mkdtemp(path.join(os.tmpdir(), "durable-log-bench-"));
  const cpus = os.cpus();
  console.log("durable-log benchmark");
  console.log(
    `conditions: node ${process.version}, ${process.platform}/${process.arch}, ` +
      `${cpus.length} cpus (${cpus[0]?.model ?? "unknown"}), dir ${root}, ` +
      `record ${RECORD_BYTES} B JSON, ${DURATION_MS} ms per scenario`,
  );
  const results: Result[] = [];
  try {
    for (const fsync of [true, false]) {
      results.push(await scenario(root, "1 appender, awaited", fsync, sequential, 1));
      results.push(await scenario(root, "64 concurrent appenders", fsync, sequential, 64));
      results.push(await scenario(root, `appendMany x${BATCH}, awaited`, fsync, batches, 1));
    }
  } finally {
    await fsp.rm(root, { recursive: true, force: true });
  }

  const rows = results.map((r) => {
    const sorted = [...r.latencies].sort((a, b) => a - b);
    return {
      scenario: r.scenario,
      fsync: r.fsync ? "on" : "off",
      "records/s": Math.round(r.records / r.seconds),
      "records/commit": +(r.records / Math.max(1, r.commits)).toFixed(1),
      "p50 ms": +percentile(sorted, 50).toFixed(3),
      "p99 ms": +percentile(sorted, 99).toFixed(3),
    };
  });
  console.table(rows);
  const rate = (name: string, fsync: boolean): number =>
    rows.find((r) => r.scenario === name && r.fsync === (fsync ? "on" : "off"))!["records/s"];
  console.log(
    `ratios (fsync on): 64 concurrent / 1 awaited = ` +
      `${(rate("64 concurrent appenders", true) / rate("1 appender, awaited", true)).toFixed(1)}x; ` +
      `fsync off / on for 1 awaited = ` +
      `${(rate("1 appender, awaited", false) / rate("1 appender, awaited", true)).toFixed(1)}x`,
  );
  console.log("(latency is per append() call; for appendMany it is per batch of " + BATCH + ")");
}
