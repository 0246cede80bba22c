// FUNCTIONS_WORKER_PROCESS_COUNT language worker processes, as the real host runs them: each
// loads the app; an invocation goes to the worker with the fewest in flight. A worker process
// runs JavaScript on one thread, so one worker bounds an app to one core however many the
// machine has. The first worker makes the host ready; the others join as they finish loading,
// so start-up does not wait for them.
import type { FunctionInfo, FunctionInvoker } from "../contracts";
import type { RpcInvocationRequest, RpcInvocationResponse } from "./functionsCore";
import { WorkerProcess, type WorkerProcessOptions } from "./process";

/** The real host's limits for FUNCTIONS_WORKER_PROCESS_COUNT. */
export const MAX_WORKER_PROCESSES = 10;

export class WorkerPool implements FunctionInvoker {
  readonly #workers: WorkerProcess[];
  readonly #joined = new Set<WorkerProcess>();

  constructor(options: WorkerProcessOptions, count: number) {
    const n = Math.max(1, Math.min(MAX_WORKER_PROCESSES, Math.floor(count)));
    this.#workers = Array.from(
      { length: n },
      (_, i) =>
        new WorkerProcess({
          ...options,
          // One inspector port: only the first worker can have it.
          inspect: i === 0 ? options.inspect : undefined,
        }),
    );
  }

  get size(): number {
    return this.#workers.length;
  }

  get functions(): FunctionInfo[] {
    return this.#workers[0]!.functions;
  }

  /** The first worker's pid (endpoints.json `pids.worker`). */
  get pid(): number | undefined {
    return this.#workers[0]!.pid;
  }

  get pids(): (number | undefined)[] {
    return this.#workers.map((w) => w.pid);
  }

  async start(fullEnv?: Promise<Record<string, string>>): Promise<FunctionInfo[]> {
    const [first, ...rest] = this.#workers;
    const functions = await first!.start(fullEnv);
    this.#joined.add(first!);
    for (const w of rest) {
      w.start(fullEnv).then(
        () => this.#joined.add(w),
        () => undefined, // it logs its own failure; the others serve
      );
    }
    return functions;
  }

  invoke(functionName: string, request: RpcInvocationRequest): Promise<RpcInvocationResponse> {
    let best = this.#workers[0]!;
    for (const w of this.#joined) {
      if (w.running && (!best.running || w.inFlight < best.inFlight)) best = w;
    }
    return best.invoke(functionName, request);
  }

  async reload(drainMs?: number): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.reload(drainMs)));
  }

  async stop(timeoutMs?: number): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.stop(timeoutMs)));
  }
}
