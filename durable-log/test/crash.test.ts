/**
 * Real crash test: a child process appends (and compacts) continuously, printing every
 * acknowledged sequence number; we SIGKILL it at a random moment and check that recovery holds
 * every acknowledged record and nothing but a gap-free prefix.
 */
import { spawn } from "node:child_process";
import { promises as fsp } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as ts from "typescript";
import { DurableLog } from "../src/index";

// The child runs plain JS: transpile just this module so the test does not depend on the whole
// project building (other parts may be mid-edit).
const CHILD = `
const { DurableLog } = require(process.argv[2]);
const dir = process.argv[3];
(async () => {
  const { log } = await DurableLog.open({ dir });
  let next = 0; // every seq below this has had append() called
  let inFlight = 0;
  let compacting = false;
  const acked = (seqs) => process.stdout.write(seqs.join("\\n") + "\\n");
  const die = (err) => { console.error(err); process.exit(1); };
  const pump = () => {
    while (inFlight < 32) {
      inFlight++;
      let seqs;
      let p;
      if (next % 5 === 0) {
        seqs = [next, next + 1, next + 2];
        next += 3;
        p = log.appendMany(seqs);
      } else {
        seqs = [next++];
        p = log.append(seqs[0]);
      }
      p.then(() => { inFlight--; acked(seqs); pump(); }, die);
      if (!compacting && log.sizeSinceSnapshot > 2048) {
        compacting = true;
        log.compact({ next }).then(() => { compacting = false; }, die);
      }
    }
  };
  pump();
  process.stdout.write("ready\\n");
})().catch((err) => { console.error(err); process.exit(1); });
`;

let root: string;
let modulePath: string;
let childScript: string;

beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), "durable-log-crash-"));
  const source = await fsp.readFile(path.join(__dirname, "../src/index.ts"), "utf8");
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 },
  });
  modulePath = path.join(root, "durable-log.js");
  childScript = path.join(root, "child.js");
  await fsp.writeFile(modulePath, outputText);
  await fsp.writeFile(childScript, CHILD);
});

afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

interface ChildRun {
  acked: number[];
  signal: NodeJS.Signals | null;
  stderr: string;
}

function runAndKill(dir: string, killAfterMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [childScript, modulePath, dir], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let stderr = "";
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      out += chunk;
      if (!timer && out.includes("ready\n")) {
        timer = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.on("error", reject);
    child.on("close", (_code, signal) => {
      clearTimeout(timer);
      // Only complete lines were acknowledged before the kill.
      const lines = out.split("\n").slice(0, -1);
      const acked = lines.filter((l) => l !== "ready").map(Number);
      resolve({ acked, signal, stderr });
    });
  });
}

describe("DurableLog under SIGKILL", () => {
  for (let iteration = 1; iteration <= 5; iteration++) {
    it(`keeps every acknowledged record as a gap-free prefix (run ${iteration})`, async () => {
      const dir = path.join(root, `run-${iteration}`);
      const killAfterMs = 50 + Math.floor(Math.random() * 400);
      const run = await runAndKill(dir, killAfterMs);
      expect(run.stderr).toBe("");
      expect(run.signal).toBe("SIGKILL");
      expect(run.acked.length).toBeGreaterThan(0);

      const { log, snapshot, records } = await DurableLog.open<{ next: number }, number>({ dir });
      const start = snapshot?.next ?? 0;
      // Snapshot + records must describe 0..end-1 with no gaps or duplicates.
      expect(records).toEqual(Array.from({ length: records.length }, (_, i) => start + i));
      const end = start + records.length;
      const maxAcked = Math.max(...run.acked);
      expect(end).toBeGreaterThan(maxAcked);
      expect(new Set(run.acked).size).toBe(run.acked.length);

      // The recovered log keeps working and the next record follows the prefix.
      await log.append(end);
      await log.close();
      const again = await DurableLog.open<{ next: number }, number>({ dir });
      expect((again.snapshot?.next ?? 0) + again.records.length).toBe(end + 1);
      expect(again.records[again.records.length - 1]).toBe(end);
      await again.log.close();
    });
  }
});
