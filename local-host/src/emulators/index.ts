/*
 * The emulators the local host embeds, all in this process and bound to loopback.
 *
 * What survives what (state under `${dataDir}`):
 * - Cosmos DB (@vercel/cosmosdb-server keeps nothing on disk): every change is journalled through
 *   durable-log (fsync, group commit) and no response leaves before the changes applied so far
 *   are durable, so an acknowledged write survives SIGKILL and no client reads a state a crash
 *   could take back. Restart = snapshot + journal replay; ids, bodies, _rid, _etag and _ts come
 *   back identical (UDFs get a new _rid/_etag).
 * - Service Bus: the project's emulator, durable through its own journal under `servicebus/`.
 * - The development token issuer: its signing key and port in `issuer/issuer.json`.
 * - Azure Storage (Azurite): LokiJS files that Azurite autosaves every 5 s and on close. A clean
 *   stop keeps everything; a SIGKILL can lose the last ~5 s of storage writes. Nothing whose loss
 *   breaks a guarantee may live only there (the durable engine keeps its own state). Started by
 *   the host, it comes up just after the others (`azuriteLast`): start-up does not wait for it.
 */
import path from "node:path";
import { STANDARD_STORAGE_PORTS, storageConnectionString } from "./azurite-account";
import type { RunningAzurite } from "./azurite";
import { STANDARD_COSMOS_PORT, startCosmos, type RunningCosmos } from "./cosmos";
import { openCosmosJournal } from "./cosmos-journal";
import { choosePort, reservePort } from "./ports";
import { startIssuer, type RunningIssuer } from "./issuer";
import { startServiceBus, STANDARD_SERVICE_BUS_PORT, type RunningServiceBus } from "./servicebus";
import type { EmulatorLog } from "./log";

/** The audience of development tokens unless AUTH_AUDIENCE says otherwise (local.settings.json). */
export const DEV_AUDIENCE = "orders-api-local";

export { COSMOS_EMULATOR_KEY } from "./cosmos";
export { DEV_STORAGE_ACCOUNT, DEV_STORAGE_KEY } from "./azurite-account";

export type { EmulatorLog } from "./log";

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
  which?: { azurite?: boolean; cosmos?: boolean; serviceBus?: boolean; issuer?: boolean };
  /** Ports to listen on again by name (blob, queue, table, cosmos, serviceBus): a restart. */
  reusePorts?: Record<string, number>;
  /** `aud` of the development issuer's tokens (default DEV_AUDIENCE). */
  issuerAudience?: string;
  /**
   * Start Azurite once the others are up and do not wait for it (the host: nothing in it or the
   * app uses storage, and loading Azurite is half a second of start-up). Its ports are fixed
   * first, so the connection string is known at once; a log line says when it listens.
   */
  azuriteLast?: boolean;
  log?: EmulatorLog;
}

export interface RunningEmulators {
  storageConnectionString?: string;
  cosmos?: { endpoint: string; key: string; connectionString: string };
  serviceBusConnectionString?: string;
  /** The development OpenID Connect issuer: AUTH_AUTHORITY and AUTH_AUDIENCE for the app. */
  issuer?: { url: string; audience: string };
  /** Actual ports: blob, queue, table, cosmos, serviceBus, issuer (only for started emulators). */
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
    issuer: options.which?.issuer ?? true,
  };
  const dir = (name: string): string | undefined =>
    options.dataDir === undefined ? undefined : path.join(options.dataDir, name);
  const port = (standard: number, name: string, key: string): Promise<number> =>
    options.reusePorts?.[key] !== undefined
      ? Promise.resolve(options.reusePorts[key])
      : choosePort(options.ports, standard, host, name, warn);
  // The standard port can be taken between the check and the listen: then retry on a free one.
  const withFallback = async <T>(
    name: string,
    standard: number,
    key: string,
    start: (port: number) => Promise<T>,
  ): Promise<T> => {
    const chosen = await port(standard, name, key);
    try {
      return await start(chosen);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (chosen === 0 || !(e.code === "EADDRINUSE" || /EADDRINUSE/.test(e.message))) throw err;
      warn(`${name}: standard port ${chosen} was taken while starting; using a free port instead`);
      return start(0);
    }
  };

  const starting: Promise<{ close(): Promise<void> }>[] = [];
  let azurite: Promise<RunningAzurite> | undefined;
  let cosmos: Promise<RunningCosmos> | undefined;
  let serviceBus: Promise<RunningServiceBus> | undefined;
  let issuer: Promise<RunningIssuer> | undefined;
  const audience = options.issuerAudience ?? DEV_AUDIENCE;
  // Loaded only here: Azurite's modules take about half a second.
  const startAzurite = (ports: { blob: number; queue: number; table: number }) =>
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("./azurite") as typeof import("./azurite")).startAzurite({
      host,
      dir: dir("azurite"),
      ports,
    });
  const azuritePorts = async () => ({
    blob: await port(STANDARD_STORAGE_PORTS.blob, "Azurite blob", "blob"),
    queue: await port(STANDARD_STORAGE_PORTS.queue, "Azurite queue", "queue"),
    table: await port(STANDARD_STORAGE_PORTS.table, "Azurite table", "table"),
  });
  // Started after the others (`azuriteLast`): its ports, fixed now.
  const later =
    which.azurite && options.azuriteLast
      ? await azuritePorts().then(async (p) => ({
          blob: await reservePort(p.blob, host),
          queue: await reservePort(p.queue, host),
          table: await reservePort(p.table, host),
        }))
      : undefined;
  if (which.azurite && !later) {
    azurite = azuritePorts().then(startAzurite);
    starting.push(azurite);
  }
  if (which.cosmos) {
    const cosmosDir = dir("cosmos");
    cosmos = withFallback("Cosmos DB", STANDARD_COSMOS_PORT, "cosmos", async (p) =>
      startCosmos({
        host,
        port: p,
        journal: cosmosDir === undefined ? undefined : await openCosmosJournal(cosmosDir, log),
        provision: options.cosmosProvision,
        log,
      }),
    );
    starting.push(cosmos);
  }
  if (which.serviceBus) {
    serviceBus = withFallback("Service Bus", STANDARD_SERVICE_BUS_PORT, "serviceBus", (p) =>
      startServiceBus({
        host,
        port: p,
        config: options.serviceBusConfig,
        dataDir: dir("servicebus"),
        log,
      }),
    );
    starting.push(serviceBus);
  }

  if (which.issuer) {
    issuer = startIssuer({ host, ports: options.ports, dir: dir("issuer"), audience, log });
    starting.push(issuer);
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
  if (later) {
    Object.assign(ports, later);
    running.storageConnectionString = storageConnectionString(later);
    // After this turn: the caller hears "started" first.
    azurite = new Promise<void>((r) => setImmediate(r)).then(() => startAzurite(later));
    azurite.then(
      () => log("info", `Azurite listening on ${host}:${later.blob}-${later.table}`),
      (err: Error) => log("error", `Azurite failed to start: ${err.message}`),
    );
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
  const i = issuer && (await issuer);
  if (i) {
    ports.issuer = i.port;
    running.issuer = { url: i.url, audience };
  }
  let closing: Promise<void> | undefined;
  running.close = () => {
    closing ??= (async () => {
      const started = later ? await azurite?.catch(() => undefined) : a;
      const closed = await Promise.allSettled([
        started?.close(),
        c?.close(),
        s?.close(),
        i?.close(),
      ]);
      const error = closed.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (error) throw error.reason;
    })();
    return closing;
  };
  return running;
}
