/**
 * Cosmos emulator throughput: creates/s and point reads/s through @azure/cosmos over HTTPS with
 * keep-alive, for the bare @vercel/cosmosdb-server, this host's emulator in memory, and this
 * host's emulator with its fsync'd journal (the configuration `npm start` uses).
 *
 *   npm run bench -- cosmos
 */
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { CosmosClient } from "@azure/cosmos";
import { createHttpsServer } from "@vercel/cosmosdb-server";
import { startCosmos, COSMOS_EMULATOR_KEY } from "../local-host/src/emulators/cosmos";
import { openCosmosJournal } from "../local-host/src/emulators/cosmos-journal";

interface Target {
  endpoint: string;
  close(): Promise<void>;
}

interface Result {
  ops: number;
  seconds: number;
  p50: number;
  p99: number;
}

const COUNT = Number(process.env.BENCH_COSMOS_COUNT ?? 3000);

async function bareServer(): Promise<Target> {
  const server = createHttpsServer({ keepAlive: true });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `https://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function hostEmulator(persistent: boolean): Promise<Target> {
  const dir = persistent ? await mkdtemp(path.join(os.tmpdir(), "bench-cosmos-")) : undefined;
  const cosmos = await startCosmos({
    host: "127.0.0.1",
    port: 0,
    journal: dir ? await openCosmosJournal(dir) : undefined,
  });
  return {
    endpoint: `https://127.0.0.1:${cosmos.port}/`,
    async close() {
      await cosmos.close();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(concurrency: number, op: (i: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < COUNT; i = next++) {
        const t = performance.now();
        await op(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    ops: COUNT / seconds,
    seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

async function scenario(
  target: Target,
  concurrency: number,
): Promise<{ create: Result; read: Result }> {
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
  const client = new CosmosClient({ endpoint: target.endpoint, key: COSMOS_EMULATOR_KEY, agent });
  try {
    const { database } = await client.databases.createIfNotExists({ id: "bench" });
    const { container } = await database.containers.createIfNotExists({
      id: `c${concurrency}`,
      partitionKey: "/pk",
    });
    const doc = (i: number): Record<string, unknown> => ({
      id: `d${i}`,
      pk: `p${i % 16}`,
      status: "Pending",
      items: [{ sku: "A-1", quantity: 2, price: 9.5 }],
      customer: { id: `cust-${i % 100}`, email: "someone@example.com" },
    });
    const create = await measure(concurrency, (i) => container.items.create(doc(i)));
    const read = await measure(concurrency, (i) => container.item(`d${i}`, `p${i % 16}`).read());
    return { create, read };
  } finally {
    client.dispose();
    agent.destroy();
  }
}

const fmt = (r: Result): string =>
  `${r.ops.toFixed(0).padStart(6)}/s  p50 ${r.p50.toFixed(2).padStart(6)} ms  p99 ${r.p99.toFixed(2).padStart(6)} ms`;

const ROUNDS = Number(process.env.BENCH_COSMOS_ROUNDS ?? 3);

function median(results: Result[]): Result {
  return [...results].sort((a, b) => a.ops - b.ops)[Math.floor(results.length / 2)];
}

export async function run(): Promise<void> {
  console.log(
    `Cosmos emulator: ${COUNT} creates then ${COUNT} point reads per run, @azure/cosmos over HTTPS keep-alive; ` +
      `targets interleaved over ${ROUNDS} rounds, median run shown; Node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)}`,
  );
  const targets: [string, () => Promise<Target>][] = [
    ["bare cosmosdb-server", bareServer],
    ["host, in memory", () => hostEmulator(false)],
    ["host, fsync journal", () => hostEmulator(true)],
  ];
  for (const concurrency of [1, 16]) {
    const runs = targets.map(() => ({ create: [] as Result[], read: [] as Result[] }));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, [, make]] of targets.entries()) {
        const target = await make();
        try {
          const r = await scenario(target, concurrency);
          runs[i].create.push(r.create);
          runs[i].read.push(r.read);
        } finally {
          await target.close();
        }
      }
    }
    console.log(`\nconcurrency ${concurrency}`);
    const medians = runs.map((r) => ({ create: median(r.create), read: median(r.read) }));
    for (const [i, [name]] of targets.entries()) {
      console.log(
        `  ${name.padEnd(22)} create ${fmt(medians[i].create)} | read ${fmt(medians[i].read)}`,
      );
    }
    const [bare, memory, durable] = medians;
    const ratio = (a: Result, b: Result): string => (a.ops / b.ops).toFixed(2);
    console.log(
      `  in memory vs bare: creates ${ratio(memory.create, bare.create)}x, reads ${ratio(memory.read, bare.read)}x; ` +
        `fsync journal vs in memory: creates ${ratio(durable.create, memory.create)}x, reads ${ratio(durable.read, memory.read)}x`,
    );
  }
}

if (require.main === module) {
  run().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
