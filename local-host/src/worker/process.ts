// The host side of the worker: forks the worker process, forwards invocations over IPC and
// restarts the worker when it dies (failing what was in flight, as the real host does when a
// language worker crashes).
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { FunctionInvocationError, type FunctionInfo, type FunctionInvoker } from "../contracts";
import type { LogEntry, RpcInvocationRequest, RpcInvocationResponse } from "./functionsCore";
import { WORKER_APP_DIR_ENV, type HostToWorker, type WorkerToHost } from "./protocol";

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
}

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
  #ready: Promise<void> | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #stopping = false;
  #restarts = 0;
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

  /**
   * Starts the worker and resolves with the registered functions once the app is loaded. The
   * worker forks with `options.env` and preloads libraries; `fullEnv` (default: the same) is
   * the environment the app loads with, e.g. once the emulators' endpoints are known.
   */
  async start(fullEnv?: Promise<Record<string, string>>): Promise<FunctionInfo[]> {
    await this.#spawn(fullEnv);
    return this.#functions;
  }

  #spawn(fullEnv?: Promise<Record<string, string>>): Promise<void> {
    const script = this.#options.script ?? path.join(__dirname, "main.js");
    const child = fork(script, [], {
      cwd: this.#options.appDir,
      env: { ...this.#options.env, [WORKER_APP_DIR_ENV]: this.#options.appDir },
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child = child;
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
      child.on("message", (message: WorkerToHost) => {
        switch (message.type) {
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
      });
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
        if (!this.#stopping) this.#restart(code, signal);
      });
    });
    this.#ready = ready;
    return ready;
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
    if (!child || !child.connected) {
      throw new WorkerExitedError(
        `The worker process is not running; '${functionName}' was not run.`,
      );
    }
    const id = this.#nextId++;
    return new Promise<RpcInvocationResponse>((resolve, reject) => {
      this.#pending.set(id, { functionName, resolve, reject });
      const message: HostToWorker = { type: "invoke", id, functionName, request };
      child.send(message, (err) => {
        if (err) this.#settle(id, (p) => p.reject(new WorkerExitedError(err.message)));
      });
    });
  }

  /** Asks the worker to run appTerminate hooks and exit; kills it if it does not. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      if (child.connected) child.send({ type: "terminate" } satisfies HostToWorker);
    } catch {
      child.kill("SIGKILL");
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
