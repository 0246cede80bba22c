/**
 * The order app end to end on the local host (`npm run bench -- orders`): started as `npm start`
 * runs it (child process, embedded emulators, fresh DATA_DIR, fsync on), token checks on (an app
 * token from the dev issuer with Orders.Submit + Orders.Operate, validated on every request),
 * tracing on as shipped; driven over HTTP by undici from this process. Each order takes the
 * approving card below the approval threshold (intake → charge → capture → 3 notifications →
 * Completed).
 *
 * Phases: start-up to the first accepted order; warm-up; saturation (a closed loop of 64
 * clients POSTing for a while, then the drain: `completedOrdersPerSec` is the batch over its
 * first createdAt → last terminal updatedAt, CPU per order by process and hops per order from
 * the host's counters over the same orders); paced 50/s and 200/s (POST p50/p95/p99,
 * accept→terminal from createdAt → updatedAt of the terminal write; at 50/s also as a client that
 * polls the status URL honouring Retry-After, and 50 status reads per second of finished orders under that
 * load); peak RSS per process at the end.
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import { issuerOf, mintToken, tokenFor } from "../local-host/src/token";
import type { BenchContext } from "./lib/context";
import { countersPer, readCounters, startHost, type RunningHost } from "./lib/host";
import type { Overhead } from "./lib/overhead";
import { closedLoop, httpPool, openLoop, type Http } from "./lib/load";
import { cpuPer, peakRssMiB, sampleCpu, sumOver, totalUnderTest } from "./lib/proc";
import { rate, round, summarise, type Percentiles } from "./lib/stats";

const TERMINAL = new Set([
  "Completed",
  "Rejected",
  "Cancelled",
  "PaymentDeclined",
  "PaymentFailed",
  "Failed",
]);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface PacedFigures {
  offeredPerSec: number;
  acceptedPerSec: number;
  post: Percentiles;
  /** createdAt → updatedAt of the terminal write, from the orders themselves. */
  acceptToTerminal: Percentiles;
  /** 202 → the status URL's 200, as a client polling it honouring Retry-After. */
  clientSeen?: Percentiles & { retryAfterSeconds: number[]; pollsPerOrder: number };
  /** GET /orders/{id}/status of finished orders, 50 per second, during this phase. */
  statusQuery?: Percentiles & { perSec: number };
  errors: number;
  /** 1-minute load average when the phase started: other work on the machine shows here. */
  loadAverage: number;
}

export interface OrdersFigures {
  completedOrdersPerSec: number;
  saturation: {
    clients: number;
    postSeconds: number;
    orders: number;
    loadAverage: number;
    acceptedPerSec: number;
    post: Percentiles;
    /** CPU ms per order by process; `loadgen` is this process (shown apart, not in total). */
    cpuMsPerOrder: Record<string, number>;
    /** Counter differences per order (activity executions, episodes, fsyncs, Cosmos, Service Bus). */
    hopsPerOrder: Record<string, number>;
  };
  paced: PacedFigures[];
  startup: { readyMs: number; firstAcceptedMs: number };
  peakRssMiB: Record<string, number>;
  /** Against `direct` in the same run (set by the dispatcher). */
  durabilityOverhead?: Overhead;
}

interface Client {
  http: Http;
  apiPath: string;
  headers: Record<string, string>;
}

function orderBody(i: number): string {
  return JSON.stringify({
    customerId: `bench-${i % 97}`,
    currency: "USD",
    items: [{ sku: `SKU-${i % 50}`, name: "Widget", quantity: 1 + (i % 3), unitPrice: 1999 }],
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: { cardNumber: "4242424242424242" },
  });
}

interface Accepted {
  id: string;
  /** performance.now() when the 202 arrived. */
  at: number;
  ms: number;
  retryAfter: number;
}

async function post(c: Client, i: number): Promise<Accepted> {
  const t0 = performance.now();
  const r = await c.http.request("POST", `${c.apiPath}/orders`, {
    headers: { ...c.headers, "content-type": "application/json" },
    body: orderBody(i),
  });
  const at = performance.now();
  if (r.status !== 202)
    throw new Error(`POST /orders answered ${r.status}: ${r.text.slice(0, 300)}`);
  const { orderId } = JSON.parse(r.text) as { orderId: string };
  return { id: orderId, at, ms: at - t0, retryAfter: Number(r.headers["retry-after"] ?? NaN) };
}

interface Stored {
  status: string;
  createdAt: string;
  updatedAt: string;
}

/** Reads orders back once all are terminal (16 at a time); returns created→terminal in ms. */
async function readBack(c: Client, ids: string[]): Promise<{ created: number; done: number }[]> {
  const out: { created: number; done: number }[] = [];
  const deadline = Date.now() + 600_000;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < ids.length) {
        const id = ids[next++];
        for (;;) {
          const r = await c.http.request("GET", `${c.apiPath}/orders/${id}`, {
            headers: c.headers,
          });
          const o = JSON.parse(r.text) as Stored;
          if (TERMINAL.has(o.status)) {
            if (o.status !== "Completed") throw new Error(`order ${id} ended ${o.status}`);
            out.push({ created: Date.parse(o.createdAt), done: Date.parse(o.updatedAt) });
            break;
          }
          if (Date.now() > deadline) throw new Error(`order ${id} never finished`);
          await sleep(100);
        }
      }
    }),
  );
  return out;
}

/** Waits until the last order accepted is terminal (orders finish roughly in order). */
async function drain(c: Client, ids: string[]): Promise<void> {
  const last = ids[ids.length - 1];
  const deadline = Date.now() + 600_000;
  while (Date.now() < deadline) {
    const r = await c.http.request("GET", `${c.apiPath}/orders/${last}`, { headers: c.headers });
    if (TERMINAL.has((JSON.parse(r.text) as Stored).status)) return;
    await sleep(50);
  }
  throw new Error("orders did not drain");
}

/** The async-request pattern as a client does it: GET Location, wait Retry-After while 202. */
async function pollUntilDone(c: Client, a: Accepted): Promise<{ ms: number; polls: number }> {
  let wait = a.retryAfter;
  let polls = 0;
  for (;;) {
    await sleep(Math.max(0, wait) * 1000);
    polls++;
    const r = await c.http.request("GET", `${c.apiPath}/orders/${a.id}/status`, {
      headers: c.headers,
    });
    if (r.status === 200) return { ms: performance.now() - a.at, polls };
    if (r.status !== 202) throw new Error(`status answered ${r.status}`);
    wait = Number(r.headers["retry-after"] ?? 1);
  }
}

/** Status reads of finished orders per second during the paced 50/s level. */
const STATUS_READS_PER_SEC = 50;

async function paced(
  c: Client,
  rate: number,
  seconds: number,
  opts: { poll: boolean; statusOf?: string[] },
): Promise<PacedFigures> {
  const loadAverage = round(os.loadavg()[0]);
  const accepted: Accepted[] = [];
  const clientSeen: number[] = [];
  const retryAfters = new Set<number>();
  let polls = 0;
  const polling: Promise<void>[] = [];
  let statusRun: Promise<{ latency: Percentiles; perSecond: number }> | undefined;
  if (opts.statusOf && opts.statusOf.length > 0) {
    const ids = opts.statusOf;
    // Paced, not back to back: status reads of finished orders at the order rate, so the figure
    // is a read's latency under the order load rather than under a load of its own making.
    statusRun = openLoop(STATUS_READS_PER_SEC, seconds * 1000, async (i) => {
      const r = await c.http.request("GET", `${c.apiPath}/orders/${ids[i % ids.length]}/status`, {
        headers: c.headers,
      });
      if (r.status !== 200) throw new Error(`status answered ${r.status}`);
    });
  }
  const run = await openLoop(rate, seconds * 1000, async (i) => {
    const a = await post(c, 1_000_000 + rate * 10_000 + i);
    accepted.push(a);
    retryAfters.add(a.retryAfter);
    if (opts.poll) {
      polling.push(
        pollUntilDone(c, a).then((p) => {
          clientSeen.push(p.ms);
          polls += p.polls;
        }),
      );
    }
  });
  await Promise.all(polling);
  const status = await statusRun;
  const done = await readBack(
    c,
    accepted.map((a) => a.id),
  );
  return {
    offeredPerSec: rate,
    acceptedPerSec: round(run.perSecond),
    post: roundAll(summarise(accepted.map((a) => a.ms))),
    acceptToTerminal: roundAll(summarise(done.map((d) => d.done - d.created))),
    ...(opts.poll
      ? {
          clientSeen: {
            ...roundAll(summarise(clientSeen)),
            retryAfterSeconds: [...retryAfters],
            pollsPerOrder: round(polls / Math.max(1, clientSeen.length)),
          },
        }
      : {}),
    ...(status
      ? { statusQuery: { ...roundAll(status.latency), perSec: round(status.perSecond) } }
      : {}),
    errors: run.errors,
    loadAverage,
  };
}

function roundAll<T extends object>(o: T): T {
  return Object.fromEntries(
    Object.entries(o).map(([k, v]) => [k, typeof v === "number" ? round(v) : v]),
  ) as T;
}

/**
 * Waits until the host has gone a second without starting an invocation of any kind (the
 * notification deliveries behind a batch included), for at most two minutes.
 */
async function settle(host: RunningHost): Promise<void> {
  const invocations = async () => {
    let n = 0;
    for (const counters of Object.values(await readCounters(host.countersDir))) {
      for (const [k, v] of Object.entries(counters)) if (k.startsWith("invocations.")) n += v;
    }
    return n;
  };
  const deadline = Date.now() + 120_000;
  let last = await invocations();
  let quietSince = Date.now();
  while (Date.now() - quietSince < 1000 && Date.now() < deadline) {
    // The counters files are rewritten periodically: reading them back to back only takes CPU
    // from the processes being measured.
    await sleep(50);
    const now = await invocations();
    if (now !== last) {
      last = now;
      quietSince = Date.now();
    }
  }
}

async function saturation(
  c: Client,
  host: RunningHost,
  clients: number,
  seconds: number,
): Promise<{ figures: OrdersFigures["saturation"]; completed: number; ids: string[] }> {
  const pids = host.pids();
  const loadAverage = round(os.loadavg()[0]);
  const cpuBefore = sampleCpu(pids);
  const countersBefore = await readCounters(host.countersDir);
  const accepted: Accepted[] = [];
  const run = await closedLoop(clients, seconds * 1000, async (i) => {
    accepted.push(await post(c, i));
  });
  const ids = accepted.map((a) => a.id);
  await drain(c, ids);
  // A completed order's notifications are delivered after Completed is recorded: their work
  // belongs to the batch (CPU, hops), and must not spill into the next phase's latencies.
  await settle(host);
  const cpu = cpuPer(cpuBefore, sampleCpu(pids), ids.length);
  const hops = countersPer(countersBefore, await readCounters(host.countersDir), ids.length);
  const done = await readBack(c, ids);
  // The engine works a backlog breadth-first, so completions bunch up at the end: the rate is the
  // whole batch over first acceptance → last completion, not the completions' own spacing.
  const completed = rate(
    done.length,
    Math.max(...done.map((d) => d.done)) - Math.min(...done.map((d) => d.created)),
  );
  return {
    completed: round(completed),
    ids,
    figures: {
      clients,
      postSeconds: seconds,
      orders: ids.length,
      loadAverage,
      acceptedPerSec: round(run.perSecond),
      post: roundAll(run.latency),
      cpuMsPerOrder: { ...roundAll(cpu), total: round(totalUnderTest(cpu)) },
      hopsPerOrder: roundAll(hops),
    },
  };
}

export async function run(ctx?: BenchContext): Promise<OrdersFigures> {
  const quick = ctx?.quick ?? false;
  const host = await startHost({ env: { APPROVAL_THRESHOLD_MINOR: "100000000" } });
  try {
    const { apiBaseUrl } = host.endpoints;
    const api = new URL(apiBaseUrl);
    const token = await mintToken(
      issuerOf(host.dataDir),
      tokenFor.app("orders-bench", ["Orders.Submit", "Orders.Operate"]),
    );
    const c: Client = {
      http: httpPool(api.origin, 256),
      apiPath: api.pathname.replace(/\/$/, ""),
      headers: { authorization: `Bearer ${token}` },
    };
    try {
      const first = await post(c, 0);
      const startup = {
        readyMs: round(host.readyMs),
        firstAcceptedMs: round(first.at - host.spawnedAt),
      };
      console.log(
        `orders: host ready in ${startup.readyMs} ms, first order accepted at ${startup.firstAcceptedMs} ms`,
      );
      const warm = await closedLoop(16, (quick ? 1 : 10) * 1000, (i) =>
        post(c, 10_000 + i).then(() => undefined),
      );
      console.log(`orders: warm-up ${warm.done} orders`);
      await settle(host);
      // Quick: 2 s of posts still outrun completion (~2x), and the backlog drains in seconds.
      const sat = await saturation(c, host, quick ? 32 : 64, quick ? 2 : 10);
      console.log(
        `orders: saturation ${sat.completed} completed/s over ${sat.figures.orders} orders`,
      );
      const finished = sat.ids.slice(0, 500);
      const seconds = quick ? 2 : 15;
      const p50 = await paced(c, 50, seconds, { poll: true, statusOf: finished });
      console.log("orders: paced 50/s done");
      await settle(host);
      const p200 = await paced(c, 200, quick ? 1 : 10, { poll: false });
      console.log("orders: paced 200/s done");
      const peak: Record<string, number> = {};
      for (const [role, pid] of Object.entries(host.pids())) {
        const v = sumOver(pid, peakRssMiB);
        if (v !== undefined) peak[role] = round(v);
      }
      peak.loadgen = round(process.memoryUsage().rss / 2 ** 20);
      return {
        completedOrdersPerSec: sat.completed,
        saturation: sat.figures,
        paced: [p50, p200],
        startup,
        peakRssMiB: peak,
      };
    } finally {
      await c.http.close();
    }
  } finally {
    await host.stop();
  }
}
