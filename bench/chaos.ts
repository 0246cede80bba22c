/**
 * Chaos soak (issue 12): `npm run bench -- chaos [--minutes N]` (default 30) runs the fault
 * suite's soak — rounds of a 30 orders/s stream, each with a random fault (worker SIGKILLs, host
 * SIGKILL + restart) — and prints the per-fault report (test/faults/faults.ts) of every round.
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
