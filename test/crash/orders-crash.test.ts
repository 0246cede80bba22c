// Crash safety of the order app on the local host (issue 4): SIGKILL every host process at a
// random moment with 100 orders in flight, restart on the same DATA_DIR, and check that no
// acknowledged order is lost, timers are re-armed, in-flight work resumes, every order reaches
// the outcome its card implies, the ledger shows no double charge and Completed orders get their
// three notifications. The kill moments come from a seeded PRNG: set CRASH_SEED to replay a run.
import fs from "node:fs";
import path from "node:path";
import { ensureBuilt, type StartedHost } from "../../local-host/test/support/host";
import { crashRun, plan, prng, verify, type KillPlan } from "./scenario";

const appDir = path.resolve(__dirname, "..", "..");
const ORDERS = 100;
const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000);
const random = prng(seed);
const between = (lo: number, hi: number) => Math.round(lo + random() * (hi - lo));

const started: StartedHost[] = [];

beforeAll(() => {
  ensureBuilt();
  console.log(`crash suite seed ${seed} (CRASH_SEED=${seed} replays the kill moments)`);
}, 180000);

afterAll(async () => {
  for (const h of started) await h.stop().catch(() => undefined);
});

interface RunSpec {
  name: string;
  kill: KillPlan;
  twice?: boolean;
}

// Drawn up front so the plan depends on the seed only. `npm test` runs one of each kind (the
// first four); CRASH_RUNS=7 adds three more draws of the two single-kill kinds (the full set
// was run seven at a time, and 50 rounds of it, when the suite was written).
const allRuns: RunSpec[] = [
  { name: "after the last 202", kill: { delayAfterLastMs: between(0, 1500) } },
  { name: "while submitting", kill: { afterAccepted: between(25, 75) } },
  {
    name: "twice: after the last 202, then mid-recovery",
    kill: { delayAfterLastMs: between(0, 1500), secondKillAfterRestartMs: between(100, 1500) },
    twice: true,
  },
  {
    name: "twice: after the last 202, then during the restart's startup",
    kill: { delayAfterLastMs: between(0, 1500), killDuringStartupAfterMs: between(150, 1000) },
    twice: true,
  },
  { name: "after the last 202", kill: { delayAfterLastMs: between(0, 1500) } },
  { name: "while submitting", kill: { afterAccepted: between(25, 75) } },
  { name: "after the last 202", kill: { delayAfterLastMs: between(0, 1500) } },
];
const runs = allRuns.slice(0, Math.min(allRuns.length, Number(process.env.CRASH_RUNS ?? 4)));

describe.each(runs.map((r, i) => [i + 1, r] as const))("crash run %i", (n, spec) => {
  it(`SIGKILL ${spec.name} (${JSON.stringify(spec.kill)}): no acknowledged order lost, outcomes and ledger exact`, async () => {
    const log = (line: string) => console.log(`run ${n}: ${line}`);
    const orders = plan(`${seed}-${n}`, ORDERS);
    const { host, client, result } = await crashRun(appDir, orders, spec.kill, log, started);
    try {
      const violations = await verify(client.api, result.accepted, {
        allowTransientExhausted: spec.twice === true,
      });
      log(
        `${result.accepted.length} orders acknowledged (${result.acceptedBeforeKill} before the kill), ` +
          `${result.inProgressAfterRestart} still in progress after the restart, all terminal ` +
          `${result.recoverySeconds.toFixed(1)} s after it: ${JSON.stringify(result.outcomes)}; ` +
          `approvals acknowledged ${result.approvals.acknowledged}, cut off ${result.approvals.cutOff}`,
      );
      if (violations.length > 0) {
        throw new Error(
          `${violations.length} invariant violations (data dir kept: ${host.dataDir}):\n` +
            `${violations.join("\n")}\n--- host log (last restart) ---\n${host.logs().slice(-4000)}`,
        );
      }
      // Every planned order was eventually acknowledged (the client repeats what was cut off).
      expect(result.accepted).toHaveLength(ORDERS);
      // The kill really hit work in flight: running orders and pending approval timers.
      expect(result.acceptedBeforeKill).toBeGreaterThanOrEqual(25);
      expect(result.inProgressAfterRestart).toBeGreaterThan(0);
      expect(result.timersPendingAtKill).toBeGreaterThan(0);
      expect(result.approvals.acknowledged).toBeGreaterThan(0);
      await client.close();
      await host.stop();
      fs.rmSync(host.dataDir, { recursive: true, force: true });
    } finally {
      await client.close();
    }
  }, 240000);
});
