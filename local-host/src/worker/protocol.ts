// Messages between the host process and the worker process (child_process IPC with
// `serialization: "advanced"`, so Buffers and Uint8Arrays cross intact). This plays the part of
// the real host's gRPC channel to the language worker.
import type { FunctionInfo } from "../contracts";
import type { LogEntry, RpcInvocationRequest, RpcInvocationResponse } from "./functionsCore";

export type HostToWorker =
  /** The complete environment (it may add emulator endpoints to the one the worker forked with); then load the app. */
  | { type: "init"; env: Record<string, string> }
  | { type: "invoke"; id: number; functionName: string; request: RpcInvocationRequest }
  | { type: "terminate" }
  /** Several of the above, in order (see ./outbox.ts). */
  | { type: "batch"; messages: HostToWorker[] };

export type WorkerToHost =
  | { type: "ready"; functions: FunctionInfo[] }
  | { type: "loadError"; message: string; stack?: string }
  | { type: "result"; id: number; response: RpcInvocationResponse }
  | { type: "failed"; id: number; message: string; stack?: string }
  | { type: "log"; entry: LogEntry }
  | { type: "terminated" }
  /** Several of the above, in order (see ./outbox.ts). */
  | { type: "batch"; messages: WorkerToHost[] };

/** Options the host passes to the worker through its environment. */
export const WORKER_APP_DIR_ENV = "LOCALHOST_WORKER_APP_DIR";
