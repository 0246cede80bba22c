// Short forms of the fault suite (issue 12): each fault under a stream of 30 orders a second on
// one shared host and DATA_DIR (a tmpfs of its own, so the disk can fill), then the crash
// suite's invariants on every acknowledged order. FAULT_SEED replays a run; FAULTS=worker,disk
// picks faults; FAULT_SOAK_MINUTES (set by `npm run bench -- chaos`) runs random faults, each
// round on a fresh host, for that long instead.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuilt } from "../../local-host/test/support/host";
import { prng } from "../crash/scenario";
import {
  closeSession,
  formatReport,
  MOMENTS,
  openSession,
  runFault,
  type FaultName,
  type FaultReport,
  type Moment,
  type Session,
} from "./faults";

const appDir = path.resolve(__dirname, "..", "..");
const seed = Number(process.env.FAULT_SEED ?? Date.now() % 1_000_000);
const soakMinutes = Number(process.env.FAULT_SOAK_MINUTES ?? 0);

beforeAll(() => {
  ensureBuilt();
  console.log(`fault suite seed ${seed} (FAULT_SEED=${seed} replays it)`);
}, 180000);

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

interface Spec {
  fault: FaultName;
  seconds: number;
  pauseMs: [number, number];
  moments?: readonly Moment[];
  title: string;
}

// Faults that keep the host first, then the ones that replace it.
const SHORT = (
  [
    {
      fault: "worker",
      seconds: 7,
      pauseMs: [300, 900],
      moments: MOMENTS,
      title: `SIGKILL of the worker inside ${MOMENTS.join(", ")} (random moments: the soak)`,
    },
    {
      fault: "emulators",
      seconds: 4,
      pauseMs: [1000, 1500],
      title: "SIGKILL of the emulators: HTTP accepts or answers 503 + Retry-After meanwhile",
    },
    {
      fault: "disk",
      seconds: 5,
      pauseMs: [1000, 1500],
      title: "DATA_DIR's disk fills: 503 + Retry-After, then recovery without a restart",
    },
    { fault: "host", seconds: 4, pauseMs: [1000, 1500], title: "SIGKILL of the host" },
    {
      fault: "torn",
      seconds: 3,
      pauseMs: [1000, 1500],
      title: "SIGKILL of every process + a torn last record in each log",
    },
  ] as Spec[]
).filter((s) => !process.env.FAULTS || process.env.FAULTS.split(",").includes(s.fault));

if (soakMinutes > 0) {
  it(
    `chaos soak: random faults for ${soakMinutes} min`,
    async () => {
      const random = prng(seed);
      const faults: FaultName[] = ["worker", "emulators", "disk", "host", "torn"];
      const endAt = Date.now() + soakMinutes * 60000;
      const reports: FaultReport[] = [];
      for (let round = 0; Date.now() < endAt; round++) {
        const fault = faults[Math.floor(random() * faults.length)];
        // Worker rounds kill inside a random selection of the named functions first.
        const moments = MOMENTS.filter(() => random() < 0.5);
        const session = await openSession(appDir, { tmpfs: fault === "disk" });
        try {
          const report = await runFault(session, {
            fault,
            rate: 30,
            seconds: 30,
            seed: seed + round,
            moments: fault === "worker" ? moments : undefined,
            log: (l) => console.log(`round ${round}: ${l}`),
          });
          console.log(`round ${round}: ${formatReport(report)}`);
          reports.push(report);
        } finally {
          await closeSession(session);
        }
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
  describe("faults under 30 orders/s, one after another on one host and DATA_DIR", () => {
    let session: Session | undefined;
    beforeAll(async () => {
      session = await openSession(appDir, { tmpfs: SHORT.some((s) => s.fault === "disk") });
    }, 120000);
    afterAll(() => closeSession(session), 60000);

    it.each(SHORT.map((s) => [s.title, s] as const))(
      "%s: every acknowledged order exact",
      async (_title, spec) => {
        const report = await runFault(session!, {
          fault: spec.fault,
          rate: 30,
          seconds: spec.seconds,
          pauseMs: spec.pauseMs,
          moments: spec.moments,
          seed,
          log: (l) => console.log(l),
        });
        check(report);
        if (spec.moments) {
          for (const m of spec.moments) expect(report.notes).toContain(`worker killed inside ${m}`);
        }
        if (spec.fault === "disk" || spec.fault === "emulators") {
          expect(Object.keys(report.answersDuringFault).length).toBeGreaterThan(0);
        }
      },
      300000,
    );
  });
}
