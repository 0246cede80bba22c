// The start-up benchmark through the dispatcher, one start each way: it must reach "Host ready"
// for the fixture app and the order app and write the figures it printed into the results file.
import { execFile } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "..", "..");

describe("bench startup", () => {
  it("times the fixture app and the order app, fresh and existing DATA_DIR, into the results JSON", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, "dist", "bench", "run.js"), "startup"],
      { cwd: ROOT, timeout: 120_000, env: { ...process.env, BENCH_STARTUP_RUNS: "1" } },
    );
    const file = /^results: (.+\.json)$/m.exec(stdout)?.[1];
    expect(file).toBeDefined();
    try {
      type Figure = { p50: number; min: number; max: number; n: number };
      const results = JSON.parse(fs.readFileSync(file!, "utf8")) as {
        benchmarks: { startup: Record<string, Record<string, Figure>> };
      };
      for (const app of ["fixtureApp", "orderApp"]) {
        for (const dir of ["fresh", "existing"]) {
          const f = results.benchmarks.startup[app]![dir]!;
          expect(f.n).toBe(1);
          expect(f.p50).toBeGreaterThan(0);
          expect(f.min).toBeLessThanOrEqual(f.p50);
          expect(f.max).toBeGreaterThanOrEqual(f.p50);
          const label = dir === "fresh" ? "fresh DATA_DIR" : "existing DATA_DIR";
          const name = app === "fixtureApp" ? "fixture app" : "order app";
          expect(stdout).toContain(`startup ${name}, ${label}: p50 ${f.p50} ms`);
        }
      }
    } finally {
      fs.rmSync(file!, { force: true });
    }
  }, 150_000);
});
