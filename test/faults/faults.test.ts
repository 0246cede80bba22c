// Short forms of the fault suite (issue 12): each fault under a stream of 30 orders a second,
// then the crash suite's invariants on every acknowledged order. FAULT_SEED replays a run;
// FAULT_SOAK_MINUTES (set by `npm run bench -- chaos`) runs random faults for that long instead.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuilt, type StartedHost } from "../../local-host/test/support/host";
import { prng } from "../crash/scenario";
import { formatReport, runFault, type FaultName, type FaultReport } from "./faults";

const appDir = path.resolve(__dirname, "..", "..");
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const soakMinutes = Number(process.env.FAULT_SOAK_MINUTES ?? 0);
const started: StartedHost[] = [];

beforeAll(() => {
  ensureBuilt();
  console.log(`fault suite seed ${seed} (FAULT_SEED=${seed} replays it)`);
}, 180000);

afterAll(async () => {
  for (const h of started) await h.stop().catch(() => undefined);
});

function check(report: FaultReport): void {
  console.log(formatReport(report));
  if (report.violations.length > 0) {
    const file = path.join(os.tmpdir(), `fault-${report.fault}-${seed}-host.log`);
    fs.writeFileSync(file, report.hostLog);
    const notable = report.hostLog.split("\n").filter((l) => /warn|error|exited|restart/i.test(l));
    console.log(`host log in ${file}; warnings and errors:\n${notable.slice(-60).join("\n")}`);
  }
  expect(report.violations).toEqual([]);
  expect(report.injections).toBeGreaterThan(0);
  expect(report.acknowledged).toBe(report.sent);
}

const SHORT = (
  [
    { fault: "worker", seconds: 5, pauseMs: [400, 1100] },
    { fault: "emulators", seconds: 4, pauseMs: [1500, 2500] },
    { fault: "host", seconds: 5, pauseMs: [1200, 2200] },
    { fault: "torn", seconds: 4, pauseMs: [1200, 2000] },
  ] as { fault: FaultName; seconds: number; pauseMs: [number, number] }[]
).filter((s) => !process.env.FAULTS || process.env.FAULTS.split(",").includes(s.fault));

if (soakMinutes > 0) {
  it(
    `chaos soak: random faults for ${soakMinutes} min`,
    async () => {
      const random = prng(seed);
      const faults: FaultName[] = ["worker", "emulators", "host", "torn"];
      const endAt = Date.now() + soakMinutes * 60000;
      const reports: FaultReport[] = [];
      for (let round = 0; Date.now() < endAt; round++) {
        const fault = faults[Math.floor(random() * faults.length)];
        const report = await runFault({
          appDir,
          fault,
          rate: 30,
          seconds: 30,
          seed: seed + round,
          hosts: started,
          log: (l) => console.log(`round ${round}: ${l}`),
        });
        console.log(`round ${round}: ${formatReport(report)}`);
        reports.push(report);
        while (started.length > 0)
          await started
            .pop()!
            .stop()
            .catch(() => undefined);
      }
      const broken = reports.flatMap((r) => r.violations);
      console.log(
        `chaos soak: ${reports.length} rounds, ${reports.reduce((a, r) => a + r.acknowledged, 0)} orders acknowledged, ${broken.length} invariants broken`,
      );
      expect(broken).toEqual([]);
    },
    (soakMinutes + 10) * 60000,
  );
} else {
  describe.each(SHORT.map((s) => [s.fault, s] as const))("fault %s", (_name, spec) => {
    const what =
      spec.fault === "torn"
        ? "every process + a torn last record in each log"
        : `the ${spec.fault}`;
    it(`SIGKILL of ${what} under 30 orders/s: every acknowledged order exact`, async () => {
      const report = await runFault({
        appDir,
        fault: spec.fault,
        rate: 30,
        seconds: spec.seconds,
        pauseMs: spec.pauseMs,
        seed,
        hosts: started,
        log: (l) => console.log(l),
      });
      check(report);
    }, 180000);
  });
}
