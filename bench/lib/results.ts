/**
 * One JSON file per `npm run bench` run under bench/results/ (git-ignored; committed baselines
 * are added with `git add -f`): the machine, Node version, git commit, the settings the host ran
 * with, `completedOrdersPerSec` and each benchmark's figures.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const RESULTS_SCHEMA = 1;

export interface RunSettings {
  /** Every durable commit, Cosmos write and Service Bus send fsync'd before it is acknowledged. */
  fsync: boolean;
  /** Bearer tokens from the dev issuer validated on every request (signature included). */
  tokenChecks: boolean;
  /** The app's trace sampler: parent-based trace-id ratio OTEL_TRACES_SAMPLER_ARG. */
  traceSampler: string;
  quick: boolean;
}

export interface BenchResults {
  schema: number;
  startedAt: string;
  finishedAt?: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGiB: number;
    platform: string;
    release: string;
    loadAverageAtStart: number;
  };
  node: string;
  git: { commit: string; dirty: boolean };
  settings: RunSettings;
  /** Completed orders per second at saturation, after the warm-up; null when orders did not run. */
  completedOrdersPerSec: number | null;
  benchmarks: Record<string, unknown>;
}

function git(args: string[], cwd: string): string {
  try {
    return execFileSync("git", args, {
      cwd,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return "";
  }
}

export function newResults(root: string, quick: boolean): BenchResults {
  return {
    schema: RESULTS_SCHEMA,
    startedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: os.platform(),
      release: os.release(),
      loadAverageAtStart: Number(os.loadavg()[0].toFixed(2)),
    },
    node: process.version,
    git: {
      commit: git(["rev-parse", "HEAD"], root) || "unknown",
      dirty: git(["status", "--porcelain", "--untracked-files=no"], root) !== "",
    },
    settings: {
      fsync: true,
      tokenChecks: true,
      traceSampler: `parentbased_traceidratio ${process.env.OTEL_TRACES_SAMPLER_ARG ?? "1"}`,
      quick,
    },
    completedOrdersPerSec: null,
    benchmarks: {},
  };
}

/** Writes the run's file; returns its path. */
export function writeResults(root: string, results: BenchResults): string {
  const dir = path.join(root, "bench", "results");
  fs.mkdirSync(dir, { recursive: true });
  const stamp = results.startedAt.replace(/[:.]/g, "-");
  const file = path.join(dir, `${stamp}${results.settings.quick ? "-quick" : ""}.json`);
  fs.writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}

/** The newest results file (by name, which starts with the run's ISO time). */
export function latestResults(root: string): string | undefined {
  const dir = path.join(root, "bench", "results");
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-.*\.json$/.test(f))
    .sort();
  return files.length > 0 ? path.join(dir, files[files.length - 1]) : undefined;
}
