// Restarts the emulators process when it dies while the host runs (issue 12). The new process
// listens on the same ports (`reusePorts`), so the worker's connection strings stay valid; the
// Cosmos and Service Bus emulators recover from their journals as after any crash.
import type { RunningEmulators } from "./emulators";
import type { EmulatorsChild } from "./emulators-client";
import type { HostLog } from "./worker/process";

export interface EmulatorsSupervision {
  first: EmulatorsChild;
  running: RunningEmulators;
  /** Forks a new emulators process on these ports. */
  restart(ports: Record<string, number>): EmulatorsChild;
  /** True once the host is stopping: an exit then is expected. */
  stopping(): boolean;
  onRestarted(child: EmulatorsChild, running: RunningEmulators): void;
  log: HostLog;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function superviseEmulators(s: EmulatorsSupervision): void {
  const ports = s.running.ports;
  const watch = (child: EmulatorsChild) => {
    child.child.once("exit", (code, signal) => {
      if (s.stopping()) return;
      s.log(
        "warn",
        `The emulators process exited (code ${code}, signal ${signal}); restarting it on the same ports.`,
      );
      void again(0);
    });
  };
  const again = async (attempt: number): Promise<void> => {
    await sleep(Math.min(5000, 100 * 2 ** attempt));
    if (s.stopping()) return;
    const next = s.restart(ports);
    try {
      const running = await next.started;
      if (s.stopping()) {
        await running.close().catch(() => undefined);
        return;
      }
      s.onRestarted(next, running);
      s.log("info", `Emulators restarted (pid ${next.child.pid}).`);
      watch(next);
    } catch (err) {
      s.log("warn", `Restarting the emulators failed: ${(err as Error).message}`);
      next.child.kill("SIGKILL");
      return again(attempt + 1);
    }
  };
  watch(s.first);
}
