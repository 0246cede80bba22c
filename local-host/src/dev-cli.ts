// `npm run dev`: `tsc --watch` plus the local host with `--watch`, so every rebuild reloads the
// worker. Arguments go to the host (e.g. `npm run dev -- --inspect`). The host starts after
// tsc's first pass, so that pass's output does not count as a change.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const root = path.resolve(__dirname, "..", "..", "..");
const tscBin = path.join(root, "node_modules", "typescript", "bin", "tsc");
const tsc = spawn(
  process.execPath,
  [tscBin, "-p", "tsconfig.build.json", "--watch", "--preserveWatchOutput"],
  { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
);
let host: ChildProcess | undefined;
tsc.stdout.on("data", (chunk: Buffer) => {
  process.stdout.write(chunk);
  if (!host && /Watching for file changes/.test(chunk.toString())) startHost();
});
tsc.on("exit", (code) => {
  if (!host) process.exit(code ?? 1);
});

function startHost(): void {
  host = spawn(
    process.execPath,
    [path.join(__dirname, "cli.js"), "--watch", ...process.argv.slice(2)],
    {
      stdio: "inherit",
    },
  );
  host.on("exit", (code) => {
    tsc.kill("SIGTERM");
    process.exit(code ?? 1);
  });
}

// Ctrl+C reaches the host and tsc through the terminal's process group; SIGTERM is passed on.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => {
  tsc.kill("SIGTERM");
  if (host) host.kill("SIGTERM");
  else process.exit(143);
});
