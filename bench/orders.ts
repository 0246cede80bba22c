/**
 * Order app end to end on the local host (`node dist/local-host/src/cli.js` as a child process on
 * free ports, fresh DATA_DIR, every commit fsync'd): HTTP POST /api/orders with the approving
 * card, below the approval threshold, so each order runs intake (tokenise, Cosmos write, start) →
 * Charging → charge → capture → Paid → Notifying → 3 notifications (Service Bus) → Completed.
 *
 * For each number of concurrent clients, each client POSTs orders back to back (closed loop).
 * Reported: accepted/s (202 rate), POST latency, completed/s (orders / (last completion − first
 * creation)) and create→Completed latency. Completion time is the order's own record: `createdAt`
 * (written by the intake) and `updatedAt` of the Completed write (the workflow's last step), both
 * from the worker's clock, read back after the run — no polling during the measurement. A paced
 * run (a fixed offered rate) gives latency below saturation. Baseline in the same run: GET
 * /api/health (an HTTP round trip through host and worker, pinging Cosmos and Service Bus) at
 * the same concurrency, and GET /api/orders/{id}/status (one point read + instance status).
 *
 * Knobs: BENCH_WARMUP orders (default 200), BENCH_CLIENTS (default "1,16,64"), BENCH_ORDERS per level (default 300),
 * BENCH_PACED_RATES (default "10,25"), BENCH_PACED_SECONDS (default 10), BENCH_DIR.
 * The client runs on the same machine as the host, emulators and worker (it competes for CPU).
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { issuerOf, mintToken, tokenFor } from "../local-host/src/token";

const ROOT = path.resolve(__dirname, "..", "..");
const CLI = path.join(ROOT, "dist", "local-host", "src", "cli.js");

/**
 * Every request carries a bearer token from the host's development issuer, as a storefront's
 * would: an application with Orders.Submit and Orders.Operate (it reads what it created; the
 * token is validated on every request, signature included).
 */
let auth: Record<string, string> = {};

interface Host {
  api: string;
  /** Process ids by role (host, worker, emulators) from endpoints.json. */
  pids: Record<string, number>;
  child: ChildProcess;
  dataDir: string;
  stop(): Promise<void>;
}

async function startHost(): Promise<Host> {
  const dataDir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "orders-bench-"));
  const child = spawn(
    process.execPath,
    [CLI, "--app", ROOT, "--data-dir", dataDir, "--free-ports", "--port", "0"],
    {
      cwd: ROOT,
      // Far above any bench order: no approval wait.
      env: {
        ...process.env,
        APPROVAL_THRESHOLD_MINOR: "100000000",
        LOCALHOST_EXIT_WITH_PARENT: String(process.pid),
      },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    },
  );
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpointsFile = path.join(dataDir, "endpoints.json");
  const deadline = Date.now() + 90_000;
  while (!(output.includes("Host ready:") && fs.existsSync(endpointsFile))) {
    if (child.exitCode !== null) throw new Error(`host exited:\n${output}`);
    if (Date.now() > deadline) throw new Error(`host not ready:\n${output}`);
    await sleep(25);
  }
  const endpoints = JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as {
    apiBaseUrl: string;
    pids?: Record<string, number>;
  };
  const token = await mintToken(
    issuerOf(dataDir),
    tokenFor.app("orders-bench", ["Orders.Submit", "Orders.Operate"]),
  );
  auth = { authorization: `Bearer ${token}` };
  return {
    api: endpoints.apiBaseUrl,
    pids: endpoints.pids ?? {},
    child,
    dataDir,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // gone
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Dist {
  p50: number;
  p90: number;
  p99: number;
}

function dist(values: number[]): Dist {
  const s = [...values].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p90: percentile(s, 90), p99: percentile(s, 99) };
}

function orderBody(customerId: string, i: number): string {
  return JSON.stringify({
    customerId,
    currency: "USD",
    items: [{ sku: `SKU-${i % 50}`, name: "Widget", quantity: 1 + (i % 3), unitPrice: 1999 }],
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: { cardNumber: "4242424242424242" },
  });
}

async function postOrder(api: string, body: string): Promise<{ id: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${api}/orders`, {
    method: "POST",
    headers: { "content-type": "application/json", ...auth },
    body,
  });
  const json = (await res.json()) as { orderId?: string };
  const ms = performance.now() - t0;
  if (res.status !== 202 || !json.orderId) {
    throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(json)}`);
  }
  return { id: json.orderId, ms };
}

interface Completion {
  createdAt: number;
  completedAt: number;
}

const TERMINAL = [
  "Completed",
  "Rejected",
  "Cancelled",
  "PaymentDeclined",
  "PaymentFailed",
  "Failed",
];

/**
 * Reads every order back once it is done; every order must end Completed. One request at a time,
 * newest order first, waiting on it: orders finish roughly in order, so the rest are then read
 * once each, and the drain is not slowed down by polling.
 */
async function completions(api: string, ids: string[]): Promise<Completion[]> {
  const out: Completion[] = [];
  const deadline = Date.now() + 300_000;
  for (const id of [...ids].reverse()) {
    for (;;) {
      const res = await fetch(`${api}/orders/${id}`, { headers: auth });
      const o = (await res.json()) as { status: string; createdAt: string; updatedAt: string };
      if (o.status === "Completed") {
        out.push({ createdAt: Date.parse(o.createdAt), completedAt: Date.parse(o.updatedAt) });
        break;
      }
      if (TERMINAL.includes(o.status)) throw new Error(`order ${id} ended ${o.status}`);
      if (Date.now() > deadline) throw new Error(`order ${id} never completed`);
      await sleep(200);
    }
  }
  return out;
}

interface LevelResult {
  label: string;
  acceptedPerSecond: number;
  post: Dist;
  completedPerSecond: number;
  e2e: Dist;
}

function summarise(
  label: string,
  posts: { ms: number }[],
  postSeconds: number,
  done: Completion[],
): LevelResult {
  const first = Math.min(...done.map((c) => c.createdAt));
  const last = Math.max(...done.map((c) => c.completedAt));
  return {
    label,
    acceptedPerSecond: posts.length / postSeconds,
    post: dist(posts.map((p) => p.ms)),
    completedPerSecond: done.length / ((last - first) / 1000),
    e2e: dist(done.map((c) => c.completedAt - c.createdAt)),
  };
}

/** `clients` closed-loop clients POST `total` orders; then every order is read back. */
async function closedLoop(
  api: string,
  clients: number,
  total: number,
  tag: string,
): Promise<LevelResult> {
  const posts: { id: string; ms: number }[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < total) {
        const i = next++;
        posts.push(await postOrder(api, orderBody(`bench-${tag}`, i)));
      }
    }),
  );
  const postSeconds = (performance.now() - t0) / 1000;
  const done = await completions(
    api,
    posts.map((p) => p.id),
  );
  return summarise(`${clients} clients`, posts, postSeconds, done);
}

/** A fixed offered rate (open loop) for `seconds`: latency below saturation. */
async function paced(
  api: string,
  rate: number,
  seconds: number,
  tag: string,
): Promise<LevelResult> {
  const posts: { id: string; ms: number }[] = [];
  const inFlight: Promise<void>[] = [];
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(postOrder(api, orderBody(`bench-${tag}`, i)).then((p) => void posts.push(p)));
  }
  await Promise.all(inFlight);
  const postSeconds = (performance.now() - t0) / 1000;
  const done = await completions(
    api,
    posts.map((p) => p.id),
  );
  return summarise(`paced ${rate}/s`, posts, postSeconds, done);
}

/** Plain GETs with `clients` closed-loop clients for `total` requests. */
async function getLoop(
  url: string,
  clients: number,
  total: number,
): Promise<{ perSecond: number; d: Dist }> {
  const ms: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next++ < total) {
        const s = performance.now();
        const res = await fetch(url, { headers: auth });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
        ms.push(performance.now() - s);
      }
    }),
  );
  return { perSecond: total / ((performance.now() - t0) / 1000), d: dist(ms) };
}

/** CPU time (ms, user + system) of each role's process and of this client, from /proc (Linux). */
function cpuTimes(pids: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  const tick = 10; // USER_HZ is 100 on Linux: one tick = 10 ms.
  for (const [role, pid] of Object.entries(pids)) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out[role] = (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      // Not Linux, or the process is gone.
    }
  }
  const self = process.cpuUsage();
  out.client = (self.user + self.system) / 1000;
  return out;
}

function cpuPerOrder(
  before: Record<string, number>,
  after: Record<string, number>,
  orders: number,
) {
  return Object.keys(after)
    .filter((k) => k in before)
    .map((k) => `${k} ${f((after[k] - before[k]) / orders, 1)}`)
    .join(", ");
}

const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : "-");
const trio = (d: Dist, digits = 1) =>
  `${f(d.p50, digits)} / ${f(d.p90, digits)} / ${f(d.p99, digits)}`;

export async function run(): Promise<void> {
  const levels = (process.env.BENCH_CLIENTS ?? "1,16,64").split(",").map(Number);
  const total = Number(process.env.BENCH_ORDERS ?? 300);
  const rates = (process.env.BENCH_PACED_RATES ?? "10,25").split(",").filter(Boolean).map(Number);
  const pacedSeconds = Number(process.env.BENCH_PACED_SECONDS ?? 10);

  const startedAt = performance.now();
  const host = await startHost();
  const startup = performance.now() - startedAt;
  try {
    const api = host.api;
    // Warm-up: JIT, connections, containers, queues.
    await closedLoop(api, 8, Number(process.env.BENCH_WARMUP ?? 200), "warmup");

    console.log(
      `\norder app end to end on the local host (child process, fsync on; Node ${process.version}, ` +
        `${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? "?"}), ${os.platform()}; load average ${os.loadavg()[0].toFixed(1)} before the run; host start ${f(startup, 0)} ms; ` +
        `${total} orders per level; e2e = order createdAt → updatedAt of Completed)`,
    );
    console.log(
      "load        | accepted/s | POST p50/p90/p99 ms  | completed/s | create→Completed p50/p90/p99 ms | health req/s | health p50/p99 ms | POST p50 ÷ health p50",
    );
    const results: LevelResult[] = [];
    const cpu: string[] = [];
    for (const clients of levels) {
      const before = cpuTimes(host.pids);
      const r = await closedLoop(api, clients, total, `c${clients}`);
      cpu.push(`${r.label}: ${cpuPerOrder(before, cpuTimes(host.pids), total)}`);
      const h = await getLoop(`${api}/health`, clients, Math.max(200, clients * 10));
      results.push(r);
      console.log(
        `${r.label.padEnd(11)} | ${f(r.acceptedPerSecond).padStart(10)} | ${trio(r.post).padStart(20)} | ` +
          `${f(r.completedPerSecond).padStart(11)} | ${trio(r.e2e, 0).padStart(31)} | ${f(h.perSecond, 0).padStart(12)} | ` +
          `${`${f(h.d.p50)} / ${f(h.d.p99)}`.padStart(17)} | ${f(r.post.p50 / h.d.p50).padStart(21)}`,
      );
    }
    for (const rate of rates) {
      const before = cpuTimes(host.pids);
      const r = await paced(api, rate, pacedSeconds, `r${rate}`);
      cpu.push(
        `${r.label}: ${cpuPerOrder(before, cpuTimes(host.pids), Math.round(rate * pacedSeconds))}`,
      );
      console.log(
        `${r.label.padEnd(11)} | ${f(r.acceptedPerSecond).padStart(10)} | ${trio(r.post).padStart(20)} | ` +
          `${f(r.completedPerSecond).padStart(11)} | ${trio(r.e2e, 0).padStart(31)} |`,
      );
    }
    console.log(
      `CPU ms per order by process (includes reading each order back once): ${cpu.join("; ")}`,
    );
    // A status poll: one Cosmos point read + the instance status, against a finished order.
    const one = await postOrder(api, orderBody("bench-status", 0));
    await completions(api, [one.id]);
    const h1 = await getLoop(`${api}/health`, 1, 300);
    const s1 = await getLoop(`${api}/orders/${one.id}/status`, 1, 300);
    const s16 = await getLoop(`${api}/orders/${one.id}/status`, 16, 1000);
    console.log(
      `GET status (1 client): p50 ${f(s1.d.p50, 2)} ms, p99 ${f(s1.d.p99, 2)} ms = ${f(s1.d.p50 / h1.d.p50, 2)}× ` +
        `health p50 (${f(h1.d.p50, 2)} ms); 16 clients: ${f(s16.perSecond, 0)} req/s, p50 ${f(s16.d.p50, 1)} ms`,
    );
  } finally {
    await host.stop();
  }
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
