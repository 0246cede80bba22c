// The host side of the worker: forks the worker process, forwards invocations over IPC and
// restarts the worker when it dies (failing what was in flight, as the real host does when a
// language worker crashes).
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { FunctionInvocationError, type FunctionInfo, type FunctionInvoker } from "../contracts";
import type { LogEntry, RpcInvocationRequest, RpcInvocationResponse } from "./functionsCore";
import { countInvocation } from "../counters";
import { debuggerUrl, inspectExecArgv, waitForPortFree, type InspectAddress } from "./inspect";
import { WORKER_APP_DIR_ENV, type HostToWorker, type WorkerToHost } from "./protocol";
import { Outbox } from "./outbox";

export type HostLog = (level: "debug" | "info" | "warn" | "error", message: string) => void;

export interface WorkerProcessOptions {
  appDir: string;
  env: Record<string, string>;
  log: HostLog;
  onAppLog?: (entry: LogEntry) => void;
  /** Called with the new pid whenever a worker (re)starts. */
  onSpawn?: (pid: number) => void;
  /** Script to fork; default: the compiled main.js next to this file. */
  script?: string;
  /** Start every worker with the inspector on this address (restarts keep it). */
  inspect?: InspectAddress;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Pending {
  functionName: string;
  resolve(response: RpcInvocationResponse): void;
  reject(err: Error): void;
}

/** Raised for invocations lost because the worker process died. */
export class WorkerExitedError extends Error {
  override name = "WorkerExitedError";
}

export class WorkerProcess implements FunctionInvoker {
  #child: ChildProcess | undefined;
  /** Invocations for #child, sent once per turn (see ./outbox.ts). */
  #outbox: Outbox<HostToWorker> | undefined;
  #ready: Promise<void> | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #stopping = false;
  #restarts = 0;
  /** Set while reload() stops the worker on purpose: its exit is not a crash. */
  #planned = false;
  #reloading: Promise<void> | undefined;
  #functions: FunctionInfo[] = [];
  #options: WorkerProcessOptions;

  constructor(options: WorkerProcessOptions) {
    this.#options = { ...options };
  }

  get functions(): FunctionInfo[] {
    return this.#functions;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Invocations sent and not yet answered. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Loaded and serving (not restarting, reloading or stopping). */
  get running(): boolean {
    return this.#child?.connected === true && !this.#reloading && !this.#stopping && !this.#planned;
  }

  /**
   * Starts the worker and resolves with the registered functions once the app is loaded. The
   * worker forks with `options.env` and preloads libraries; `fullEnv` (default: the same) is
   * the environment the app loads with, e.g. once the emulators' endpoints are known.
   */
  async start(fullEnv?: Promise<Record<string, string>>): Promise<FunctionInfo[]> {
    await this.#spawn(fullEnv);
    return this.#functions;
  }

  async #spawn(fullEnv?: Promise<Record<string, string>>): Promise<void> {
    const inspect = this.#options.inspect;
    // A restarted worker reuses the inspector port: wait until the old one has released it.
    if (inspect) await waitForPortFree(inspect);
    if (this.#stopping) throw new Error("The host is stopping.");
    const ready = this.#fork(fullEnv);
    this.#ready = ready;
    if (inspect) {
      void debuggerUrl(inspect).then((url) =>
        this.#options.log(
          url ? "info" : "warn",
          url
            ? `Debugger: attach to ${url} (VS Code: "Attach to worker")`
            : `Debugger: the worker's inspector did not answer on ${inspect.host}:${inspect.port}.`,
        ),
      );
    }
    return ready;
  }

  #fork(fullEnv?: Promise<Record<string, string>>): Promise<void> {
    const script = this.#options.script ?? path.join(__dirname, "main.js");
    const inspect = this.#options.inspect;
    const child = fork(script, [], {
      cwd: this.#options.appDir,
      execArgv: [...process.execArgv, ...(inspect ? inspectExecArgv(inspect) : [])],
      env: { ...this.#options.env, [WORKER_APP_DIR_ENV]: this.#options.appDir },
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child = child;
    this.#outbox = new Outbox<HostToWorker>(child, (messages) => ({ type: "batch", messages }));
    if (child.pid !== undefined) this.#options.onSpawn?.(child.pid);
    const env = fullEnv ?? Promise.resolve(this.#options.env);
    env.then(
      (e) => {
        // Restarts fork with the complete environment straight away.
        this.#options.env = e;
        if (child.connected) child.send({ type: "init", env: e } satisfies HostToWorker);
      },
      () => child.kill("SIGKILL"),
    );
    const ready = new Promise<void>((resolve, reject) => {
      const receive = (message: WorkerToHost): void => {
        switch (message.type) {
          case "batch":
            message.messages.forEach(receive);
            break;
          case "ready":
            this.#functions = message.functions;
            resolve();
            break;
          case "loadError":
            reject(new Error(`The app failed to load: ${message.stack ?? message.message}`));
            break;
          case "result":
            this.#settle(message.id, (p) => p.resolve(message.response));
            break;
          case "failed":
            this.#settle(message.id, (p) =>
              p.reject(new FunctionInvocationError(p.functionName, message.message, message.stack)),
            );
            break;
          case "log":
            this.#options.onAppLog?.(message.entry);
            break;
          default:
            break;
        }
      };
      child.on("message", receive);
      child.on("exit", (code, signal) => {
        reject(
          new Error(
            `The worker process exited before it was ready (code ${code}, signal ${signal}).`,
          ),
        );
        if (this.#child !== child) return;
        this.#child = undefined;
        const lost = [...this.#pending.values()];
        this.#pending.clear();
        for (const p of lost) {
          p.reject(
            new WorkerExitedError(
              `The worker process exited (code ${code}, signal ${signal}) while running '${p.functionName}'.`,
            ),
          );
        }
        if (!this.#stopping && !this.#planned) this.#restart(code, signal);
      });
    });
    return ready;
  }

  /**
   * Replaces the worker with a fresh one that loads the app again (dev mode, after a rebuild).
   * New invocations wait for the new worker; running ones may finish first (up to
   * `drainMs`), whatever is still running then fails as on a worker crash.
   */
  reload(drainMs = 10000): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    if (this.#reloading) return this.#reloading;
    let open!: (next: Promise<void>) => void;
    this.#ready = new Promise<void>((resolve, reject) => {
      open = (next) => next.then(resolve, reject);
    });
    this.#ready.catch(() => undefined);
    const reloading = (async () => {
      const deadline = Date.now() + drainMs;
      while (this.#pending.size > 0 && Date.now() < deadline) await sleep(20);
      const old = this.#child;
      if (old && old.exitCode === null && old.signalCode === null) {
        this.#planned = true;
        await this.#terminate(old, 5000);
      }
      this.#planned = false;
      if (this.#stopping) throw new Error("The host is stopping.");
      const next = this.#spawn();
      open(next);
      await next;
    })();
    this.#reloading = reloading.finally(() => (this.#reloading = undefined));
    return this.#reloading;
  }

  #restart(code: number | null, signal: string | null): void {
    this.#restarts++;
    this.#options.log(
      "warn",
      `Worker process exited (code ${code}, signal ${signal}); restarting.`,
    );
    // Back off when the worker keeps dying so a crash loop does not spin the CPU.
    const delay = Math.min(100 * 2 ** Math.min(this.#restarts - 1, 5), 3000);
    const restarted = new Promise<void>((resolve) => setTimeout(resolve, delay)).then(() => {
      if (this.#stopping) throw new Error("The host is stopping.");
      if (this.#reloading) return this.#reloading;
      return this.#spawn();
    });
    this.#ready = restarted;
    restarted.then(
      () => {
        this.#restarts = 0;
        this.#options.log("info", `Worker process restarted (pid ${this.#child?.pid}).`);
      },
      (err: unknown) => this.#options.log("error", (err as Error).message),
    );
  }

  #settle(id: number, fn: (p: Pending) => void): void {
    const p = this.#pending.get(id);
    if (!p) return;
    this.#pending.delete(id);
    fn(p);
  }

  async invoke(
    functionName: string,
    request: RpcInvocationRequest,
  ): Promise<RpcInvocationResponse> {
    // Waits for a restarting worker; a worker that cannot come back fails the invocation.
    for (let attempt = 0; ; attempt++) {
      if (this.#stopping) throw new WorkerExitedError("The host is stopping.");
      try {
        await this.#ready;
        break;
      } catch (err) {
        if (attempt >= 5) throw err;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const child = this.#child;
    const outbox = this.#outbox;
    if (!child || !child.connected || !outbox) {
      throw new WorkerExitedError(
        `The worker process is not running; '${functionName}' was not run.`,
      );
    }
    countInvocation(this.#functions.find((f) => f.name === functionName));
    const id = this.#nextId++;
    return new Promise<RpcInvocationResponse>((resolve, reject) => {
      this.#pending.set(id, { functionName, resolve, reject });
      const message: HostToWorker = { type: "invoke", id, functionName, request };
      outbox.send(message, (err) =>
        this.#settle(id, (p) => p.reject(new WorkerExitedError(err.message))),
      );
    });
  }

  /** Asks the worker to run appTerminate hooks and exit; kills it if it does not. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await this.#terminate(child, timeoutMs);
  }

  async #terminate(child: ChildProcess, timeoutMs: number): Promise<void> {
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      // Invocations queued this turn go first, as they were sent first.
      if (child === this.#child) this.#outbox?.flush();
      if (child.connected) child.send({ type: "terminate" } satisfies HostToWorker);
    } catch {
      child.kill("SIGKILL");
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
