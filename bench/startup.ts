/**
 * Start-up time of the local host (`npm start` minus the TypeScript build): from spawning
 * `node dist/local-host/src/cli.js` to its "Host ready" line, i.e. HTTP served, functions
 * listed, emulators up, durable engine recovered, Service Bus receivers started. Runs the shell's
 * fixture app and, when built, the project's own app; each on a fresh DATA_DIR and again on the
 * same (persisted) DATA_DIR. Emulators on free ports so it runs beside another host.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { percentile } from "./lib/stats";

const root = path.resolve(__dirname, "..", "..");
const cli = path.join(root, "dist", "local-host", "src", "cli.js");

async function startOnce(appDir: string, dataDir: string, extra: string[]): Promise<number> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [cli, "--app", appDir, "--data-dir", dataDir, "--port", "0", "--free-ports", ...extra],
    { stdio: ["ignore", "pipe", "pipe"], detached: true },
  );
  let out = "";
  const exited = new Promise((r) => child.once("exit", r));
  const ready = new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("Host ready:")) resolve(performance.now() - started);
    });
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.once("exit", (code) => reject(new Error(`host exited (${code}) before ready:\n${out}`)));
  });
  try {
    return await ready;
  } finally {
    const stopAt = performance.now();
    child.kill("SIGTERM");
    await exited;
    if (process.env.BENCH_VERBOSE === "true") {
      console.log(`  (stopped in ${Math.round(performance.now() - stopAt)} ms)`);
      fs.writeFileSync(path.join(os.tmpdir(), "bench-startup-last.log"), out);
    }
  }
}

/** Milliseconds from spawn to "Host ready", over `n` starts. */
export interface StartupFigure {
  p50: number;
  min: number;
  max: number;
  n: number;
}

export interface StartupFigures {
  loadAverage: number;
  fixtureApp: { fresh: StartupFigure; existing: StartupFigure };
  orderApp?: { fresh: StartupFigure; existing: StartupFigure };
}

async function measure(
  name: string,
  appDir: string,
  extra: string[],
  runs: number,
): Promise<{ fresh: StartupFigure; existing: StartupFigure }> {
  const fresh: number[] = [];
  const again: number[] = [];
  for (let i = 0; i < runs; i++) {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-startup-"));
    try {
      fresh.push(await startOnce(appDir, dataDir, extra));
      again.push(await startOnce(appDir, dataDir, extra));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }
  const figure = (label: string, values: number[]): StartupFigure => {
    const s = [...values].sort((a, b) => a - b);
    const f = {
      p50: Math.round(percentile(s, 50)),
      min: Math.round(s[0]),
      max: Math.round(s[s.length - 1]),
      n: s.length,
    };
    console.log(
      `startup ${name}, ${label}: p50 ${f.p50} ms, min ${f.min} ms, max ${f.max} ms (n=${f.n}, load avg ${os.loadavg()[0].toFixed(1)})`,
    );
    return f;
  };
  return { fresh: figure("fresh DATA_DIR", fresh), existing: figure("existing DATA_DIR", again) };
}

export async function run(): Promise<StartupFigures> {
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: npm run build first`);
  const runs = Number(process.env.BENCH_STARTUP_RUNS ?? 5);
  const fixture = path.join(root, "local-host", "test", "fixtures", "http-app");
  const loadAverage = Number(os.loadavg()[0].toFixed(2));
  const fixtureApp = await measure(
    "fixture app",
    fixture,
    [
      "--servicebus-config",
      path.join(fixture, "servicebus-config.json"),
      "--cosmos-config",
      path.join(fixture, "cosmos.json"),
    ],
    runs,
  );
  const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as {
    main: string;
  };
  if (!fs.existsSync(path.join(root, pkg.main))) {
    console.log(`startup order app: skipped (${pkg.main} not built)`);
    return { loadAverage, fixtureApp };
  }
  return { loadAverage, fixtureApp, orderApp: await measure("order app", root, [], runs) };
}

if (require.main === module) {
  run().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
