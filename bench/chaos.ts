/**
 * Chaos soak (issue 12): `npm run bench -- chaos [--minutes N]` (default 30) runs the fault
 * suite's soak — rounds of a 30 s stream at 30 orders/s on a fresh host, each with a random
 * fault: worker SIGKILLs (first inside a random choice of charge, capture, refund and notification
 * delivery), emulators SIGKILLs, DATA_DIR's disk filling up (a tmpfs) and freed, host SIGKILL, every
 * process + torn log tails — and prints the per-fault report (test/faults/faults.ts) of each round.
 * It runs under jest so the suite's TypeScript helpers are used as they are in `npm test`.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

export function minutesFrom(argv: string[]): number {
  const i = argv.indexOf("--minutes");
  const n = i >= 0 ? Number(argv[i + 1]) : 30;
  if (!Number.isFinite(n) || n <= 0) throw new Error("--minutes needs a positive number");
  return n;
}

export async function run(): Promise<void> {
  const minutes = minutesFrom(process.argv.slice(2));
  const root = path.resolve(__dirname, "..", "..");
  console.log(`chaos: random faults under 30 orders/s for ${minutes} min`);
  const result = spawnSync(
    process.execPath,
    [path.join(root, "node_modules", "jest", "bin", "jest.js"), "test/faults/faults.test.ts"],
    {
      cwd: root,
      stdio: "inherit",
      env: { ...process.env, FAULT_SOAK_MINUTES: String(minutes), LOCALHOST_SKIP_BUILD: "true" },
    },
  );
  if (result.status !== 0) process.exitCode = 1;
}
