// Starts the local host (`node dist/local-host/src/cli.js`) as a separate process for end-to-end
// tests: free ports, an isolated DATA_DIR, readiness, and stop()/kill() that leave nothing behind.
// Run `npm run build` (or execFileSync("npm", ["run", "build"])) once in beforeAll first.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export interface StartedHost {
  baseUrl: string;
  endpoints: Record<string, unknown>;
  dataDir: string;
  process: ChildProcess;
  /** Host + worker (+ any other descendant) pids, for SIGKILL tests. */
  pids(): number[];
  /** SIGTERM + wait (graceful stop). */
  stop(): Promise<void>;
  /** SIGKILL every process it started. */
  kill(): Promise<void>;
  /** Captured stdout+stderr. */
  logs(): string;
}

export interface StartHostOptions {
  appDir: string;
  /** Default: a new temporary directory (reuse one to test restarts). */
  dataDir?: string;
  env?: Record<string, string>;
  /** Free HTTP and emulator ports (default true); false = PORT from env or 7071 and standard emulator ports. */
  freePorts?: boolean;
  enforceKeys?: boolean;
  /** Extra CLI arguments (e.g. ["--external-emulators"], ["--servicebus-config", file]). */
  args?: string[];
  /** Readiness timeout (default 60 s). */
  timeoutMs?: number;
  /** The script to run instead of the built CLI (e.g. dev-cli.js for `npm run dev`). */
  cli?: string;
}

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..", "..");
export const CLI = path.join(PROJECT_ROOT, "dist", "local-host", "src", "cli.js");

/** Child pids of `pid`, recursively, read from /proc (Linux). */
export function descendantsOf(pid: number): number[] {
  const children = new Map<number, number[]>();
  let entries: string[] = [];
  try {
    entries = fs.readdirSync("/proc");
  } catch {
    return [];
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name (field 2) may contain spaces: parse after its closing parenthesis.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = children.get(ppid) ?? [];
      list.push(Number(entry));
      children.set(ppid, list);
    } catch {
      // The process exited while we looked.
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of children.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startHost(options: StartHostOptions): Promise<StartedHost> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first.`);
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "local-host-"));
  const freePorts = options.freePorts ?? true;
  const args = [options.cli ?? CLI, "--app", path.resolve(options.appDir), "--data-dir", dataDir];
  if (freePorts) args.push("--free-ports", "--port", "0");
  if (options.enforceKeys) args.push("--enforce-keys");
  args.push(...(options.args ?? []));
  const child = spawn(process.execPath, args, {
    cwd: options.appDir,
    env: {
      ...process.env,
      // The host stops itself if the test process disappears without stopping it.
      LOCALHOST_EXIT_WITH_PARENT: String(process.pid),
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, so kill() reaches the worker and anything else it started.
    detached: true,
  });
  let output = "";
  child.stdout!.on("data", (d: Buffer) => (output += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const hostPid = child.pid!;
  const known = new Set<number>([hostPid]);

  const pids = (): number[] => {
    for (const p of descendantsOf(hostPid)) known.add(p);
    return [...known].filter(alive);
  };
  const kill = async (): Promise<void> => {
    const targets = pids();
    try {
      process.kill(-hostPid, "SIGKILL");
    } catch {
      // The group is already gone.
    }
    for (const p of targets) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Already dead.
      }
    }
    await exited;
    const deadline = Date.now() + 5000;
    while (targets.some(alive) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    const timer = setTimeout(() => void kill(), 30000);
    await exited;
    clearTimeout(timer);
    // Anything the host failed to stop goes too.
    for (const p of [...known].filter(alive)) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        // Already dead.
      }
    }
  };

  const timeoutMs = options.timeoutMs ?? 60000;
  const deadline = Date.now() + timeoutMs;
  const endpointsFile = path.join(dataDir, "endpoints.json");
  let ready = false;
  let done = false;
  void exited.then(() => (done = true));
  while (!ready) {
    if (done) {
      throw new Error(`The host exited before it was ready (code ${child.exitCode}):\n${output}`);
    }
    if (Date.now() > deadline) {
      await kill();
      throw new Error(`The host was not ready within ${timeoutMs} ms:\n${output}`);
    }
    ready = output.includes("Host ready:") && fs.existsSync(endpointsFile);
    if (!ready) await new Promise((r) => setTimeout(r, 25));
  }
  const endpoints = JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as Record<string, unknown>;
  pids();
  return {
    baseUrl: String(endpoints.baseUrl),
    endpoints,
    dataDir,
    process: child,
    pids,
    stop,
    kill,
    logs: () => output,
  };
}

let built = false;
/**
 * Builds dist/ once per test process (`tsc -p tsconfig.build.json`). Type errors elsewhere in the
 * tree do not stop tsc from emitting, so only a missing CLI counts as a failure here.
 * LOCALHOST_SKIP_BUILD=true skips it when dist/ is known to be fresh.
 */
export function ensureBuilt(): void {
  if (built || process.env.LOCALHOST_SKIP_BUILD === "true") return;
  const tsc = path.join(PROJECT_ROOT, "node_modules", "typescript", "bin", "tsc");
  const result = spawnSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  if (!fs.existsSync(CLI)) {
    throw new Error(`Build failed, ${CLI} is missing:\n${result.stdout}${result.stderr}`);
  }
  built = true;
}
