// The host's side of emulators-process.ts.
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import type { EmulatorsOptions, RunningEmulators } from "./emulators";
import type { FromEmulators, ToEmulators } from "./emulators-process";
import type { HostLog } from "./worker/process";

export interface EmulatorsChild {
  readonly child: ChildProcess;
  started: Promise<RunningEmulators>;
}

/** Forks the emulators process and starts them; `close()` of the result stops the process. */
export function startEmulatorsProcess(
  options: Omit<EmulatorsOptions, "log">,
  log: HostLog,
  onSpawn?: (pid: number) => void,
  closeTimeoutMs = 15000,
): EmulatorsChild {
  const child = fork(path.join(__dirname, "emulators-process.js"), [], {
    serialization: "advanced",
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  if (child.pid !== undefined) onSpawn?.(child.pid);
  let exited = child.exitCode !== null;
  const exit = new Promise<void>((resolve) =>
    child.once("exit", () => {
      exited = true;
      resolve();
    }),
  );
  const started = new Promise<RunningEmulators>((resolve, reject) => {
    child.on("message", (m: FromEmulators) => {
      if (m.type === "log") log(m.level, `[emulators] ${m.message}`);
      else if (m.type === "failed")
        reject(new Error(`The emulators failed to start: ${m.stack ?? m.message}`));
      else if (m.type === "started") {
        resolve({
          ...m.running,
          close: async () => {
            if (exited) return;
            const closed = new Promise<string | undefined>((done) => {
              child.on("message", (c: FromEmulators) => {
                if (c.type === "closed") done(c.error);
              });
            });
            child.send({ type: "close" } satisfies ToEmulators);
            // A hung close must not hang the host's shutdown: the stores are crash-safe, so
            // after the grace period the process is killed.
            const timer = setTimeout(() => child.kill("SIGKILL"), closeTimeoutMs);
            const error = await Promise.race([closed, exit.then(() => undefined)]);
            await exit;
            clearTimeout(timer);
            if (error) throw new Error(`Closing the emulators: ${error}`);
          },
        });
      }
    });
    child.once("exit", (code, signal) =>
      reject(new Error(`The emulators process exited (code ${code}, signal ${signal}).`)),
    );
  });
  child.send({ type: "start", options } satisfies ToEmulators);
  return { child, started };
}
