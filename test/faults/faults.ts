// Faults under a steady stream of orders (issue 12): while orders arrive at a fixed rate (HTTP
// and the orders-inbound queue, every card kind of the crash suite, approvals above the
// threshold), one part of the local host is hurt; afterwards every acknowledged order is checked
// with the crash suite's invariants (test/crash/scenario.ts `verify`). Faults run one after
// another on a shared session (one DATA_DIR, on a tmpfs of its own so the disk can be filled).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { type StartedHost } from "../../local-host/test/support/host";
import {
  Client,
  APPROVAL_TIMEOUT_SECONDS,
  getJson,
  plan,
  prng,
  startOrderHost,
  verify,
  type Accepted,
  type Planned,
} from "../crash/scenario";

export type FaultName = "worker" | "emulators" | "disk" | "host" | "torn";

/** Functions the worker is killed inside (the host logs "Executing 'Functions.<name>'" as it
 *  hands each invocation to the worker, as the Functions host does). */
export const MOMENTS = [
  "chargePayment",
  "capturePayment",
  "refundPayment",
  "deliverNotification",
] as const;
export type Moment = (typeof MOMENTS)[number];

export interface FaultReport {
  fault: FaultName;
  sent: number;
  acknowledged: number;
  completed: number;
  outcomes: Record<string, number>;
  injections: number;
  /** Seconds from each injection (for the disk: from space coming back) until healthy again. */
  recoverySeconds: number[];
  /** What each injection hit. */
  notes: string[];
  /** Seconds from the last acknowledgement (fault healed) until every order was terminal... */
  settleSeconds: number;
  /** ...and spent checking the invariants. */
  verifySeconds: number;
  /** Answers to POST /orders while the fault was in effect ("error" = no answer). */
  answersDuringFault: Record<string, number>;
  violations: string[];
  /** The last host's log (for a failing report). */
  hostLog: string;
}

/** One DATA_DIR and the host currently running on it (host faults replace it). */
export interface Session {
  appDir: string;
  dataDir: string;
  host: StartedHost;
  client: Client;
  /** Every host started (all are stopped by closeSession). */
  hosts: StartedHost[];
  /** How the disk fault fills DATA_DIR's disk: shrinking its own tmpfs mount, or (where mounting
   *  is refused) a write hook preloaded into the host's processes that fails with ENOSPC. */
  disk: "tmpfs" | "hook" | undefined;
}

export interface FaultOptions {
  fault: FaultName;
  /** Orders per second. */
  rate: number;
  seconds: number;
  seed: number;
  /** A random pause in [min, max] ms before each injection. */
  pauseMs?: [number, number];
  /** Worker: kill it inside these functions first (in this order), then at random moments. */
  moments?: readonly Moment[];
  log?: (line: string) => void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Room on the tmpfs in normal operation (it holds only what is written: RAM, not a reservation). */
const ROOMY = "512m";

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

function mount(args: string[]): boolean {
  return spawnSync("mount", args, { stdio: "ignore" }).status === 0;
}

/** Starts a host on a new DATA_DIR, a tmpfs mount when `tmpfs` is asked and mounting works. */
export async function openSession(
  appDir: string,
  options: { tmpfs?: boolean } = {},
): Promise<Session> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "faults-"));
  const disk = !options.tmpfs
    ? undefined
    : mount(["-t", "tmpfs", "-o", `size=${ROOMY}`, "tmpfs", dataDir])
      ? "tmpfs"
      : "hook";
  const session = { appDir, dataDir, disk, hosts: [] } as unknown as Session;
  await restartHost(session);
  return session;
}

const fullFlag = (s: Session) => `${s.dataDir}.disk-full`;

async function restartHost(s: Session): Promise<void> {
  await s.client?.close();
  const hook: Record<string, string> =
    s.disk === "hook"
      ? {
          NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --require ${path.join(__dirname, "enospc-preload.js")}`,
          FAULT_DISK_FULL_FLAG: fullFlag(s),
        }
      : {};
  s.host = await startOrderHost(s.appDir, s.dataDir, hook);
  s.hosts.push(s.host);
  s.client = new Client(loopback(s.host));
}

export async function closeSession(s: Session | undefined): Promise<void> {
  if (!s) return;
  await s.client?.close();
  for (const h of s.hosts) await h.stop().catch(() => undefined);
  if (s.disk === "tmpfs") spawnSync("umount", [s.dataDir], { stdio: "ignore" });
  fs.rmSync(fullFlag(s), { force: true });
  fs.rmSync(s.dataDir, { recursive: true, force: true });
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

/**
 * SIGKILLs the worker the moment the host hands it an invocation of `fn` (watching the host's
 * output as it is written, so the kill lands while that invocation runs). The line seen, or
 * undefined if no such invocation started within `ms`.
 */
function killWorkerInside(s: Session, fn: Moment, ms: number): Promise<string | undefined> {
  const out = s.host.process.stdout!;
  const marker = `Executing 'Functions.${fn}'`;
  return new Promise((resolve) => {
    let tail = "";
    const done = (line: string | undefined) => {
      out.off("data", onData);
      clearTimeout(timer);
      resolve(line);
    };
    const onData = (chunk: Buffer) => {
      const text = tail + chunk.toString();
      const at = text.indexOf(marker);
      if (at < 0) {
        tail = text.slice(-marker.length);
        return;
      }
      const worker = childPids(s.dataDir).worker;
      if (worker) process.kill(worker, "SIGKILL");
      const end = text.indexOf("\n", at);
      done(text.slice(at, end < 0 ? undefined : end));
    };
    const timer = setTimeout(() => done(undefined), ms);
    out.on("data", onData);
  });
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

function usedBytes(dir: string): number {
  const st = fs.statfsSync(dir);
  return (st.blocks - st.bfree) * st.bsize;
}

/** One fault under a stream of `rate` orders a second for `seconds`, on `s`; returns its report. */
export async function runFault(s: Session, o: FaultOptions): Promise<FaultReport> {
  const log = o.log ?? (() => undefined);
  const random = prng(o.seed);
  const dataDir = s.dataDir;
  const api = () => s.client.api;
  if (o.fault === "disk" && !s.disk) throw new Error("the disk fault needs openSession({ tmpfs })");

  const orders = plan(`${o.fault}-${o.seed}`, Math.round(o.rate * o.seconds));
  const accepted = new Map<number, Accepted>();
  const violations: string[] = [];
  const notes: string[] = [];
  const answers: Record<string, number> = {};
  let faultActive = false;
  let sent = 0;
  let streaming = true;
  const giveUpAt = Date.now() + (o.seconds + 60) * 1000;

  // While the fault is in effect, HTTP must accept (202/200) or refuse with 503 + Retry-After.
  const observe = (status: number, retryAfter: string | null) => {
    if (!faultActive) return;
    const key = status === 503 && retryAfter ? "503+Retry-After" : String(status);
    answers[key] = (answers[key] ?? 0) + 1;
  };

  // Repeats a submission (same Idempotency-Key / messageId) until acknowledged, as a client would.
  const sendOne = async (p: Planned) => {
    sent++;
    // The orchestration, and with it the approval timer, may start on the first attempt even when
    // its answer is lost (worker killed mid-request), so time the approval from the first send.
    const firstSentAt = performance.now();
    while (Date.now() < giveUpAt) {
      let orderId: string | undefined;
      try {
        orderId = await s.client.submit(p, observe);
      } catch (err) {
        if (faultActive && p.via === "http" && !/answered/.test(String(err))) {
          answers.error = (answers.error ?? 0) + 1;
        }
        await sleep(200);
        continue;
      }
      if (!orderId) return;
      const a: Accepted = { orderId, planned: p, at: performance.now(), phase: "beforeKill" };
      accepted.set(p.index, a);
      if (p.kind === "approved") {
        let approved = false;
        const approveBy = Date.now() + 2500;
        while (!approved && Date.now() < approveBy) {
          approved = await s.client.approve(orderId, p.via).catch(() => false);
        }
        // It must win only if its 202 came before the approval timer could fire (the timer
        // starts after the first submission was sent); one answered later raced the timer.
        a.approvalAcknowledged =
          approved && performance.now() - firstSentAt < APPROVAL_TIMEOUT_SECONDS * 1000;
      }
      return;
    }
  };

  const recovery: number[] = [];
  const injectOnce = async (moment: Moment | undefined): Promise<void> => {
    let t0 = performance.now();
    const pids = childPids(dataDir);
    if (o.fault === "worker") {
      if (moment) {
        // Generous: on a loaded machine the first notification can come 40 s into the stream.
        const line = await killWorkerInside(s, moment, 45000);
        if (!line) {
          violations.push(`worker: no ${moment} invocation within 45 s to kill it in`);
          return;
        }
        t0 = performance.now();
        notes.push(`worker killed inside ${moment}`);
      } else {
        if (!pids.worker) return;
        process.kill(pids.worker, "SIGKILL");
        notes.push("worker killed at a random moment");
      }
      await until(
        "worker restarted",
        () => {
          const now = childPids(dataDir).worker;
          return !!now && now !== pids.worker && alive(now);
        },
        20000,
      );
      await until("healthy after a worker kill", () => healthy(api()), 30000);
    } else if (o.fault === "emulators") {
      if (!pids.emulators) return;
      faultActive = true;
      process.kill(pids.emulators, "SIGKILL");
      await until(
        "emulators restarted",
        () => childPids(dataDir).emulators !== pids.emulators,
        20000,
      );
      await until("healthy after an emulators kill", () => healthy(api()), 30000);
      faultActive = false;
      notes.push("emulators killed");
    } else if (o.fault === "disk") {
      // Shrink the tmpfs to just above what is used: the next writes fail with ENOSPC.
      const limit = usedBytes(dataDir) + 128 * 1024;
      if (s.disk === "hook") fs.writeFileSync(fullFlag(s), "");
      else if (!mount(["-o", `remount,size=${limit}`, dataDir])) throw new Error("remount failed");
      faultActive = true;
      const full = performance.now();
      await until(
        "a 503 while the disk is full",
        () => (answers["503+Retry-After"] ?? 0) > 0,
        6000,
      ).catch(() => undefined);
      await sleep(1000);
      if (s.disk === "hook") fs.rmSync(fullFlag(s));
      else if (!mount(["-o", `remount,size=${ROOMY}`, dataDir])) throw new Error("remount failed");
      const freed = performance.now();
      await until("healthy once space returned", () => healthy(api()), 30000);
      faultActive = false;
      recovery.push((performance.now() - freed) / 1000);
      const how = s.disk === "hook" ? "an ENOSPC write hook" : `a ${limit} B tmpfs`;
      notes.push(`disk full for ${((freed - full) / 1000).toFixed(1)} s (${how})`);
      if (!answers["503+Retry-After"])
        violations.push("disk full: POST /orders never answered 503");
      log(`disk: space back; healthy again after ${recovery.at(-1)!.toFixed(2)} s`);
      return;
    } else if (o.fault === "torn") {
      await s.host.kill();
      const torn = newestSegments(dataDir).map(
        (f) => `${path.relative(dataDir, f)} +${tearTail(f, random)} B`,
      );
      log(`torn last records: ${torn.join(", ")}`);
      if (torn.length < 3) throw new Error(`expected 3 durable logs, found ${torn.join(", ")}`);
      notes.push(`every process killed, torn tails: ${torn.join(", ")}`);
      await restartHost(s);
      await until("healthy after a torn-tail restart", () => healthy(api()), 30000);
    } else {
      process.kill(pids.host, "SIGKILL");
      const children = [pids.worker, pids.emulators].filter((p): p is number => !!p);
      await until("the host's children exit after it", () => !children.some(alive), 10000);
      notes.push("host killed");
      await restartHost(s);
      await until("healthy after a host restart", () => healthy(api()), 30000);
    }
    recovery.push((performance.now() - t0) / 1000);
    log(`${notes.at(-1)}; healthy again after ${recovery.at(-1)!.toFixed(2)} s`);
  };

  const inject = async () => {
    const [lo, hi] = o.pauseMs ?? [800, 2500];
    // Named moments first, in the order they come in an order's life; the acknowledged orders
    // keep the pipeline busy after the stream ends, so a late one (a refund) can still be hit.
    for (const moment of o.moments ?? []) await injectOnce(moment);
    while (streaming) {
      await sleep(lo + random() * (hi - lo));
      if (!streaming) return;
      await injectOnce(undefined);
      // One injection of the kinds that replace the host or fill the disk per run is enough.
      if (o.fault !== "worker" && o.fault !== "emulators" && recovery.length > 0) return;
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
  await Promise.all(sends);
  await injecting;

  const list = [...accepted.values()];
  const streamEnd = performance.now();
  const stuck = await awaitTerminal(api(), list, 90000);
  const settled = performance.now();
  violations.push(...stuck.map((id) => `${id}: never reached a terminal state`));
  if (sent !== list.length) violations.push(`${sent - list.length} orders never acknowledged`);
  for (const [answer, n] of Object.entries(answers)) {
    if (!["202", "200", "503+Retry-After"].includes(answer)) {
      violations.push(`${n} POST /orders answered ${answer} during the fault`);
    }
  }
  // Worker restarts reset the simulated gateway's per-process transient count.
  violations.push(...(await verify(api(), list, { allowTransientExhausted: true })));
  const verified = performance.now();
  const outcomes: Record<string, number> = {};
  for (const a of list) {
    const st = await getJson(`${api()}/orders/${a.orderId}/status`).catch(() => undefined);
    const status = String(st?.body?.status ?? "unknown");
    outcomes[status] = (outcomes[status] ?? 0) + 1;
  }
  return {
    fault: o.fault,
    sent,
    acknowledged: list.length,
    completed: outcomes.Completed ?? 0,
    outcomes,
    injections: recovery.length,
    recoverySeconds: recovery,
    notes,
    settleSeconds: (settled - streamEnd) / 1000,
    verifySeconds: (verified - settled) / 1000,
    answersDuringFault: answers,
    violations,
    hostLog: s.host.logs(),
  };
}

export function formatReport(r: FaultReport): string {
  const rec = r.recoverySeconds;
  const max = rec.length ? Math.max(...rec).toFixed(2) : "-";
  const mean = rec.length ? (rec.reduce((a, b) => a + b, 0) / rec.length).toFixed(2) : "-";
  const answers = Object.keys(r.answersDuringFault).length
    ? `, answers during the fault ${JSON.stringify(r.answersDuringFault)}`
    : "";
  return (
    `fault ${r.fault}: sent ${r.sent}, acknowledged ${r.acknowledged}, completed ${r.completed} ` +
    `${JSON.stringify(r.outcomes)}, ${r.injections} injections (${r.notes.join("; ")})${answers}, ` +
    `time to recover mean ${mean} s max ${max} s, all terminal ${r.settleSeconds.toFixed(1)} s ` +
    `after the last acknowledgement (verified in ${r.verifySeconds.toFixed(1)} s), ` +
    `invariants broken: ${r.violations.length}` +
    (r.violations.length ? `\n  ${r.violations.slice(0, 20).join("\n  ")}` : "")
  );
}
