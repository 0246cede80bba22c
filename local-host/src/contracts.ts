// Seams between the parts of the local host: the host shell (HTTP server, worker process,
// triggers, emulators) and the durable engine (the part that plays the Durable extension).
import type {
  RpcBindingInfo,
  RpcInvocationRequest,
  RpcInvocationResponse,
} from "./worker/functionsCore";

/** A function as the app registered it (name plus bindings keyed by their hashed names). */
export interface FunctionInfo {
  name: string;
  bindings: Record<string, RpcBindingInfo>;
}

/** Runs a registered function in the app's worker; rejects when the handler threw. */
export interface FunctionInvoker {
  invoke(functionName: string, request: RpcInvocationRequest): Promise<RpcInvocationResponse>;
}

/** Error raised by FunctionInvoker.invoke when the function itself failed. */
export class FunctionInvocationError extends Error {
  constructor(
    readonly functionName: string,
    message: string,
    readonly details?: string,
  ) {
    super(message);
    this.name = "FunctionInvocationError";
  }
}

export interface HostHttpRequest {
  method: string;
  /** Absolute URL as the client sent it (origin = the listener it arrived on). */
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
}

export interface HostHttpResponse {
  status: number;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Which listener a management request came in on: the public webhook routes or the rpc base. */
export type ManagementChannel = "webhook" | "rpc";
