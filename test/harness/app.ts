// Loads the app (src/index.ts, exactly what package.json "main" runs) under a FunctionsCore that
// stands in for the Node worker's `@azure/functions-core`, and invokes registered functions the
// way the worker does (RPC invocation request → programming model → handler → RPC response).
// Importing this module registers the jest virtual mock, so import it before anything that
// registers functions; call loadApp() once per test file.
import {
  FunctionsCore,
  fromTypedData,
  type FunctionMetadata,
  type LogEntry,
  type RpcBindingInfo,
  type RpcParameterBinding,
  type RpcTypedData,
} from "../../local-host/src/worker/functionsCore";

export const logs: LogEntry[] = [];
export const mockCore = new FunctionsCore({ onLog: (entry) => logs.push(entry) });
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

let loaded = false;

/** Requires src/index.ts once (registrations happen on import). */
export function loadApp(): FunctionsCore {
  if (!loaded) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require("../../src/index");
    loaded = true;
  }
  return mockCore;
}

export interface Registration {
  name: string;
  trigger: RpcBindingInfo & { name: string };
  /** Every binding except the trigger and the HTTP return binding. */
  inputs: RpcBindingInfo[];
  metadata: FunctionMetadata;
}

export function registrations(): Registration[] {
  return [...mockCore.functions.values()].map(({ metadata }) => {
    const trigger = mockCore.triggerOf(metadata.name);
    const inputs = Object.entries(metadata.bindings)
      .filter(([name, b]) => name !== trigger.name && b.direction === "in")
      .map(([, b]) => b);
    return {
      name: metadata.name,
      trigger: { ...trigger.info, name: trigger.name },
      inputs,
      metadata,
    };
  });
}

function durableClientBindingName(metadata: FunctionMetadata): string | undefined {
  return Object.entries(metadata.bindings).find(([, b]) => b.type === "durableClient")?.[0];
}

/** Payload to pass as the durableClient input binding (what the Durable extension provides). */
let clientBinding: Record<string, unknown> | undefined;
export function setDurableClientBinding(binding: Record<string, unknown> | undefined): void {
  clientBinding = binding;
}

function extraInputs(metadata: FunctionMetadata): RpcParameterBinding[] {
  const name = durableClientBindingName(metadata);
  if (!name) return [];
  if (!clientBinding)
    throw new Error("setDurableClientBinding() first: this function needs a client");
  return [{ name, data: { string: JSON.stringify(clientBinding) } }];
}

/** Matches a route template ("orders/{orderId}/status") against a path; params or undefined. */
export function matchRoute(template: string, path: string): Record<string, string> | undefined {
  const t = template.split("/").filter(Boolean);
  const p = path.split("/").filter(Boolean);
  if (t.length !== p.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < t.length; i++) {
    const m = /^\{(\w+)\}$/.exec(t[i]);
    if (m) params[m[1]] = decodeURIComponent(p[i]);
    else if (t[i].toLowerCase() !== p[i].toLowerCase()) return undefined;
  }
  return params;
}

export interface HttpCall {
  method: string;
  /** Path after /api, with a query string if any, e.g. "/orders?limit=2". */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

export interface HttpResult {
  functionName: string;
  method: string;
  /** The route template that answered, e.g. "orders/{orderId}". */
  route: string;
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

export const BASE_URL = "http://localhost:7071";

/** Routes a request like the host (method + route template), invokes the function, decodes. */
export async function invokeHttp(call: HttpCall): Promise<HttpResult> {
  const url = new URL(`/api${call.path}`, BASE_URL);
  const routePath = url.pathname.replace(/^\/api/, "");
  const candidates = registrations().filter((r) => r.trigger.type === "httpTrigger");
  // Literal routes first ("orders/x/status" before "orders/{orderId}"), as the host orders them.
  candidates.sort(
    (a, b) => String(b.trigger.route).split("/").length - String(a.trigger.route).split("/").length,
  );
  for (const r of candidates) {
    const methods = (r.trigger.methods as string[] | undefined) ?? [];
    const params = matchRoute(String(r.trigger.route), routePath);
    if (!params || !methods.map((m) => m.toUpperCase()).includes(call.method.toUpperCase()))
      continue;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(call.headers ?? {})) headers[k.toLowerCase()] = v;
    const body: RpcTypedData | undefined =
      call.body === undefined
        ? undefined
        : typeof call.body === "string"
          ? { string: call.body }
          : { bytes: call.body };
    if (call.body !== undefined && headers["content-length"] === undefined) {
      headers["content-length"] = String(Buffer.byteLength(call.body));
    }
    const response = await mockCore.invoke(r.name, {
      inputData: [
        {
          name: r.trigger.name,
          data: {
            http: {
              method: call.method,
              url: url.href,
              headers,
              query: Object.fromEntries(url.searchParams),
              params,
              body,
            },
          },
        },
        ...extraInputs(r.metadata),
      ],
    });
    const http = response.returnValue?.http;
    if (!http) throw new Error(`${r.name} returned no HTTP response`);
    const bytes = http.body?.bytes
      ? Buffer.from(http.body.bytes)
      : Buffer.from(http.body?.string ?? "");
    const text = bytes.toString("utf8");
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return {
      functionName: r.name,
      method: call.method.toUpperCase(),
      route: String(r.trigger.route),
      status: Number(http.statusCode),
      headers: Object.fromEntries(
        Object.entries(http.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
      ),
      text,
      json,
    };
  }
  throw new Error(`No function answers ${call.method} ${call.path}`);
}

/** Delivers one Service Bus message to a queue-triggered function (resolves = completed). */
export async function invokeServiceBus(
  functionName: string,
  body: unknown,
  metadata: { messageId?: string; deliveryCount?: number; enqueuedTimeUtc?: string } = {},
): Promise<unknown> {
  const registration = registrations().find((r) => r.name === functionName);
  if (!registration) throw new Error(`${functionName} is not registered`);
  const data: RpcTypedData =
    typeof body === "string"
      ? { string: body }
      : body instanceof Uint8Array
        ? { bytes: body }
        : { json: JSON.stringify(body) };
  const triggerMetadata: Record<string, RpcTypedData> = {};
  if (metadata.messageId) triggerMetadata.MessageId = { string: metadata.messageId };
  triggerMetadata.DeliveryCount = { int: metadata.deliveryCount ?? 1 };
  triggerMetadata.EnqueuedTimeUtc = {
    json: JSON.stringify(metadata.enqueuedTimeUtc ?? new Date().toISOString()),
  };
  const response = await mockCore.invoke(functionName, {
    inputData: [{ name: registration.trigger.name, data }, ...extraInputs(registration.metadata)],
    triggerMetadata,
  });
  return fromTypedData(response.returnValue);
}
