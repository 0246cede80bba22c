import path from "node:path";
import { STANDARD_STORAGE_PORTS, startAzurite, type RunningAzurite } from "./azurite";
import { STANDARD_COSMOS_PORT, startCosmos, type RunningCosmos } from "./cosmos";
import { openCosmosJournal } from "./cosmos-journal";
import { choosePort } from "./ports";
import { startServiceBus, STANDARD_SERVICE_BUS_PORT, type RunningServiceBus } from "./servicebus";

export { COSMOS_EMULATOR_KEY } from "./cosmos";
export { DEV_STORAGE_ACCOUNT, DEV_STORAGE_KEY } from "./azurite";

export type EmulatorLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

export interface EmulatorsOptions {
  /** Persistence root (`${dataDir}/azurite`, `${dataDir}/cosmos`, `${dataDir}/servicebus`); in-memory when absent. */
  dataDir?: string;
  /** standard: 10000-10002, 8081, 5672 when free (else a free port for that emulator, with a warning); free: port 0 everywhere. */
  ports: "standard" | "free";
  /** Default 127.0.0.1. */
  host?: string;
  /** Path of the Cosmos provisioning file (databases/containers to create). */
  cosmosProvision?: string;
  /** Path of the Service Bus emulator's Config.json. */
  serviceBusConfig?: string;
  /** Default: all. */
  which?: { azurite?: boolean; cosmos?: boolean; serviceBus?: boolean };
  log?: EmulatorLog;
}

export interface RunningEmulators {
  storageConnectionString?: string;
  cosmos?: { endpoint: string; key: string; connectionString: string };
  serviceBusConnectionString?: string;
  /** Actual ports: blob, queue, table, cosmos, serviceBus (only for started emulators). */
  ports: Record<string, number>;
  /** Stops everything and flushes every store (Azurite's LokiJS files, the Cosmos journal). */
  close(): Promise<void>;
}

const defaultLog: EmulatorLog = (level, message) => {
  if (level === "warn" || level === "error")
    process.stderr.write(`[emulators] ${level}: ${message}\n`);
};

export async function startEmulators(options: EmulatorsOptions): Promise<RunningEmulators> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? defaultLog;
  const warn = (message: string): void => log("warn", message);
  const which = {
    azurite: options.which?.azurite ?? true,
    cosmos: options.which?.cosmos ?? true,
    serviceBus: options.which?.serviceBus ?? true,
  };
  const dir = (name: string): string | undefined =>
    options.dataDir === undefined ? undefined : path.join(options.dataDir, name);
  const port = (standard: number, name: string): Promise<number> =>
    choosePort(options.ports, standard, host, name, warn);

  const starting: Promise<{ close(): Promise<void> }>[] = [];
  let azurite: Promise<RunningAzurite> | undefined;
  let cosmos: Promise<RunningCosmos> | undefined;
  let serviceBus: Promise<RunningServiceBus> | undefined;
  if (which.azurite) {
    azurite = (async () =>
      startAzurite({
        host,
        dir: dir("azurite"),
        ports: {
          blob: await port(STANDARD_STORAGE_PORTS.blob, "Azurite blob"),
          queue: await port(STANDARD_STORAGE_PORTS.queue, "Azurite queue"),
          table: await port(STANDARD_STORAGE_PORTS.table, "Azurite table"),
        },
      }))();
    starting.push(azurite);
  }
  if (which.cosmos) {
    cosmos = (async () => {
      const cosmosDir = dir("cosmos");
      return startCosmos({
        host,
        port: await port(STANDARD_COSMOS_PORT, "Cosmos DB"),
        journal: cosmosDir === undefined ? undefined : await openCosmosJournal(cosmosDir),
        provision: options.cosmosProvision,
        log,
      });
    })();
    starting.push(cosmos);
  }
  if (which.serviceBus) {
    serviceBus = (async () =>
      startServiceBus({
        host,
        port: await port(STANDARD_SERVICE_BUS_PORT, "Service Bus"),
        config: options.serviceBusConfig,
        dataDir: dir("servicebus"),
        log,
      }))();
    starting.push(serviceBus);
  }

  const results = await Promise.allSettled(starting);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed) {
    await Promise.allSettled(
      results.map((r) => (r.status === "fulfilled" ? r.value.close() : undefined)),
    );
    throw failed.reason;
  }

  const ports: Record<string, number> = {};
  const running: RunningEmulators = {
    ports,
    close: async () => undefined,
  };
  const a = azurite && (await azurite);
  if (a) {
    Object.assign(ports, a.ports);
    running.storageConnectionString = a.connectionString;
  }
  const c = cosmos && (await cosmos);
  if (c) {
    ports.cosmos = c.port;
    running.cosmos = { endpoint: c.endpoint, key: c.key, connectionString: c.connectionString };
  }
  const s = serviceBus && (await serviceBus);
  if (s) {
    ports.serviceBus = s.port;
    running.serviceBusConnectionString = s.connectionString;
  }
  let closing: Promise<void> | undefined;
  running.close = () => {
    closing ??= (async () => {
      const closed = await Promise.allSettled([a?.close(), c?.close(), s?.close()]);
      const error = closed.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (error) throw error.reason;
    })();
    return closing;
  };
  return running;
}
