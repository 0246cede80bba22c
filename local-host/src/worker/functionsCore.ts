// The `@azure/functions-core` seam: the module the real Node worker provides to `@azure/functions`
// at run time (it is not on npm). The library registers every `app.*` function through it and
// hands back a programming model that turns RPC invocation requests into handler calls. This
// module implements the same contract so the app can be loaded and invoked without Core Tools,
// following azure-functions-nodejs-worker's `setupCoreModule.ts` and `InvocationHandler.ts`.
import Module from "node:module";
import { randomUUID } from "node:crypto";

export type RpcLogLevel =
  "trace" | "debug" | "information" | "warning" | "error" | "critical" | "none";
export type RpcLogCategory = "user" | "system" | "customMetric";

export interface RpcTypedData {
  string?: string | null;
  json?: string | null;
  bytes?: Uint8Array | null;
  stream?: Uint8Array | null;
  http?: RpcHttpData | null;
  int?: number | null;
  double?: number | null;
  collectionString?: { string?: string[] | null } | null;
  collectionBytes?: { bytes?: Uint8Array[] | null } | null;
}

export interface RpcHttpCookie {
  name: string;
  value: string;
  domain?: { value: string } | null;
  path?: { value: string } | null;
  expires?: { value: { seconds: number } } | null;
  secure?: { value: boolean } | null;
  httpOnly?: { value: boolean } | null;
  sameSite?: string | null;
  maxAge?: { value: number } | null;
}

export interface RpcHttpData {
  method?: string | null;
  url?: string | null;
  headers?: Record<string, string> | null;
  body?: RpcTypedData | null;
  params?: Record<string, string> | null;
  statusCode?: string | null;
  query?: Record<string, string> | null;
  enableContentNegotiation?: boolean | null;
  cookies?: RpcHttpCookie[] | null;
  nullableHeaders?: Record<string, { value?: string | null }> | null;
  nullableParams?: Record<string, { value?: string | null }> | null;
  nullableQuery?: Record<string, { value?: string | null }> | null;
  identities?: unknown[] | null;
}

export interface RpcBindingInfo {
  type?: string | null;
  direction?: "in" | "out" | "inout" | null;
  dataType?: string | null;
  [option: string]: unknown;
}

export interface FunctionMetadata {
  name: string;
  functionId?: string;
  bindings: Record<string, RpcBindingInfo>;
  retryOptions?: unknown;
  properties?: Record<string, unknown>;
}

export interface RpcParameterBinding {
  name: string;
  data: RpcTypedData;
}

export interface RpcInvocationRequest {
  invocationId?: string;
  functionId?: string;
  inputData?: RpcParameterBinding[];
  triggerMetadata?: Record<string, RpcTypedData>;
  traceContext?: { traceParent?: string; traceState?: string; attributes?: Record<string, string> };
  retryContext?: { retryCount?: number; maxRetryCount?: number };
}

export interface RpcInvocationResponse {
  invocationId?: string;
  outputData?: RpcParameterBinding[];
  returnValue?: RpcTypedData | null;
}

export type FunctionCallback = (...args: unknown[]) => unknown;

interface CoreInvocationContext {
  invocationId: string;
  request: RpcInvocationRequest;
  metadata: FunctionMetadata;
  state?: "preInvocationHooks" | "postInvocationHooks" | "invocation";
  log(level: RpcLogLevel, category: RpcLogCategory, message: string): void;
}

interface InvocationModel {
  getArguments(): Promise<{ context: unknown; inputs: unknown[] }>;
  invokeFunction(context: unknown, inputs: unknown[], callback: FunctionCallback): Promise<unknown>;
  getResponse(context: unknown, result: unknown): Promise<RpcInvocationResponse>;
}

export interface ProgrammingModel {
  name: string;
  version: string;
  getInvocationModel(ctx: CoreInvocationContext): InvocationModel | Promise<InvocationModel>;
}

type HookName = "preInvocation" | "postInvocation" | "appStart" | "appTerminate" | "log";
type HookCallback = (context: Record<string, unknown>) => unknown;

export class Disposable {
  static from(...items: { dispose: () => unknown }[]): Disposable {
    return new Disposable(() => items.forEach((i) => i.dispose()));
  }
  #dispose: (() => unknown) | undefined;
  constructor(callOnDispose: () => unknown) {
    this.#dispose = callOnDispose;
  }
  dispose(): unknown {
    const fn = this.#dispose;
    this.#dispose = undefined;
    return fn?.();
  }
}

export interface RegisteredFunction {
  metadata: FunctionMetadata;
  callback: FunctionCallback;
}

export interface LogEntry {
  level: RpcLogLevel;
  category: RpcLogCategory;
  message: string;
  functionName?: string;
  invocationId?: string;
}

export interface FunctionsCoreOptions {
  hostVersion?: string;
  /** Receives every log line: the app's `context.log` calls and system messages. */
  onLog?: (entry: LogEntry) => void;
}

/**
 * One instance of the core API plus the registry it fills. `api` is what
 * `require('@azure/functions-core')` must return; `invoke` runs a registered function the way the
 * worker's InvocationHandler does (programming model → hooks → handler → response).
 */
export class FunctionsCore {
  readonly functions = new Map<string, RegisteredFunction>();
  readonly appHookData: Record<string, unknown> = {};
  programmingModel: ProgrammingModel | undefined;
  readonly #hooks = new Map<HookName, HookCallback[]>();
  readonly #onLog: (entry: LogEntry) => void;
  readonly api: Record<string, unknown>;

  constructor(options: FunctionsCoreOptions = {}) {
    this.#onLog = options.onLog ?? (() => undefined);
    this.api = {
      version: "4.0.0-localhost",
      hostVersion: options.hostVersion ?? "4.1040.0-localhost",
      registerFunction: (metadata: FunctionMetadata, callback: FunctionCallback) =>
        this.#register(metadata, callback),
      registerHook: (name: HookName, callback: HookCallback) => this.#registerHook(name, callback),
      setProgrammingModel: (model: ProgrammingModel) => {
        this.programmingModel = model;
      },
      getProgrammingModel: () => this.programmingModel,
      log: (level: RpcLogLevel, category: RpcLogCategory, message: string) =>
        this.#onLog({ level, category, message }),
      Disposable,
    };
  }

  /** Intercepts `require('@azure/functions-core')` for plain Node, as the real worker does. */
  installAsModule(): void {
    const api = this.api;
    const proto = Module.prototype as unknown as { require: (id: string) => unknown };
    proto.require = new Proxy(proto.require, {
      apply(target, thisArg, args: unknown[]) {
        if (args[0] === "@azure/functions-core") return api;
        return Reflect.apply(target, thisArg, args);
      },
    });
  }

  get(name: string): RegisteredFunction {
    const fn = this.functions.get(name.toLowerCase());
    if (!fn) throw new Error(`Function '${name}' is not registered.`);
    return fn;
  }

  /** The binding (name and info) of the function's trigger. */
  triggerOf(name: string): { name: string; info: RpcBindingInfo } {
    const { metadata } = this.get(name);
    for (const [bindingName, info] of Object.entries(metadata.bindings)) {
      if (info.direction === "in" && /trigger$/i.test(String(info.type))) {
        return { name: bindingName, info };
      }
    }
    throw new Error(`Function '${name}' has no trigger binding.`);
  }

  async runAppHooks(
    name: "appStart" | "appTerminate",
    functionAppDirectory: string,
  ): Promise<void> {
    for (const hook of this.#hooks.get(name) ?? []) {
      await hook({ hookData: {}, appHookData: this.appHookData, functionAppDirectory });
    }
  }

  async invoke(name: string, request: RpcInvocationRequest): Promise<RpcInvocationResponse> {
    const registered = this.get(name);
    const model = this.programmingModel;
    if (!model) throw new Error("No programming model was set: was @azure/functions loaded?");
    const invocationId = request.invocationId ?? randomUUID();
    const functionName = registered.metadata.name;
    const coreCtx: CoreInvocationContext = {
      invocationId,
      request: { ...request, invocationId, functionId: registered.metadata.functionId ?? name },
      metadata: registered.metadata,
      log: (level, category, message) =>
        this.#emitLog({ level, category, message, functionName, invocationId }),
    };
    const invocationModel = await model.getInvocationModel(coreCtx);
    const hookData: Record<string, unknown> = {};
    const args = await invocationModel.getArguments();
    const pre = {
      hookData,
      appHookData: this.appHookData,
      invocationContext: args.context,
      inputs: args.inputs,
      functionCallback: registered.callback,
    };
    coreCtx.state = "preInvocationHooks";
    for (const hook of this.#hooks.get("preInvocation") ?? []) await hook(pre);
    const post: Record<string, unknown> = {
      hookData,
      appHookData: this.appHookData,
      invocationContext: args.context,
      inputs: pre.inputs,
      result: null,
      error: null,
    };
    coreCtx.state = "invocation";
    try {
      post.result = await invocationModel.invokeFunction(
        args.context,
        pre.inputs,
        pre.functionCallback,
      );
    } catch (err) {
      post.error = err;
    }
    coreCtx.state = "postInvocationHooks";
    for (const hook of this.#hooks.get("postInvocation") ?? []) await hook(post);
    coreCtx.state = undefined;
    if (post.error) throw post.error;
    return invocationModel.getResponse(args.context, post.result);
  }

  #register(metadata: FunctionMetadata, callback: FunctionCallback): Disposable {
    const key = metadata.name.toLowerCase();
    if (this.functions.has(key)) {
      throw new Error(`A function with the name '${metadata.name}' has already been registered.`);
    }
    this.functions.set(key, { metadata, callback });
    return new Disposable(() => this.functions.delete(key));
  }

  #registerHook(name: HookName, callback: HookCallback): Disposable {
    const list = this.#hooks.get(name) ?? [];
    list.push(callback);
    this.#hooks.set(name, list);
    return new Disposable(() => list.splice(list.indexOf(callback), 1));
  }

  #emitLog(entry: LogEntry): void {
    const hooks = this.#hooks.get("log") ?? [];
    if (hooks.length > 0 && entry.category === "user") {
      const ctx = { hookData: {}, appHookData: this.appHookData, ...entry };
      for (const hook of hooks) hook(ctx);
      entry = { ...entry, level: ctx.level, message: ctx.message };
    }
    this.#onLog(entry);
  }
}

/** Typed-data helpers used when building invocation requests. */
export const typedData = {
  json: (value: unknown): RpcTypedData => ({ json: JSON.stringify(value ?? null) }),
  string: (value: string): RpcTypedData => ({ string: value }),
  bytes: (value: Uint8Array): RpcTypedData => ({ bytes: value }),
};

/** Decodes a typed-data value the way the programming model does (string → JSON when possible). */
export function fromTypedData(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.string !== undefined && data.string !== null) {
    try {
      return JSON.parse(data.string);
    } catch {
      return data.string;
    }
  }
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  if (data.int !== undefined && data.int !== null) return data.int;
  if (data.double !== undefined && data.double !== null) return data.double;
  if (data.http) return data.http;
  return undefined;
}
