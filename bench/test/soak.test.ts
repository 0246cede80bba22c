// The soak benchmark runs in a process of its own through the dispatcher, as `npm run bench --
// soak` does: a short run must finish, report each mark, and leave every instance readable (the
// benchmark checks that itself and fails otherwise).
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "..", "..");

describe("bench soak", () => {
  it("runs a short soak through the dispatcher and reports the hot and finished instances", async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(ROOT, "dist", "bench", "run.js"), "soak", "--instances", "400", "--no-write"],
      { cwd: ROOT, timeout: 60_000 },
    );
    // The row at the last mark: every instance finished, none left in the hot state.
    expect(stdout).toMatch(/^\s+400 \|.*\|\s+0 \/ 400 \|/m);
    expect(stdout).toMatch(/^total 400 in \d+ s/m);
  }, 90_000);
});
