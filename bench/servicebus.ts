/**
 * Service Bus emulator throughput through the real @azure/service-bus SDK: batched sends, single
 * awaited sends (with latency percentiles), and peekLock receive with completion, in memory and
 * in durable mode (fsync'd group commit), on one connection over loopback.
 *
 *   npm run bench -- servicebus
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ServiceBusClient } from "@azure/service-bus";
import { startServiceBusEmulator } from "../servicebus-emulator/src";

const BATCHED = Number(process.env.BENCH_SB_BATCHED ?? 20_000);
const BATCH_SIZE = 100;
const SINGLE = Number(process.env.BENCH_SB_SINGLE ?? 2_000);
const CONCURRENCY = 16;

const config = {
  UserConfig: {
    Namespaces: [
      {
        Name: "sbemulatorns",
        Queues: [{ Name: "bench", Properties: { LockDuration: "PT1M", MaxDeliveryCount: 10 } }],
      },
    ],
  },
};

interface Row {
  mode: string;
  batched: number;
  single: number;
  singleP50: number;
  singleP99: number;
  receive: number;
}

const pct = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];

async function measure(mode: "memory" | "durable"): Promise<Row> {
  const dataDir =
    mode === "durable" ? await mkdtemp(path.join(os.tmpdir(), "sb-bench-")) : undefined;
  const emulator = await startServiceBusEmulator({ port: 0, config, dataDir });
  const client = new ServiceBusClient(emulator.connectionString);
  try {
    const sender = client.createSender("bench");
    await sender.sendMessages({ body: "warm-up" });
    const body = { orderId: "o-123456", amount: 42.5, items: ["a", "b", "c"] };

    let t0 = performance.now();
    for (let sent = 0; sent < BATCHED; sent += BATCH_SIZE) {
      const batch = await sender.createMessageBatch();
      for (let i = 0; i < BATCH_SIZE; i++) batch.tryAddMessage({ body });
      await sender.sendMessages(batch);
    }
    const batched = BATCHED / ((performance.now() - t0) / 1000);

    const latencies: number[] = [];
    t0 = performance.now();
    for (let i = 0; i < SINGLE; i++) {
      const s = performance.now();
      await sender.sendMessages({ body });
      latencies.push(performance.now() - s);
    }
    const single = SINGLE / ((performance.now() - t0) / 1000);
    latencies.sort((a, b) => a - b);

    const total = BATCHED + SINGLE + 1;
    const receiver = client.createReceiver("bench");
    let received = 0;
    t0 = performance.now();
    await new Promise<void>((resolve, reject) => {
      receiver.subscribe(
        {
          async processMessage() {
            if (++received === total) resolve();
          },
          async processError(args) {
            reject(args.error);
          },
        },
        { maxConcurrentCalls: CONCURRENCY, autoCompleteMessages: true },
      );
    });
    const receive = total / ((performance.now() - t0) / 1000);
    await receiver.close();
    return {
      mode,
      batched,
      single,
      singleP50: pct(latencies, 0.5),
      singleP99: pct(latencies, 0.99),
      receive,
    };
  } finally {
    await client.close();
    await emulator.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  console.log(
    `\nService Bus emulator via @azure/service-bus — Node ${process.version}, ${os.cpus().length} CPU(s), ` +
      `${BATCHED} msgs in batches of ${BATCH_SIZE}, ${SINGLE} awaited single sends, ` +
      `peekLock receive via subscribe() (${CONCURRENCY} concurrent, auto-complete), ~60-byte JSON bodies`,
  );
  const rows = [await measure("memory"), await measure("durable")];
  const f = (n: number): string => Math.round(n).toLocaleString("en-US").padStart(9);
  console.log("mode       batched msg/s  single msg/s  single p50/p99 ms  peekLock+complete msg/s");
  for (const r of rows) {
    console.log(
      `${r.mode.padEnd(10)} ${f(r.batched)}      ${f(r.single)}     ${r.singleP50.toFixed(2).padStart(6)} / ${r.singleP99.toFixed(2).padEnd(6)}    ${f(r.receive)}`,
    );
  }
  const [m, d] = rows;
  console.log(
    `durable/memory ratio: batched ${(d.batched / m.batched).toFixed(2)}, single ${(d.single / m.single).toFixed(2)}, ` +
      `receive ${(d.receive / m.receive).toFixed(2)}`,
  );
}
