// Runs the embedded emulators in a child process of the host. Loading Azurite and the Cosmos
// emulator costs over a second of CPU; in their own process that overlaps with the worker
// loading the app (two cores), which keeps start-up near two seconds. The host forks this file,
// sends "start" and gets the connection strings back; it dies with the host.
import "./useCompileCache"; // first: what loads after it comes from the code cache
import { dumpCountersPeriodically } from "./counters";
import { startEmulators, type EmulatorsOptions, type RunningEmulators } from "./emulators";

export type ToEmulators =
  { type: "start"; options: Omit<EmulatorsOptions, "log"> } | { type: "close" };

export type FromEmulators =
  | { type: "started"; running: Omit<RunningEmulators, "close"> }
  | { type: "failed"; message: string; stack?: string }
  | { type: "log"; level: "debug" | "info" | "warn" | "error"; message: string }
  | { type: "closed"; error?: string };

const send = (m: FromEmulators): void => {
  if (process.connected) process.send?.(m);
};

let running: RunningEmulators | undefined;
let closing: Promise<void> | undefined;

function close(): Promise<void> {
  closing ??= (running?.close() ?? Promise.resolve()).then(
    () => send({ type: "closed" }),
    (err: unknown) => send({ type: "closed", error: (err as Error).message }),
  );
  return closing;
}

dumpCountersPeriodically("emulators");

process.on("message", (m: ToEmulators) => {
  if (m.type === "start") {
    startEmulators({
      ...m.options,
      log: (level, message) => send({ type: "log", level, message }),
    }).then(
      (r) => {
        running = r;
        const { close: _close, ...rest } = r;
        send({ type: "started", running: rest });
      },
      (err: unknown) => {
        const e = err as Error;
        send({ type: "failed", message: e.message, stack: e.stack });
      },
    );
  } else if (m.type === "close") {
    void close().then(() => process.exit(0));
  }
});
// The host went away (crash or kill): flush what can be flushed and exit.
process.on("disconnect", () => void close().then(() => process.exit(0)));
// Group signals (Ctrl+C) are the host's to handle: it closes the emulators after draining.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);
