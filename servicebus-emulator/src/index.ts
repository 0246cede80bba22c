import { DurableLog } from "../../durable-log/src";
import { AmqpFrontEnd } from "./amqp";
import { Broker, type BrokerSnapshot, type Journal, type LogRecord } from "./broker";
import { loadConfig } from "./config";

export { amqpTotals } from "./amqp";
export { loadConfig, parseDuration } from "./config";
export type { EmulatorConfig, QueueSettings, TopicSettings, SubscriptionSettings } from "./config";

export interface ServiceBusEmulatorOptions {
  port?: number; // default 5672; 0 = pick a free port
  host?: string; // default "127.0.0.1" (the other loopback is served too, so "localhost" works)
  config: string | object; // path to a Config.json, or its parsed content
  dataDir?: string; // durable mode when set; in-memory otherwise
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
  /** Durable mode only: fsync each group commit (default true; false only for benchmarks). */
  fsync?: boolean;
}

export interface ServiceBusEmulator {
  readonly port: number;
  readonly connectionString: string;
  close(): Promise<void>;
}

/** Compact once this many bytes were appended since the last snapshot. */
const COMPACT_AFTER_BYTES = 64 * 1024 * 1024;

class DurableJournal implements Journal {
  private compacting: Promise<void> | undefined;
  constructor(
    private readonly log: DurableLog<BrokerSnapshot, LogRecord>,
    private readonly snapshot: () => BrokerSnapshot,
    private readonly warn: (m: string) => void,
  ) {}
  append(records: LogRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    const p = records.length === 1 ? this.log.append(records[0]) : this.log.appendMany(records);
    if (!this.compacting && this.log.sizeSinceSnapshot > COMPACT_AFTER_BYTES) {
      // The broker applies every change in memory before appending it, so the snapshot taken
      // here reflects all appends made so far, as compact() requires.
      this.compacting = this.log
        .compact(this.snapshot())
        .catch((err: unknown) => this.warn(`compaction failed: ${String(err)}`))
        .finally(() => (this.compacting = undefined));
    }
    return p;
  }
  async close(): Promise<void> {
    await this.compacting;
    await this.log.close();
  }
}

const memoryJournal: Journal = { append: () => Promise.resolve() };

/** Starts the emulator; resolves once it accepts connections. */
export async function startServiceBusEmulator(
  options: ServiceBusEmulatorOptions,
): Promise<ServiceBusEmulator> {
  const log = options.log ?? (() => undefined);
  const config = loadConfig(options.config);
  const host = options.host ?? "127.0.0.1";
  let durable: DurableJournal | undefined;
  let broker: Broker;
  if (options.dataDir) {
    const opened = await DurableLog.open<BrokerSnapshot, LogRecord>({
      dir: options.dataDir,
      fsync: options.fsync ?? true,
      // A full disk holds appends back: the operations waiting on them (sends, settlements)
      // complete once the same records reach the disk, so nothing is acknowledged unwritten.
      onStall: (err) => {
        if (err) log("error", `log writes failed (${err.message}); retrying until they succeed`);
        else {
          log("info", "log writes succeed again");
          setImmediate(() => broker.resume());
        }
      },
    });
    // Broker and journal refer to each other: the journal snapshots the broker when compacting.
    const journal: Journal = {
      append: (r) => durable!.append(r),
      get holding() {
        return opened.log.stalled !== undefined;
      },
    };
    broker = new Broker(config, journal, (m) => log("debug", m));
    durable = new DurableJournal(
      opened.log,
      () => broker.snapshot(),
      (m) => log("warn", m),
    );
    broker.recover(opened.snapshot, opened.records);
    // Start from a compact state so recovery time stays bounded across restarts.
    if (opened.records.length > 0) await opened.log.compact(broker.snapshot());
    log("info", `recovered ${opened.records.length} log records from ${options.dataDir}`);
  } else {
    broker = new Broker(config, memoryJournal, (m) => log("debug", m));
  }
  const front = new AmqpFrontEnd(broker, log, () => `localhost:${port}`);
  let port: number;
  try {
    port = await front.listen(host, options.port ?? 5672);
  } catch (err) {
    broker.close();
    await durable?.close();
    throw new Error(
      `Service Bus emulator cannot listen on ${host}:${options.port ?? 5672}: ${(err as Error).message}`,
    );
  }
  const connectionString =
    `Endpoint=sb://localhost:${port};SharedAccessKeyName=RootManageSharedAccessKey;` +
    `SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;`;
  log(
    "info",
    `Service Bus emulator listening on ${host}:${port} (${options.dataDir ? `durable: ${options.dataDir}` : "in memory"})`,
  );
  let closing: Promise<void> | undefined;
  return {
    port,
    connectionString,
    close() {
      closing ??= (async () => {
        await front.close();
        broker.close();
        await durable?.close();
      })();
      return closing;
    },
  };
}
