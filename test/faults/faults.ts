// Faults under a steady stream of orders (issue 12): while orders arrive at a fixed rate (HTTP
// and the orders-inbound queue, every card kind of the crash suite, approvals above the
// threshold), one part of the local host is hurt; afterwards every acknowledged order is checked
// with the crash suite's invariants (test/crash/scenario.ts `verify`).
import fs from "node:fs";
import path from "node:path";
import { type StartedHost } from "../../local-host/test/support/host";
import {
  Client,
  getJson,
  plan,
  prng,
  startOrderHost,
  verify,
  type Accepted,
  type Planned,
} from "../crash/scenario";

export type FaultName = "worker" | "emulators" | "host" | "torn";

export interface FaultReport {
  fault: FaultName;
  sent: number;
  acknowledged: number;
  completed: number;
  outcomes: Record<string, number>;
  injections: number;
  /** Seconds from each injection until the host served a healthy request again. */
  recoverySeconds: number[];
  violations: string[];
  /** The last host's log (for a failing report). */
  hostLog: string;
}

export interface FaultOptions {
  appDir: string;
  fault: FaultName;
  /** Orders per second. */
  rate: number;
  seconds: number;
  seed: number;
  /** Kill moments: a random pause in [min, max] ms between injections. */
  pauseMs?: [number, number];
  log?: (line: string) => void;
  /** Every host started (the caller stops them whatever happens). */
  hosts: StartedHost[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The host's current child pids, as it writes them to endpoints.json. */
export function childPids(dataDir: string): { host: number; worker?: number; emulators?: number } {
  const e = JSON.parse(fs.readFileSync(path.join(dataDir, "endpoints.json"), "utf8"));
  return e.pids;
}

/** The newest segment of every durable-log under `root` (engine log, Cosmos journal, Service Bus log). */
export function newestSegments(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const segs = entries
      .filter((e) => e.isFile() && /^seg-\d+\.log$/.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
    if (segs.length > 0) out.push(path.join(dir, segs.at(-1)!));
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(root);
  return out;
}

/**
 * A torn last record, as a kill in the middle of a write leaves it: a copy of the segment's last
 * complete frame ([u32 length][u32 crc][payload]) cut at a random byte offset is appended. That
 * record was never acknowledged (the write did not finish), so recovery must drop it and keep
 * everything before. Returns the bytes appended.
 */
export function tearTail(file: string, random: () => number): number {
  const buf = fs.readFileSync(file);
  let at = 0;
  let last: Buffer | undefined;
  while (at + 8 <= buf.length) {
    const len = buf.readUInt32LE(at);
    if (at + 8 + len > buf.length) break;
    last = buf.subarray(at, at + 8 + len);
    at += 8 + len;
  }
  if (!last) return 0;
  const cut = 1 + Math.floor(random() * (last.length - 1));
  fs.appendFileSync(file, last.subarray(0, cut));
  return cut;
}

/** A host's endpoints with loopback addresses (the suite talks to 127.0.0.1 only). */
function loopback(host: StartedHost): StartedHost {
  const endpoints: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(host.endpoints)) {
    endpoints[k] = typeof v === "string" ? v.replace("//localhost:", "//127.0.0.1:") : v;
  }
  return { ...host, endpoints };
}

async function healthy(api: string): Promise<boolean> {
  try {
    const res = await fetch(`${api}/health`, { signal: AbortSignal.timeout(3000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

async function until(what: string, predicate: () => Promise<boolean> | boolean, ms: number) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** Polls every acknowledged order until it is terminal; the ids still in progress at the deadline. */
async function awaitTerminal(api: string, accepted: Accepted[], ms: number): Promise<string[]> {
  const pending = new Set(accepted.map((a) => a.orderId));
  const deadline = Date.now() + ms;
  while (pending.size > 0 && Date.now() < deadline) {
    const ids = [...pending];
    for (let i = 0; i < ids.length; i += 20) {
      await Promise.all(
        ids.slice(i, i + 20).map(async (id) => {
          const res = await getJson(`${api}/orders/${id}/status`).catch(() => undefined);
          if (res?.status === 200) pending.delete(id);
        }),
      );
    }
    if (pending.size > 0) await sleep(300);
  }
  return [...pending];
}

/** One fault under a stream of `rate` orders a second for `seconds`; returns its report. */
export async function runFault(o: FaultOptions): Promise<FaultReport> {
  const log = o.log ?? (() => undefined);
  const random = prng(o.seed);
  let host = await startOrderHost(o.appDir);
  o.hosts.push(host);
  let client = new Client(loopback(host));
  const dataDir = host.dataDir;
  const api = () => client.api;

  const orders = plan(`${o.fault}-${o.seed}`, Math.round(o.rate * o.seconds));
  const accepted = new Map<number, Accepted>();
  let sent = 0;
  let streaming = true;
  const giveUpAt = Date.now() + (o.seconds + 60) * 1000;

  // Repeats a submission (same Idempotency-Key / messageId) until acknowledged, as a client would.
  const sendOne = async (p: Planned) => {
    sent++;
    while (Date.now() < giveUpAt) {
      let orderId: string | undefined;
      try {
        orderId = await client.submit(p);
      } catch {
        await sleep(200);
        continue;
      }
      if (!orderId) return;
      const a: Accepted = { orderId, planned: p, at: performance.now(), phase: "beforeKill" };
      accepted.set(p.index, a);
      if (p.kind === "approved") {
        a.approvalAcknowledged = false;
        const approveBy = Date.now() + 2500;
        while (!a.approvalAcknowledged && Date.now() < approveBy) {
          a.approvalAcknowledged = await client.approve(orderId, p.via).catch(() => false);
        }
      }
      return;
    }
  };

  const injections: number[] = [];
  const inject = async () => {
    const [lo, hi] = o.pauseMs ?? [800, 2500];
    while (streaming) {
      await sleep(lo + random() * (hi - lo));
      if (!streaming) return;
      const t0 = performance.now();
      const pids = childPids(dataDir);
      if (o.fault === "worker") {
        if (!pids.worker) continue;
        process.kill(pids.worker, "SIGKILL");
        await until("worker restarted", () => childPids(dataDir).worker !== pids.worker, 20000);
        await until("healthy after a worker kill", () => healthy(api()), 30000);
      } else if (o.fault === "emulators") {
        if (!pids.emulators) continue;
        process.kill(pids.emulators, "SIGKILL");
        await until(
          "emulators restarted",
          () => childPids(dataDir).emulators !== pids.emulators,
          20000,
        );
        await until("healthy after an emulators kill", () => healthy(api()), 30000);
      } else if (o.fault === "torn") {
        await host.kill();
        await client.close();
        const torn = newestSegments(dataDir).map(
          (f) => `${path.relative(dataDir, f)} +${tearTail(f, random)} B`,
        );
        log(`torn last records: ${torn.join(", ")}`);
        if (torn.length < 3) throw new Error(`expected 3 durable logs, found ${torn.join(", ")}`);
        host = await startOrderHost(o.appDir, dataDir);
        o.hosts.push(host);
        client = new Client(loopback(host));
        await until("healthy after a torn-tail restart", () => healthy(api()), 30000);
      } else {
        process.kill(pids.host, "SIGKILL");
        const children = [pids.worker, pids.emulators].filter((p): p is number => !!p);
        await until("the host's children exit after it", () => !children.some(alive), 10000);
        await client.close();
        host = await startOrderHost(o.appDir, dataDir);
        o.hosts.push(host);
        client = new Client(loopback(host));
        await until("healthy after a host restart", () => healthy(api()), 30000);
      }
      injections.push((performance.now() - t0) / 1000);
      log(`${o.fault} killed; healthy again after ${injections.at(-1)!.toFixed(2)} s`);
    }
  };

  const injecting = inject();
  const sends: Promise<void>[] = [];
  const startedAt = performance.now();
  for (let i = 0; i < orders.length; i++) {
    const due = startedAt + (i * 1000) / o.rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    sends.push(sendOne(orders[i]));
  }
  streaming = false;
  await injecting;
  await Promise.all(sends);

  const list = [...accepted.values()];
  const stuck = await awaitTerminal(api(), list, 90000);
  const violations = stuck.map((id) => `${id}: never reached a terminal state`);
  if (sent !== list.length) violations.push(`${sent - list.length} orders never acknowledged`);
  // Worker restarts reset the simulated gateway's per-process transient count.
  violations.push(...(await verify(api(), list, { allowTransientExhausted: true })));
  const outcomes: Record<string, number> = {};
  for (const a of list) {
    const s = await getJson(`${api()}/orders/${a.orderId}/status`).catch(() => undefined);
    const status = String(s?.body?.status ?? "unknown");
    outcomes[status] = (outcomes[status] ?? 0) + 1;
  }
  await client.close();
  return {
    fault: o.fault,
    sent,
    acknowledged: list.length,
    completed: outcomes.Completed ?? 0,
    outcomes,
    injections: injections.length,
    recoverySeconds: injections,
    violations,
    hostLog: host.logs(),
  };
}

export function formatReport(r: FaultReport): string {
  const rec = r.recoverySeconds;
  const max = rec.length ? Math.max(...rec).toFixed(2) : "-";
  const mean = rec.length ? (rec.reduce((a, b) => a + b, 0) / rec.length).toFixed(2) : "-";
  return (
    `fault ${r.fault}: sent ${r.sent}, acknowledged ${r.acknowledged}, completed ${r.completed} ` +
    `${JSON.stringify(r.outcomes)}, ${r.injections} injections, recovery mean ${mean} s max ${max} s, ` +
    `invariants broken: ${r.violations.length}` +
    (r.violations.length ? `\n  ${r.violations.slice(0, 20).join("\n  ")}` : "")
  );
}
