// `npm run dev`: `tsc --watch` plus the local host with `--watch`, so every rebuild reloads the
// worker. Arguments go to the host (e.g. `npm run dev -- --inspect`).
import { spawn } from "node:child_process";
import path from "node:path";

const root = path.resolve(__dirname, "..", "..", "..");
const tsc = spawn(
  process.execPath,
  [
    path.join(root, "node_modules", "typescript", "bin", "tsc"),
    ...["-p", "tsconfig.build.json", "--watch", "--preserveWatchOutput"],
  ],
  { cwd: root, stdio: "inherit" },
);
const host = spawn(
  process.execPath,
  [path.join(__dirname, "cli.js"), "--watch", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
// Ctrl+C reaches both through the terminal's process group; a SIGTERM is passed on.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => {
  host.kill("SIGTERM");
  tsc.kill("SIGTERM");
});
host.on("exit", (code) => {
  tsc.kill("SIGTERM");
  process.exit(code ?? 1);
});
