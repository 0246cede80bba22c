/**
 * Engine against a peer, in the same run (`npm run bench -- peer`): the six-step no-op workflow
 * (save, charge, three parallel notifications, complete) on the local host (bench/noop-app) —
 * awaited through the SDK's `waitForCompletionOrCreateCheckStatusResponse` and through the host's
 * start-and-wait route — and on Restate (server + TypeScript SDK from bench/peer, installed here
 * on first use). Same undici load generator for all: workflows/s at 32 and 128 connections
 * (closed loop), p50/p99 at a paced 50/s and at other offered rates (open loop, for the chart),
 * CPU per workflow by process, status reads per workflow, and the ratios to Restate.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { startHost, readCounters, countersPer, ROOT } from "./lib/host";
import { closedLoop, httpPool, openLoop, type Http, type RunResult } from "./lib/load";
import { cpuPer, peakRssMiB, sampleCpu, totalUnderTest, type CpuSample } from "./lib/proc";
import { round, steadyRate, type Percentiles } from "./lib/stats";
import type { BenchContext } from "./lib/context";

const PEER_DIR = path.join(ROOT, "bench", "peer");
const RESTATE_BIN = path.join(
  PEER_DIR,
  "node_modules",
  "@restatedev",
  `restate-server-${os.platform()}-${os.arch()}`,
  "bin",
  "restate-server",
);

export interface EngineFigures {
  engine: string;
  /** Completed workflows/s in a closed loop, by connections. */
  throughput: Record<string, number>;
  /** Latency at offered rates (open loop), by rate. */
  latency: Record<string, Percentiles & { achieved: number; errors: number; unfinished: number }>;
  /** CPU ms per workflow by process at 128 connections (loadgen apart). */
  cpuMsPerWorkflow: CpuSample & { total: number };
  /** Host counters per workflow at 128 connections (status reads, invocations, fsyncs). */
  perWorkflow?: Record<string, number>;
  peakRssMiB: Record<string, number>;
  errors: number;
}

/** Host CPU per status read (the SDK's poll: GET {rpc}/instances/{id}, no query), 16 connections. */
export interface StatusReadFigures {
  readsPerSec: number;
  latency: Percentiles;
  hostCpuMsPerRead: number;
  instance: "Running" | "Completed";
}

export interface PeerFigures {
  statusRead?: StatusReadFigures[];
  connections: number[];
  rates: number[];
  seconds: number;
  engines: EngineFigures[];
  /** Local-host variant ÷ Restate: throughput at each connection count, p99 at 50/s. */
  ratios: Record<string, Record<string, number>>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Installs bench/peer (Restate) once; the root `npm ci` never does. */
function ensurePeerInstalled(): void {
  if (fs.existsSync(RESTATE_BIN)) return;
  console.log("peer: installing bench/peer (Restate server + SDK) ...");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts"], {
    cwd: PEER_DIR,
    stdio: "inherit",
  });
  if (r.status !== 0 || !fs.existsSync(RESTATE_BIN)) {
    throw new Error(`npm ci in ${PEER_DIR} failed; is the npm registry reachable?`);
  }
}

interface Target {
  name: string;
  origin: string;
  send(http: Http): Promise<void>;
  pids(): Record<string, number | undefined>;
  counters?(): Promise<Record<string, Record<string, number>>>;
}

async function expectOk(http: Http, path: string, body: string): Promise<void> {
  const r = await http.request("POST", path, {
    headers: { "content-type": "application/json" },
    body,
  });
  if (r.status !== 200)
    throw new Error(`POST ${path} answered ${r.status}: ${r.text.slice(0, 200)}`);
}

async function measure(target: Target, ctx: Settings): Promise<EngineFigures> {
  const out: EngineFigures = {
    engine: target.name,
    throughput: {},
    latency: {},
    cpuMsPerWorkflow: { total: NaN },
    peakRssMiB: {},
    errors: 0,
  };
  const pool = httpPool(target.origin, Math.max(...ctx.connections));
  const one = () => target.send(pool);
  try {
    await closedLoop(32, ctx.warmupMs, one); // JIT, connections
    for (const c of ctx.connections) {
      const before = sampleCpu(target.pids());
      const countersBefore = await target.counters?.();
      const r = await closedLoop(c, ctx.seconds * 1000, one);
      check(target.name, `${c} connections`, r);
      out.errors += r.errors;
      out.throughput[String(c)] = round(steadyRate(r.completedAt, 0.1));
      if (c === Math.max(...ctx.connections)) {
        const per = cpuPer(before, sampleCpu(target.pids()), r.done);
        out.cpuMsPerWorkflow = { ...roundAll(per), total: round(totalUnderTest(per)) };
        if (target.counters && countersBefore) {
          out.perWorkflow = roundAll(countersPer(countersBefore, await target.counters(), r.done));
        }
      }
    }
    for (const rate of ctx.rates) {
      // Past saturation the backlog would take minutes to drain: give up 10 s after the schedule.
      const r = await openLoop(rate, ctx.seconds * 1000, one, 10_000);
      check(target.name, `${rate}/s`, r);
      out.errors += r.errors;
      out.latency[String(rate)] = {
        ...roundAll(r.latency),
        achieved: round(r.perSecond),
        errors: r.errors,
        unfinished: r.unfinished,
      };
    }
    for (const [role, pid] of Object.entries(target.pids())) {
      const rss = pid === undefined ? undefined : peakRssMiB(pid);
      if (rss !== undefined) out.peakRssMiB[role] = round(rss);
    }
  } finally {
    await pool.close();
  }
  return out;
}

function check(engine: string, level: string, r: RunResult): void {
  if (r.errors > 0)
    console.log(`  ${engine} at ${level}: ${r.errors} errors, first: ${r.firstError}`);
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? round(v) : v]),
  ) as T;
}

interface Settings {
  connections: number[];
  rates: number[];
  seconds: number;
  warmupMs: number;
}

/**
 * `variants`: "sdk", "start-and-wait" (default both). `caps` sets both durable concurrency caps
 * through the host's AzureFunctionsJobHost__ overrides (the sweep behind the defaults); the app's
 * host.json stays as it is.
 */
async function localHost(
  settings: Settings,
  variants?: string[],
  caps?: string,
): Promise<EngineFigures[]> {
  const prefix = "AzureFunctionsJobHost__extensions__durableTask__";
  const host = await startHost({
    app: path.join(ROOT, "bench", "noop-app"),
    env: caps
      ? {
          [`${prefix}maxConcurrentActivityFunctions`]: caps,
          [`${prefix}maxConcurrentOrchestratorFunctions`]: caps,
        }
      : {},
  });
  try {
    const { baseUrl, apiBaseUrl, pids } = host.endpoints;
    const apiPath = new URL(apiBaseUrl).pathname.replace(/\/$/, "");
    const common = {
      origin: baseUrl,
      pids: () => ({ host: pids.host, worker: pids.worker, emulators: pids.emulators }),
      counters: () => readCounters(host.countersDir),
    };
    const body = JSON.stringify({ n: 1 });
    const sdk: Target = {
      ...common,
      name: "local host, SDK wait-or-status (polls every 5 ms)",
      send: (http) => expectOk(http, `${apiPath}/workflows/sdk`, body),
    };
    const startAndWait: Target = {
      ...common,
      name: "local host, start-and-wait route",
      send: (http) =>
        expectOk(
          http,
          "/runtime/webhooks/durabletask/orchestrators/noopWorkflow?timeout=60&pollingInterval=1",
          body,
        ),
    };
    const figures: EngineFigures[] = [];
    statusReads = await statusReadCost(host.endpoints, settings);
    const chosen = [
      ["sdk", sdk],
      ["start-and-wait", startAndWait],
    ] as const;
    for (const [key, t] of chosen) {
      if (variants && !variants.includes(key)) continue;
      console.log(`peer: ${t.name} ...`);
      figures.push(await measure(t, settings));
    }
    return figures;
  } finally {
    await host.stop();
  }
}

let statusReads: StatusReadFigures[] | undefined;

/**
 * What one status read costs the host, measured alone: 16 connections GET the rpc status URL of
 * one completed instance as the SDK's wait loop does (no query string).
 */
async function statusReadCost(
  endpoints: { baseUrl: string; rpcBaseUrl: string; pids: { host: number } },
  settings: Settings,
): Promise<StatusReadFigures[]> {
  const web = httpPool(endpoints.baseUrl, 1);
  const started = await web.request(
    "POST",
    "/runtime/webhooks/durabletask/orchestrators/noopWorkflow?timeout=30&pollingInterval=1",
    { headers: { "content-type": "application/json" }, body: "{}" },
  );
  await web.close();
  if (started.status !== 200) throw new Error(`noopWorkflow answered ${started.status}`);
  const rpc = new URL(endpoints.rpcBaseUrl);
  const pool = httpPool(rpc.origin, 16);
  const out: StatusReadFigures[] = [];
  try {
    // An instance id: the newest one the listing returns.
    const list = await pool.request("GET", `${rpc.pathname}instances?top=1`);
    const [first] = JSON.parse(list.text) as { instanceId: string }[];
    const path = `${rpc.pathname}instances/${encodeURIComponent(first.instanceId)}`;
    const read = async () => {
      const r = await pool.request("GET", path);
      if (r.status !== 200) throw new Error(`status read answered ${r.status}`);
    };
    await closedLoop(16, 1000, read);
    const before = sampleCpu({ host: endpoints.pids.host });
    const r = await closedLoop(16, settings.seconds * 1000, read);
    const per = cpuPer(before, sampleCpu({ host: endpoints.pids.host }), r.done);
    out.push({
      instance: "Completed",
      readsPerSec: round(r.perSecond),
      latency: roundAll(r.latency),
      hostCpuMsPerRead: round(per.host),
    });
  } finally {
    await pool.close();
  }
  return out;
}

async function restate(settings: Settings): Promise<EngineFigures> {
  ensurePeerInstalled();
  const dir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "bench-restate-"));
  const [fabric, admin, pgsql, ingress, service] = await Promise.all(
    Array.from({ length: 5 }, freePort),
  );
  fs.writeFileSync(
    path.join(dir, "restate.toml"),
    [
      `bind-port = ${fabric}`,
      "[admin]",
      `bind-address = "127.0.0.1:${admin}"`,
      "[admin.query-engine]",
      `pgsql-bind-address = "127.0.0.1:${pgsql}"`,
      "[ingress]",
      `bind-address = "127.0.0.1:${ingress}"`,
      "",
    ].join("\n"),
  );
  const children: ChildProcess[] = [];
  const started = (cmd: string, args: string[], env: Record<string, string>, cwd: string) => {
    const child = spawn(cmd, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let err = "";
    child.stderr!.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    children.push(child);
    return { child, err: () => err };
  };
  try {
    const server = started(
      RESTATE_BIN,
      [
        "--no-logo",
        "--listen-mode",
        "tcp",
        "--node-name",
        "bench",
        "--base-dir",
        path.join(dir, "data"),
        "-c",
        path.join(dir, "restate.toml"),
      ],
      { RESTATE_DISABLE_TELEMETRY: "true", RUST_LOG: "warn" },
      dir,
    );
    // The SDK logs every invocation at INFO by default: WARN, as a production service would.
    const svc = started(
      process.execPath,
      [path.join(PEER_DIR, "service.mjs")],
      { PORT: String(service), RESTATE_LOGGING: "WARN" },
      PEER_DIR,
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const r = await fetch(`http://127.0.0.1:${admin}/deployments`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ uri: `http://127.0.0.1:${service}` }),
        });
        if (r.ok) break;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) {
        throw new Error(`Restate did not come up:\n${server.err()}\n${svc.err()}`);
      }
      await sleep(200);
    }
    const body = JSON.stringify({ n: 1 });
    console.log("peer: Restate ...");
    return await measure(
      {
        name: "Restate 1.7 (server + TypeScript SDK)",
        origin: `http://127.0.0.1:${ingress}`,
        send: (http) => expectOk(http, "/noop/run", body),
        pids: () => ({ server: server.child.pid, service: svc.child.pid }),
      },
      settings,
    );
  } finally {
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(
      children.map((c) =>
        c.exitCode !== null ? undefined : new Promise((r) => c.once("exit", r)),
      ),
    );
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function ratios(engines: EngineFigures[], peer: EngineFigures): PeerFigures["ratios"] {
  const out: PeerFigures["ratios"] = {};
  for (const e of engines) {
    const r: Record<string, number> = {};
    for (const [c, v] of Object.entries(e.throughput)) {
      r[`throughput@${c}`] = round(v / peer.throughput[c]);
    }
    if (e.latency["50"] && peer.latency["50"]) {
      r["p99@50/s"] = round(e.latency["50"].p99 / peer.latency["50"].p99);
    }
    r.cpuPerWorkflow = round(e.cpuMsPerWorkflow.total / peer.cpuMsPerWorkflow.total);
    out[e.engine] = r;
  }
  return out;
}

export async function run(ctx?: BenchContext): Promise<PeerFigures> {
  const quick = ctx?.quick ?? false;
  const settings: Settings = {
    connections: [32, 128],
    rates: (ctx?.args.values.rates ?? (quick ? "50" : "25,50,100,200,400")).split(",").map(Number),
    seconds: Number(ctx?.args.values.seconds ?? (quick ? 1 : 8)),
    warmupMs: quick ? 500 : 3000,
  };
  // --engines=local skips Restate (before/after runs of the local host alone).
  const only = ctx?.args.values.engines;
  const local = await localHost(
    settings,
    ctx?.args.values.variants?.split(","),
    ctx?.args.values.caps,
  );
  const peer = only === "local" ? undefined : await restate(settings);
  return {
    statusRead: statusReads,
    connections: settings.connections,
    rates: settings.rates,
    seconds: settings.seconds,
    engines: peer ? [...local, peer] : local,
    ratios: peer ? ratios(local, peer) : {},
  };
}
