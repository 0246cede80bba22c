/**
 * Starts the local host as `npm start` runs it (`node dist/local-host/src/cli.js`, build excluded)
 * as a child process: free ports, a fresh DATA_DIR, emulators embedded. Resolves once it printed
 * "Host ready" and wrote endpoints.json; `stop()` ends it and removes the DATA_DIR.
 */
import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";

export const ROOT = path.resolve(__dirname, "..", "..", "..");
const CLI = path.join(ROOT, "dist", "local-host", "src", "cli.js");

export interface Endpoints {
  baseUrl: string;
  apiBaseUrl: string;
  rpcBaseUrl: string;
  pids: { host: number; worker?: number; workers?: (number | undefined)[]; emulators?: number };
}

export interface RunningHost {
  endpoints: Endpoints;
  dataDir: string;
  /** ms from spawn to "Host ready". */
  readyMs: number;
  /** performance.now() at spawn, for start-up to the first accepted request. */
  spawnedAt: number;
  child: ChildProcess;
  /** Where each process writes its counters (LOCALHOST_COUNTERS_DIR). */
  countersDir: string;
  /** The host's processes by role, read again (worker processes after the first join later). */
  pids(): { host: number; worker: (number | undefined)[]; emulators?: number };
  output(): string;
  stop(): Promise<void>;
}

export async function startHost(
  opts: { app?: string; env?: Record<string, string>; args?: string[] } = {},
): Promise<RunningHost> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: npm run build first`);
  const dataDir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "bench-host-"));
  const countersDir = path.join(dataDir, "counters");
  fs.mkdirSync(countersDir);
  const logFile = path.join(dataDir, "host.log");
  const logFd = fs.openSync(logFile, "a");
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      // `--cpu-prof` (bench/run.ts): the host, and the worker and emulators it forks with the
      // same exec arguments, write CPU profiles.
      ...(process.env.BENCH_CPU_PROF_DIR
        ? ["--cpu-prof", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
        : []),
      CLI,
      "--app",
      opts.app ?? ROOT,
      "--data-dir",
      dataDir,
      "--free-ports",
      "--port",
      "0",
      ...(opts.args ?? []),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        LOCALHOST_EXIT_WITH_PARENT: String(process.pid),
        LOCALHOST_COUNTERS_DIR: countersDir,
        ...opts.env,
      },
      // A file, not a pipe: the host's stdout is synchronous, so a pipe this process (busy
      // generating load) drains late would stall the host it measures.
      stdio: ["ignore", logFd, logFd],
      detached: true,
    },
  );
  fs.closeSync(logFd);
  const output = (): string => {
    try {
      const size = fs.statSync(logFile).size;
      const fd = fs.openSync(logFile, "r");
      try {
        const length = Math.min(size, 200_000);
        const buf = Buffer.alloc(length);
        fs.readSync(fd, buf, 0, length, size - length);
        return buf.toString();
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return "";
    }
  };
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const endpointsFile = path.join(dataDir, "endpoints.json");
  const deadline = Date.now() + 120_000;
  while (!(fs.existsSync(endpointsFile) && output().includes("Host ready:"))) {
    if (child.exitCode !== null) throw new Error(`host exited:\n${output()}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`host not ready:\n${output()}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  const readyMs = performance.now() - spawnedAt;
  const endpoints = JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as Endpoints;
  return {
    endpoints,
    dataDir,
    readyMs,
    spawnedAt,
    child,
    countersDir,
    pids() {
      let p = endpoints.pids;
      try {
        p = (JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as Endpoints).pids;
      } catch {
        // mid-write: the first reading serves
      }
      return { host: p.host, worker: p.workers ?? [p.worker], emulators: p.emulators };
    },
    output,
    async stop() {
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, 20_000);
      await exited;
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Sums the counter files every process of the host wrote (see local-host/src/counters.ts). */
export async function readCounters(dir: string): Promise<Record<string, Record<string, number>>> {
  // Each process rewrites its file every 250 ms: wait for one fresh round.
  await new Promise((r) => setTimeout(r, 400));
  const out: Record<string, Record<string, number>> = {};
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith(".json"))) {
    try {
      const { role, counters } = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as {
        role: string;
        counters: Record<string, number>;
      };
      const into = (out[role] ??= {});
      for (const [k, v] of Object.entries(counters)) into[k] = (into[k] ?? 0) + v;
    } catch {
      // mid-write: the next read gets it
    }
  }
  return out;
}

/** Counter differences between two readings, divided by `units`. */
export function countersPer(
  before: Record<string, Record<string, number>>,
  after: Record<string, Record<string, number>>,
  units: number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [role, counters] of Object.entries(after)) {
    for (const [k, v] of Object.entries(counters)) {
      out[`${role}.${k}`] = (v - (before[role]?.[k] ?? 0)) / units;
    }
  }
  return out;
}
