// The public HTTP listener: routes requests to HTTP-triggered functions by their route
// templates (with the host.json route prefix), enforces keys when asked, hands the durable
// management routes to the engine and writes the function's RpcHttpData back as the response.
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import {
  FunctionInvocationError,
  type FunctionInfo,
  type FunctionInvoker,
  type HostHttpRequest,
  type HostHttpResponse,
} from "../contracts";
import type { RpcBindingInfo, RpcParameterBinding } from "../worker/functionsCore";
import { authorizes, presentedKey, type AuthLevel, type HostKeys } from "../keys";
import { compareRoutes, compileRoute, fullRoute, matchRoute, type CompiledRoute } from "./routes";
import {
  fromRpcHttpResponse,
  headersOf,
  toRpcHttpRequest,
  type ShellHttpResponse,
} from "./convert";
import type { HostLog } from "../worker/process";
import { fromHeaders } from "../telemetry/traceContext";

/** The Functions host's default request body limit (104857600 bytes). */
export const DEFAULT_MAX_REQUEST_BODY_SIZE = 100 * 1024 * 1024;

export const DURABLE_WEBHOOK_PREFIX = "runtime/webhooks/durabletask";

export interface HttpRoute {
  functionName: string;
  route: CompiledRoute;
  /** Upper-case methods; undefined = any method. */
  methods?: string[];
  authLevel: AuthLevel;
  triggerName: string;
  /** Name of the http output binding ($return unless the app named another). */
  outputName?: string;
}

export function httpRoutes(functions: FunctionInfo[], routePrefix: string): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const fn of functions) {
    const trigger = Object.entries(fn.bindings).find(
      ([, b]) => String(b.type).toLowerCase() === "httptrigger",
    );
    if (!trigger) continue;
    const [triggerName, info] = trigger;
    const output = Object.entries(fn.bindings).find(
      ([, b]) => b.direction === "out" && String(b.type).toLowerCase() === "http",
    );
    const route = typeof info.route === "string" && info.route !== "" ? info.route : fn.name;
    const methods = Array.isArray(info.methods)
      ? (info.methods as unknown[]).map((m) => String(m).toUpperCase())
      : undefined;
    const level = String(info.authLevel ?? "function").toLowerCase();
    routes.push({
      functionName: fn.name,
      route: compileRoute(fullRoute(routePrefix, route)),
      methods: methods && methods.length > 0 ? methods : undefined,
      authLevel: (["anonymous", "function", "admin"].includes(level)
        ? level
        : "function") as AuthLevel,
      triggerName,
      outputName: output?.[0],
    });
  }
  return routes.sort((a, b) => compareRoutes(a.route, b.route));
}

export interface HttpServerOptions {
  functions: FunctionInfo[];
  routePrefix: string;
  invoker: FunctionInvoker;
  maxRequestBodySize?: number;
  /** Present when keys are enforced. */
  keys?: HostKeys;
  /** Extra input bindings for an invocation (e.g. durableClient). */
  extraInputs?: (
    fn: FunctionInfo,
    binding: [string, RpcBindingInfo],
  ) => RpcParameterBinding | undefined;
  /** Durable management webhook routes; undefined response = not a management route. */
  management?: (req: HostHttpRequest) => Promise<HostHttpResponse | undefined>;
  log: HostLog;
}

class PayloadTooLarge extends Error {}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new PayloadTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new PayloadTooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (!failed) resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

function send(res: ServerResponse, response: ShellHttpResponse): void {
  if (res.headersSent || res.destroyed) return;
  for (const [name, value] of Object.entries(response.headers)) {
    try {
      res.setHeader(name, value);
    } catch {
      // An invalid header name/value from the app is dropped rather than failing the response.
    }
  }
  if (response.setCookies.length > 0) res.setHeader("Set-Cookie", response.setCookies);
  res.statusCode = response.status;
  const noBody = response.status === 204 || response.status === 304 || res.req.method === "HEAD";
  res.end(noBody ? undefined : response.body);
}

function plain(status: number, text = "", headers: Record<string, string> = {}): ShellHttpResponse {
  return {
    status,
    headers: text ? { "Content-Type": "text/plain; charset=utf-8", ...headers } : headers,
    setCookies: [],
    body: Buffer.from(text),
  };
}

function fromHostResponse(response: HostHttpResponse): ShellHttpResponse {
  const body = response.body;
  return {
    status: response.status,
    headers: response.headers ?? {},
    setCookies: [],
    body: typeof body === "string" ? Buffer.from(body) : (body ?? Buffer.alloc(0)),
  };
}

export function createRequestHandler(options: HttpServerOptions) {
  const routes = httpRoutes(options.functions, options.routePrefix);
  const byName = new Map(options.functions.map((f) => [f.name, f]));
  const limit = options.maxRequestBodySize ?? DEFAULT_MAX_REQUEST_BODY_SIZE;
  const log = options.log;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? "GET").toUpperCase();
    const hostHeader = req.headers.host ?? `localhost:${(req.socket.localPort ?? 0).toString()}`;
    const url = new URL(req.url ?? "/", `http://${hostHeader}`);
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      if (err instanceof PayloadTooLarge) {
        // Close the connection: the rest of the oversized body is not read.
        res.setHeader("Connection", "close");
        send(res, plain(413, "Request body too large."));
        req.resume();
        return;
      }
      throw err;
    }
    const headers = headersOf(req);
    const path = url.pathname.replace(/^\/+/, "");
    const key = presentedKey(headers, url);
    const keys = options.keys;

    if (
      path.toLowerCase() === DURABLE_WEBHOOK_PREFIX ||
      path.toLowerCase().startsWith(`${DURABLE_WEBHOOK_PREFIX}/`)
    ) {
      if (keys && !authorizes(keys, "system", key)) return send(res, plain(401));
      const response = options.management
        ? await options.management({ method, url, headers, body })
        : undefined;
      if (!response) return send(res, plain(404));
      return send(res, fromHostResponse(response));
    }
    if (path.toLowerCase() === "admin/host/status") {
      if (keys && !authorizes(keys, "admin", key)) return send(res, plain(401));
      return send(res, {
        status: 200,
        headers: { "Content-Type": "application/json; charset=utf-8" },
        setCookies: [],
        body: Buffer.from(JSON.stringify({ state: "Running", version: "4.x-localhost" })),
      });
    }

    for (const route of routes) {
      if (route.methods && !route.methods.includes(method === "HEAD" ? "GET" : method)) {
        if (!(method === "HEAD" && route.methods.includes("HEAD"))) continue;
      }
      const params = matchRoute(route.route, path);
      if (!params) continue;
      if (keys && !authorizes(keys, route.authLevel, key)) return send(res, plain(401));
      const fn = byName.get(route.functionName)!;
      const inputData: RpcParameterBinding[] = [
        {
          name: route.triggerName,
          data: { http: toRpcHttpRequest({ method, url, headers, body, params }) },
        },
      ];
      for (const binding of Object.entries(fn.bindings)) {
        if (binding[0] === route.triggerName || binding[1].direction !== "in") continue;
        const extra = options.extraInputs?.(fn, binding);
        if (extra) inputData.push(extra);
      }
      const invocationId = randomUUID();
      const started = Date.now();
      log(
        "info",
        `Executing 'Functions.${fn.name}' (Reason='This function was programmatically called via the host APIs.', Id=${invocationId})`,
      );
      try {
        const traceContext = fromHeaders(headers);
        const response = await options.invoker.invoke(fn.name, {
          invocationId,
          inputData,
          ...(traceContext ? { traceContext } : {}),
        });
        const out =
          route.outputName === "$return" || route.outputName === undefined
            ? response.returnValue
            : response.outputData?.find((o) => o.name === route.outputName)?.data;
        log(
          "info",
          `Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`,
        );
        return send(res, fromRpcHttpResponse(out?.http));
      } catch (err) {
        const detail =
          err instanceof FunctionInvocationError ? (err.details ?? err.message) : String(err);
        log(
          "error",
          `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms)\n${detail}`,
        );
        // Like the host: the client gets a bare 500, never the exception or its stack.
        return send(res, plain(500));
      }
    }
    if (path === "" && method === "GET") {
      return send(res, plain(200, "Your Functions 4.0 app is up and running (local host)."));
    }
    send(res, plain(404));
  }

  return (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      log(
        "error",
        `Request ${req.method} ${req.url} failed in the host: ${(err as Error).stack ?? String(err)}`,
      );
      send(res, plain(500));
    });
  };
}

export interface Listener {
  port: number;
  close(): Promise<void>;
  /** Stops accepting new connections and resolves when the open requests are done. */
  drain(timeoutMs: number): Promise<void>;
}

/**
 * Listens on the loopback addresses only. "localhost" resolves to 127.0.0.1 and ::1; both are
 * bound (same port) so any client's resolution order works.
 */
export async function listenLocalhost(
  handler: http.RequestListener,
  port: number,
  addresses: string[] = ["127.0.0.1", "::1"],
): Promise<Listener> {
  const servers: http.Server[] = [];
  let actual = port;
  for (const [i, address] of addresses.entries()) {
    const server = http.createServer(handler);
    server.keepAliveTimeout = 5000;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(actual, address, () => {
          server.off("error", reject);
          resolve();
        });
      });
    } catch (err) {
      // The first address is required; the second (IPv6) is best effort.
      if (i === 0) throw err;
      continue;
    }
    if (i === 0) actual = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  const closeAll = () =>
    Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeIdleConnections();
          }),
      ),
    ).then(() => undefined);
  return {
    port: actual,
    close: async () => {
      for (const s of servers) s.closeAllConnections();
      await closeAll();
    },
    drain: async (timeoutMs) => {
      const timer = setTimeout(() => servers.forEach((s) => s.closeAllConnections()), timeoutMs);
      await closeAll();
      clearTimeout(timer);
    },
  };
}

/**
 * The durable extension's internal rpc listener (the real one is on 127.0.0.1:17071): the
 * DurableClient in the worker calls it for every management operation. Loopback only, no keys.
 */
export function createRpcHandler(
  handle: (req: HostHttpRequest) => Promise<HostHttpResponse | undefined>,
  log: HostLog,
  maxRequestBodySize = DEFAULT_MAX_REQUEST_BODY_SIZE,
) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const method = (req.method ?? "GET").toUpperCase();
      const url = new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
      let body: Buffer;
      try {
        body = await readBody(req, maxRequestBodySize);
      } catch (err) {
        if (!(err instanceof PayloadTooLarge)) throw err;
        res.setHeader("Connection", "close");
        send(res, plain(413, "Request body too large."));
        req.resume();
        return;
      }
      const response = await handle({ method, url, headers: headersOf(req), body });
      if (!response) return send(res, plain(404));
      send(res, fromHostResponse(response));
    })().catch((err: unknown) => {
      log("error", `rpc ${req.method} ${req.url} failed: ${(err as Error).stack ?? String(err)}`);
      send(res, plain(500));
    });
  };
}
