// `npm start`: runs the app like `func start` (see local-host/README.md).
import "./useCompileCache"; // first: what loads after it comes from the code cache
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { dumpCountersPeriodically } from "./counters";
import { Host, timestampLog } from "./host";
import { watchApp } from "./watch";
import { parseInspect } from "./worker/inspect";

function portOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("not a port number (0-65535).");
  return n;
}

function sizeOf(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new InvalidArgumentError("not a positive number of bytes.");
  return n;
}

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|yes)$/i.test(v);

async function main(): Promise<void> {
  const startedAt = performance.now();
  dumpCountersPeriodically("host");
  const program = new Command()
    .name("local-host")
    .description(
      "Runs the Functions app without Core Tools: HTTP, Service Bus and Durable triggers with embedded emulators.",
    )
    .option(
      "--app <dir>",
      "app directory (package.json, host.json, local.settings.json)",
      process.cwd(),
    )
    .option("--port <port>", "HTTP port (env PORT; default 7071; 0 = any free port)", portOf)
    .option("--data-dir <dir>", "where all local state lives (env DATA_DIR; default .data/)")
    .option("--free-ports", "start the emulators on free ports instead of the standard ones")
    .option(
      "--external-emulators",
      "start no emulators: use the connection strings from the environment/local.settings.json",
    )
    .option("--enforce-keys", "require function keys (env LOCALHOST_ENFORCE_KEYS=true)")
    .option(
      "--no-restart-emulators",
      "leave the emulators down when their process dies (to watch the app with its dependencies gone)",
    )
    .option(
      "--max-request-body-size <bytes>",
      "reject larger request bodies with 413 (default 104857600)",
      sizeOf,
    )
    .option(
      "--cosmos-config <file>",
      "Cosmos provisioning file (default local-host/config/cosmos.json)",
    )
    .option(
      "--servicebus-config <file>",
      "Service Bus emulator entities (default servicebus-emulator/config/Config.json)",
    )
    .option(
      "--inspect [[host:]port]",
      "start the worker with the Node inspector (default 127.0.0.1:9229; loopback only)",
    )
    .option("--watch", "reload the worker when the app's compiled files change (npm run dev)")
    .parse();
  const opts = program.opts<{
    app: string;
    port?: number;
    dataDir?: string;
    freePorts?: boolean;
    externalEmulators?: boolean;
    enforceKeys?: boolean;
    restartEmulators: boolean;
    maxRequestBodySize?: number;
    cosmosConfig?: string;
    servicebusConfig?: string;
    inspect?: string | true;
    watch?: boolean;
  }>();
  let inspect;
  try {
    inspect = opts.inspect === undefined ? undefined : parseInspect(opts.inspect);
  } catch (err) {
    program.error((err as Error).message);
  }
  const appDir = path.resolve(opts.app);
  const port = opts.port ?? (process.env.PORT ? portOf(process.env.PORT) : 7071);
  const dataDir = path.resolve(appDir, opts.dataDir ?? process.env.DATA_DIR ?? ".data");
  const log = timestampLog();

  // Set as soon as start-up begins; a signal during start-up stops what was started.
  const running: { host?: Promise<Host> } = {};
  let signalled = false;
  const shutdown = (signal: string) => {
    if (signalled) {
      // A second Ctrl+C means "now".
      process.exit(130);
    }
    signalled = true;
    log("info", `${signal} received: stopping gracefully.`);
    const stopping = running.host ? running.host.then((h) => h.stop()) : Promise.resolve();
    stopping.then(
      () => process.exit(0),
      (err: unknown) => {
        log("error", (err as Error).message);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => shutdown("SIGINT"));
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  // Test harnesses set this so a host whose test runner died does not linger.
  const parentPid = Number(process.env.LOCALHOST_EXIT_WITH_PARENT);
  if (Number.isInteger(parentPid) && parentPid > 0) {
    setInterval(() => {
      try {
        process.kill(parentPid, 0);
      } catch {
        shutdown("parent exit");
      }
    }, 1000).unref();
  }

  running.host = Host.start({
    appDir,
    port,
    dataDir,
    freePorts: opts.freePorts === true,
    externalEmulators: opts.externalEmulators === true,
    enforceKeys: opts.enforceKeys === true || truthy(process.env.LOCALHOST_ENFORCE_KEYS),
    restartEmulators: opts.restartEmulators,
    maxRequestBodySize: opts.maxRequestBodySize,
    cosmosProvision: opts.cosmosConfig && path.resolve(opts.cosmosConfig),
    serviceBusConfig: opts.servicebusConfig && path.resolve(opts.servicebusConfig),
    inspect,
    log,
  });
  const host = await running.host;
  if (opts.watch && host.worker) watchApp(appDir, host.worker, log);
  log("info", `Started in ${Math.round(performance.now() - startedAt)} ms.`);
}

main().catch((err: unknown) => {
  const e = err as Error;
  process.stderr.write(
    `local-host: ${e.name === "SettingsError" ? e.message : (e.stack ?? String(e))}\n`,
  );
  process.exit(1);
});
