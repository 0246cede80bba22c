// The host process: what `func start` is for a Node app. It reads the settings, starts the
// emulators, runs the app in a worker process, serves HTTP triggers, runs Service Bus triggers
// and hosts the durable engine, then writes $DATA_DIR/endpoints.json.
import fs from "node:fs";
import path from "node:path";
import type { FunctionInfo, FunctionInvoker, HostHttpResponse } from "./contracts";
import { DurableEngine, handleManagementRequest } from "./durable";
import type { RpcBindingInfo, RpcParameterBinding } from "./worker/functionsCore";
import {
  applyHostJsonOverrides,
  expandDeep,
  mergeEnvironment,
  readHostJson,
  readLocalSettings,
  routePrefixOf,
  durableRetentionMsOf,
  SettingsError,
  workerProcessCountOf,
  storageProviderOf,
} from "./settings";
import type { InspectAddress } from "./worker/inspect";
import type { HostLog } from "./worker/process";
import { WorkerPool } from "./worker/pool";
import {
  createRpcHandler,
  createRequestHandler,
  DEFAULT_MAX_REQUEST_BODY_SIZE,
  listenLocalhost,
  type Listener,
} from "./http/server";
import { functionListing } from "./listing";
import { loadOrCreateKeys, type HostKeys } from "./keys";
import type { ServiceBusTriggers } from "./servicebus/trigger";
import type { EmulatorsOptions, RunningEmulators } from "./emulators";
import { startEmulatorsProcess, type EmulatorsChild } from "./emulators-client";
import { superviseEmulators } from "./emulators-supervisor";
import { startTelemetry, type Telemetry } from "./telemetry/setup";
import { writeStdout } from "./stdout";

export interface HostOptions {
  appDir: string;
  /** HTTP port; 0 picks a free one. */
  port: number;
  dataDir: string;
  /** Emulators on free ports instead of the standard ones. */
  freePorts?: boolean;
  /** Use connection strings from the environment / local.settings.json; start no emulators. */
  externalEmulators?: boolean;
  enforceKeys?: boolean;
  /** Restart the emulators process when it dies (default true). */
  restartEmulators?: boolean;
  maxRequestBodySize?: number;
  cosmosProvision?: string;
  serviceBusConfig?: string;
  /** The real environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  log?: HostLog;
  /** Start the worker with the inspector on this address (`--inspect`). */
  inspect?: InspectAddress;
  /** Where the listing and endpoints go (default stdout). */
  print?: (text: string) => void;
}

export interface Endpoints {
  baseUrl: string;
  apiBaseUrl: string;
  port: number;
  rpcBaseUrl?: string;
  otlp?: { url: string; receiver: boolean };
  storageConnectionString?: string;
  cosmos?: { endpoint: string; key: string; connectionString: string };
  serviceBusConnectionString?: string;
  /** The development token issuer (`npm run token` mints from it) and the audience. */
  issuer?: { url: string; audience: string };
  emulatorPorts?: Record<string, number>;
  /** `worker` is the first worker process; `workers` lists all when there are several. */
  pids: { host: number; worker?: number; workers?: (number | undefined)[]; emulators?: number };
  keys?: { functionKey: string; masterKey: string; systemKey: string };
}

/** The repository root (holds local-host/ and servicebus-emulator/), from src or dist. */
export function projectRoot(): string {
  let dir = __dirname;
  for (;;) {
    if (
      fs.existsSync(path.join(dir, "local-host")) &&
      fs.existsSync(path.join(dir, "package.json"))
    )
      return dir;
    const parent = path.dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
}

export function timestampLog(write: (s: string) => void = writeStdout): HostLog {
  return (level, message) => {
    if (level === "debug" && process.env.LOCALHOST_DEBUG !== "true") return;
    write(`[${new Date().toISOString()}] ${level === "info" ? "" : `${level}: `}${message}\n`);
  };
}

/** Modules loaded only when needed (the emulators, Azurite above all, dominate start-up). */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lazy = <T>(id: string): T => require(id) as T;

function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

export class Host {
  readonly options: HostOptions;
  readonly log: HostLog;
  endpoints: Endpoints | undefined;
  worker: WorkerPool | undefined;
  functions: FunctionInfo[] = [];
  #listener: Listener | undefined;
  #emulators: RunningEmulators | undefined;
  #emulatorsChild: EmulatorsChild | undefined;
  #serviceBus: ServiceBusTriggers | undefined;
  #renewServiceBus: (() => void) | undefined;
  #keys: HostKeys | undefined;
  #engine: DurableEngine | undefined;
  #rpcListener: Listener | undefined;
  #rpcBaseUrl: string | undefined;
  #telemetry: Telemetry | undefined;
  #stopping: Promise<void> | undefined;
  #handler:
    | ((req: import("node:http").IncomingMessage, res: import("node:http").ServerResponse) => void)
    | undefined;

  constructor(options: HostOptions) {
    this.options = options;
    this.log = options.log ?? timestampLog();
  }

  get endpointsFile(): string {
    return path.join(this.options.dataDir, "endpoints.json");
  }

  static async start(options: HostOptions): Promise<Host> {
    const host = new Host(options);
    try {
      await host.#start();
    } catch (err) {
      await host.stop().catch(() => undefined);
      throw err;
    }
    return host;
  }

  async #start(): Promise<void> {
    const t0 = performance.now();
    const since = () => `${Math.round(performance.now() - t0)} ms`;
    const o = this.options;
    const print = o.print ?? ((s: string) => writeStdout(s + "\n"));
    const appDir = path.resolve(o.appDir);
    const dataDir = path.resolve(o.dataDir);
    fs.mkdirSync(dataDir, { recursive: true });
    // A stale endpoints.json would tell waiting clients the host is ready before it is.
    fs.rmSync(this.endpointsFile, { force: true });

    const realEnv = o.env ?? process.env;
    const settings = readLocalSettings(appDir);
    const hostJson = readHostJson(appDir);

    // Listen first: the port is part of the worker's environment (WEBSITE_HOSTNAME). Requests
    // that arrive before the app is loaded get 503.
    this.#listener = await listenLocalhost((req, res) => {
      if (this.#handler) return this.#handler(req, res);
      res.statusCode = 503;
      res.setHeader("Retry-After", "1");
      res.end();
    }, o.port);
    const port = this.#listener.port;
    const baseUrl = `http://localhost:${port}`;

    const own: Record<string, string> = {
      WEBSITE_HOSTNAME: `localhost:${port}`,
      FUNCTIONS_WORKER_RUNTIME: "node",
    };
    this.#telemetry = await startTelemetry(
      mergeEnvironment(realEnv, settings).OTEL_EXPORTER_OTLP_ENDPOINT || undefined,
    );
    Object.assign(own, this.#telemetry.env);
    const environment = (provided: Record<string, string>): Record<string, string> => {
      const env = mergeEnvironment(realEnv, settings, { ...provided, ...own });
      // The host's own WEBSITE_HOSTNAME must match the port it really listens on.
      env.WEBSITE_HOSTNAME = own.WEBSITE_HOSTNAME;
      return env;
    };

    // The emulators (own process) and the worker (preloading the app's libraries) start
    // together; the worker loads the app once the emulators' endpoints are in its environment.
    let fullEnv: Promise<Record<string, string>> = Promise.resolve(environment({}));
    if (!o.externalEmulators) {
      const root = projectRoot();
      const cosmosProvision =
        o.cosmosProvision ?? path.join(root, "local-host", "config", "cosmos.json");
      const serviceBusConfig =
        o.serviceBusConfig ?? path.join(root, "servicebus-emulator", "config", "Config.json");
      const emulatorOptions: Omit<EmulatorsOptions, "log"> = {
        dataDir: path.join(dataDir, "emulators"),
        ports: o.freePorts ? "free" : "standard",
        host: "127.0.0.1",
        cosmosProvision: fs.existsSync(cosmosProvision) ? cosmosProvision : undefined,
        serviceBusConfig: fs.existsSync(serviceBusConfig) ? serviceBusConfig : undefined,
        // Storage backs AzureWebJobsStorage for parity only: nothing here or in the app uses it.
        azuriteLast: true,
        ...(environment({}).AUTH_AUDIENCE ? { issuerAudience: environment({}).AUTH_AUDIENCE } : {}),
      };
      this.#emulatorsChild = startEmulatorsProcess(emulatorOptions, this.log);
      fullEnv = this.#emulatorsChild.started.then((e) => {
        this.#emulators = e;
        if (o.restartEmulators !== false)
          superviseEmulators({
            first: this.#emulatorsChild!,
            running: e,
            restart: (ports) =>
              startEmulatorsProcess({ ...emulatorOptions, reusePorts: ports }, this.log),
            stopping: () => this.#stopping !== undefined,
            onRestarted: (child, running) => {
              this.#emulatorsChild = child;
              this.#emulators = running;
              if (this.endpoints) this.endpoints.pids.emulators = child.child.pid;
              this.#writeEndpoints();
              this.#renewServiceBus?.();
            },
            log: this.log,
          });
        const provided: Record<string, string> = {};
        if (e.storageConnectionString) provided.AzureWebJobsStorage = e.storageConnectionString;
        if (e.cosmos) {
          provided.CosmosDBConnection = e.cosmos.connectionString;
          // The embedded Cosmos emulator serves a self-signed certificate on loopback.
          provided.COSMOS_ALLOW_SELF_SIGNED = "true";
        }
        if (e.serviceBusConnectionString) {
          provided.ServiceBusConnection = e.serviceBusConnectionString;
        }
        if (e.issuer) {
          // The app trusts the development issuer it started (its port is kept per DATA_DIR).
          provided.AUTH_AUTHORITY = e.issuer.url;
          provided.AUTH_AUDIENCE = e.issuer.audience;
        }
        return environment(provided);
      });
      // Failures surface through the awaits below; this only avoids an unhandled rejection.
      fullEnv.catch(() => undefined);
    }

    let workers = workerProcessCountOf(environment({}));
    if (workers > 1 && this.options.inspect) {
      this.log(
        "info",
        `--inspect: one worker process (FUNCTIONS_WORKER_PROCESS_COUNT is ${workers}).`,
      );
      workers = 1;
    }
    this.worker = new WorkerPool(
      {
        appDir,
        env: environment({}),
        log: this.log,
        onAppLog: (entry) => {
          if (entry.category === "system" && (entry.level === "debug" || entry.level === "trace"))
            return;
          const level =
            entry.level === "error" || entry.level === "critical"
              ? "error"
              : entry.level === "warning"
                ? "warn"
                : "info";
          this.log(level, entry.message);
        },
        onSpawn: () => this.#writeEndpoints(),
        inspect: this.options.inspect,
      },
      workers,
    );
    const loaded = this.worker.start(fullEnv);
    loaded.catch(() => undefined);
    // Meanwhile this process loads the Service Bus SDK (only needed for Service Bus triggers).
    const { ServiceBusTriggers } =
      lazy<typeof import("./servicebus/trigger")>("./servicebus/trigger");
    this.log("debug", `Service Bus SDK loaded after ${since()}`);
    const env = await fullEnv;
    this.log("debug", `emulators ready after ${since()}`);
    this.functions = await loaded;
    this.log("debug", `worker ready after ${since()}`);

    // AzureFunctionsJobHost__... settings override host.json, as in the Functions host.
    const effectiveHostJson = applyHostJsonOverrides(hostJson, env);
    const extensions = expandDeep(effectiveHostJson.extensions ?? {}, env, "host.json extensions");
    const routePrefix = routePrefixOf({ ...effectiveHostJson, extensions });
    const provider = storageProviderOf(extensions.durableTask);
    this.log(
      "info",
      `Durable storage provider in host.json: ${provider.type}${provider.connectionStringName ? ` (connection setting '${provider.connectionStringName}')` : ""}; the local host keeps durable state in its own local store (${path.join(dataDir, "durable")}) whatever the provider.`,
    );
    const invoker = this.worker;

    if (o.enforceKeys) this.#keys = loadOrCreateKeys(dataDir);

    // The durable extension's internal rpc listener, then the engine (it recovers its state).
    const retentionMs = durableRetentionMsOf(env);
    const engine = await this.#openDurable(
      dataDir,
      baseUrl,
      extensions.durableTask,
      invoker,
      retentionMs,
    );
    const extraInputs = (
      _fn: FunctionInfo,
      [name, info]: [string, RpcBindingInfo],
    ): RpcParameterBinding | undefined =>
      String(info.type).toLowerCase() === "durableclient"
        ? { name, data: { string: JSON.stringify(engine.clientBindingData()) } }
        : undefined;

    const serviceBusTriggers = () =>
      new ServiceBusTriggers({
        functions: this.functions,
        env,
        invoker,
        settings: extensions.serviceBus,
        extraInputs,
        log: this.log,
      });
    this.#serviceBus = serviceBusTriggers();
    // After an emulators restart: new receivers at once instead of the SDK's slow reconnect
    // (whose links stalled after the first messages); the old ones' messages are redelivered.
    this.#renewServiceBus = () => {
      if (this.#stopping !== undefined || !this.#serviceBus) return;
      const old = this.#serviceBus;
      this.#serviceBus = serviceBusTriggers();
      this.#serviceBus.start();
      void old.stop().catch(() => undefined);
    };

    this.#handler = createRequestHandler({
      functions: this.functions,
      routePrefix,
      invoker,
      maxRequestBodySize:
        o.maxRequestBodySize ??
        extensions.http?.maxRequestBodySize ??
        DEFAULT_MAX_REQUEST_BODY_SIZE,
      keys: this.#keys,
      extraInputs,
      management: (req) => handleManagementRequest(engine, req, "webhook"),
      log: this.log,
    });
    this.log("debug", `durable engine open after ${since()}`);
    engine.start();
    this.#serviceBus.start();
    for (const e of this.#serviceBus.errors) {
      this.log("error", `The '${e.functionName}' function is in error: ${e.message}`);
    }

    this.endpoints = {
      baseUrl,
      apiBaseUrl: routePrefix ? `${baseUrl}/${routePrefix}` : baseUrl,
      port,
      rpcBaseUrl: this.#rpcBaseUrl,
      storageConnectionString: env.AzureWebJobsStorage,
      cosmos: this.#emulators?.cosmos,
      serviceBusConnectionString: env.ServiceBusConnection,
      // Traces and metrics (OTLP/HTTP): the host's receiver, or the configured collector.
      otlp: this.#telemetry && {
        url: this.#telemetry.endpoint,
        receiver: this.#telemetry.receiver !== undefined,
      },
      // The development issuer, when the app trusts it (a real AUTH_AUTHORITY in the environment wins).
      ...(this.#emulators?.issuer && env.AUTH_AUTHORITY === this.#emulators.issuer.url
        ? { issuer: { url: env.AUTH_AUTHORITY, audience: env.AUTH_AUDIENCE ?? "" } }
        : {}),
      emulatorPorts: this.#emulators?.ports,
      pids: {
        host: process.pid,
        ...this.#workerPids(),
        emulators: this.#emulatorsChild?.child.pid,
      },
      keys: this.#keys && {
        functionKey: this.#keys.functionKeys.default,
        masterKey: this.#keys.masterKey,
        systemKey: this.#keys.systemKeys.durabletask_extension,
      },
    };
    print(functionListing(this.functions, routePrefix, baseUrl));
    if (this.#keys) {
      print(
        `Keys are enforced (x-functions-key header or code= query):\n  default function key: ${this.#keys.functionKeys.default}\n  master key: ${this.#keys.masterKey}\n  durabletask_extension system key: ${this.#keys.systemKeys.durabletask_extension}\n`,
      );
    }
    this.#writeEndpoints();
    print(`Endpoints (${this.endpointsFile}):\n${JSON.stringify(this.endpoints, null, 2)}\n`);
    print(`Host ready: ${baseUrl}`);
  }

  async #openDurable(
    dataDir: string,
    publicBaseUrl: string,
    durableTask: Record<string, unknown> | undefined,
    invoker: FunctionInvoker,
    retentionMs: number | undefined,
  ): Promise<DurableEngine> {
    // The listener starts first (the engine needs its URL); it answers 503 until the engine is open.
    const opened: { engine?: DurableEngine } = {};
    const notReady = (): HostHttpResponse => ({ status: 503, headers: { "Retry-After": "1" } });
    this.#rpcListener = await listenLocalhost(
      createRpcHandler(
        async (req) =>
          opened.engine ? handleManagementRequest(opened.engine, req, "rpc") : notReady(),
        this.log,
      ),
      0,
      ["127.0.0.1"],
    );
    this.#rpcBaseUrl = `http://127.0.0.1:${this.#rpcListener.port}/durabletask/`;
    const hubName = durableTask?.hubName;
    const engine = await DurableEngine.open({
      dataDir,
      // The extension's default when neither host.json nor the site name sets one.
      taskHub: typeof hubName === "string" && hubName ? hubName : "TestHubName",
      functions: this.functions,
      invoker,
      publicBaseUrl,
      rpcBaseUrl: this.#rpcBaseUrl,
      systemKey: this.#keys?.systemKeys.durabletask_extension,
      durableTask,
      log: (level, message) => this.log(level, `[durable] ${message}`),
      spans: this.#telemetry?.spans,
      retentionMs,
    });
    opened.engine = engine;
    this.#engine = engine;
    return engine;
  }

  /** endpoints.json's worker pids: the first, and all of them when there are several. */
  #workerPids(): Pick<Endpoints["pids"], "worker" | "workers"> {
    const w = this.worker;
    return { worker: w?.pid, ...(w && w.size > 1 ? { workers: w.pids } : {}) };
  }

  #writeEndpoints(): void {
    if (!this.endpoints) return;
    Object.assign(this.endpoints.pids, this.#workerPids());
    try {
      writeFileAtomic(this.endpointsFile, JSON.stringify(this.endpoints, null, 2) + "\n");
    } catch (err) {
      this.log("warn", `Could not write ${this.endpointsFile}: ${(err as Error).message}`);
    }
  }

  /** Graceful stop: stop accepting, drain requests and triggers, stop the worker and emulators. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const errors: unknown[] = [];
      const t0 = performance.now();
      const step = async (what: string, fn: () => Promise<void> | undefined) => {
        try {
          await fn();
          this.log("debug", `stopped ${what} after ${Math.round(performance.now() - t0)} ms`);
        } catch (err) {
          errors.push(err);
          this.log("warn", `Stopping ${what}: ${(err as Error).message}`);
        }
      };
      await Promise.all([
        step("HTTP listener", () => this.#listener?.drain(10000)),
        step("Service Bus triggers", () => this.#serviceBus?.stop()),
      ]);
      // The engine drains its in-flight work items (they need the worker), then persists.
      await step("durable engine", () => this.#engine?.stop());
      await step("durable rpc listener", () => this.#rpcListener?.close());
      await step("OTLP receiver", () => this.#telemetry?.receiver?.close());
      await step("worker", () => this.worker?.stop());
      await step("emulators", async () => {
        if (this.#emulators) return this.#emulators.close();
        // Never started (start-up failed first): just end the process.
        this.#emulatorsChild?.child.kill("SIGKILL");
      });
      if (errors.length > 0 && errors.every((e) => e instanceof SettingsError)) throw errors[0];
    })();
    return this.#stopping;
  }
}
