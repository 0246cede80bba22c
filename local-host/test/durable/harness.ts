// In-process harness for engine tests: the app's functions run through FunctionsCore (the jest
// virtual @azure/functions-core mock set up by each test file), and a node:http server routes the
// webhook and rpc bases to handleManagementRequest so the real DurableClient can talk to it.
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as df from "durable-functions";
import {
  FunctionInvocationError,
  type FunctionInfo,
  type FunctionInvoker,
} from "../../src/contracts";
import {
  DurableEngine,
  handleManagementRequest,
  type DurableEngineOptions,
} from "../../src/durable";
import type { FunctionsCore } from "../../src/worker/functionsCore";

export interface Harness {
  engine: DurableEngine;
  baseUrl: string;
  dataDir: string;
  client: df.DurableClient;
  /** Reopens the engine on the same data dir (after close/abandon). */
  reopen(extra?: Partial<DurableEngineOptions>): Promise<DurableEngine>;
  close(): Promise<void>;
  request(
    method: string,
    urlPath: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<{
    status: number;
    headers: Headers;
    body: unknown;
    text: string;
  }>;
  invocations: string[];
}

export function functionsOf(core: FunctionsCore): FunctionInfo[] {
  return [...core.functions.values()].map((f) => ({
    name: f.metadata.name,
    bindings: f.metadata.bindings,
  }));
}

export function invokerOf(core: FunctionsCore, invocations: string[] = []): FunctionInvoker {
  return {
    async invoke(name, request) {
      invocations.push(name);
      try {
        return await core.invoke(name, request);
      } catch (err) {
        const e = err as Error;
        throw new FunctionInvocationError(name, e?.message ?? String(err), e?.stack);
      }
    },
  };
}

export function tempDir(prefix = "durable-engine-"): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function startHarness(
  core: FunctionsCore,
  options: Partial<DurableEngineOptions> & { dataDir?: string } = {},
): Promise<Harness> {
  const dataDir = options.dataDir ?? tempDir();
  const invocations: string[] = [];
  let engine: DurableEngine | undefined;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", `http://${req.headers.host}`);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers[k] = v;
      const channel = url.pathname.startsWith("/durabletask") ? "rpc" : "webhook";
      const current = engine;
      if (!current) {
        res.writeHead(503).end();
        return;
      }
      handleManagementRequest(
        current,
        { method: req.method ?? "GET", url, headers, body: Buffer.concat(chunks) },
        channel,
      )
        .then((out) => {
          if (!out) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(out.status, out.headers ?? {});
          res.end(out.body ?? "");
        })
        .catch((err: unknown) => {
          res.writeHead(500).end(String(err));
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const baseUrl = `http://127.0.0.1:${port}`;
  process.env.WEBSITE_HOSTNAME = `127.0.0.1:${port}`;
  const open = async (extra: Partial<DurableEngineOptions> = {}) => {
    engine = await DurableEngine.open({
      dataDir,
      taskHub: "TestHub",
      functions: functionsOf(core),
      invoker: invokerOf(core, invocations),
      publicBaseUrl: baseUrl,
      rpcBaseUrl: `${baseUrl}/durabletask/`,
      fsync: false,
      ...options,
      ...extra,
    });
    engine.start();
    return engine;
  };
  await open();
  const clientInput = df.input.durableClient();
  const h: Harness = {
    get engine() {
      return engine!;
    },
    baseUrl,
    dataDir,
    get client() {
      const data = engine!.clientBindingData();
      return df.getClient({
        options: { extraInputs: [clientInput] },
        extraInputs: { get: () => data },
      } as never);
    },
    reopen: open,
    invocations,
    async close() {
      await engine?.stop().catch(() => undefined);
      await new Promise<void>((resolve) => server.close(() => resolve()));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
    async request(method, urlPath, body, headers = {}) {
      const init: RequestInit = { method, headers: { ...headers } };
      if (body !== undefined) {
        init.body = typeof body === "string" ? body : JSON.stringify(body);
        (init.headers as Record<string, string>)["content-type"] ??= "application/json";
      }
      const res = await fetch(urlPath.startsWith("http") ? urlPath : `${baseUrl}${urlPath}`, init);
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        parsed = text;
      }
      return { status: res.status, headers: res.headers, body: parsed, text };
    },
  };
  return h;
}

/** Polls until the instance is terminal; returns its status payload via the client. */
export async function waitDone(
  h: Harness,
  instanceId: string,
  timeoutMs = 10_000,
): Promise<df.DurableOrchestrationStatus> {
  const inst = await h.engine.waitForCompletion(instanceId, timeoutMs);
  if (!inst) throw new Error(`instance ${instanceId} not found`);
  return h.client.getStatus(instanceId, { showHistory: true, showHistoryOutput: true });
}

/** Waits until `predicate` holds (polling the engine state). */
export async function until(
  predicate: () => boolean,
  timeoutMs = 10_000,
  label = "condition",
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
