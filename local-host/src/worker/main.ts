// The worker process: plays the Node language worker. FunctionsCore must be installed before
// anything can require `@azure/functions`, otherwise the library caches "no core module" and
// silently skips every registration; so this file imports nothing that loads app code.
import "../useCompileCache"; // first: what loads after it comes from the code cache
import path from "node:path";
import fs from "node:fs";
import { FunctionsCore } from "./functionsCore";
import type { FunctionInfo } from "../contracts";
import { WORKER_APP_DIR_ENV, type HostToWorker, type WorkerToHost } from "./protocol";
import { Outbox } from "./outbox";
import { rememberLoaded, startPreload } from "./preload";

const core = new FunctionsCore({
  onLog: (entry) => send({ type: "log", entry }),
});
core.installAsModule();

// When the host died the channel is gone; nothing useful can be done then.
const outbox = new Outbox<WorkerToHost>(process, (messages) => ({ type: "batch", messages }));

function send(message: WorkerToHost): void {
  outbox.send(message);
}

/** Sends `message` and everything queued before it now: the process is about to exit. */
function sendNow(message: WorkerToHost): void {
  outbox.send(message);
  outbox.flush();
}

function errorParts(err: unknown): { message: string; stack?: string } {
  if (err instanceof Error) return { message: err.message, stack: err.stack };
  return { message: String(err) };
}

function appEntry(appDir: string): string {
  const pkgFile = path.join(appDir, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { main?: string };
  if (!pkg.main) throw new Error(`${pkgFile} has no "main": the worker cannot find the app.`);
  // The real worker accepts globs in main; a plain path covers apps built to one entry point.
  return path.resolve(appDir, pkg.main);
}

/** Loads the app; resolves with its entry point and the functions it registered. */
async function load(appDir: string): Promise<{ entry: string; functions: FunctionInfo[] }> {
  const entry = appEntry(appDir);
  if (!fs.existsSync(entry)) {
    throw new Error(`The app entry point ${entry} (package.json "main") does not exist: build it.`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(entry);
  await core.runAppHooks("appStart", appDir);
  const functions = [...core.functions.values()].map((f) => ({
    name: f.metadata.name,
    bindings: f.metadata.bindings,
  }));
  return { entry, functions };
}

async function invoke(message: Extract<HostToWorker, { type: "invoke" }>): Promise<void> {
  try {
    const response = await core.invoke(message.functionName, message.request);
    send({ type: "result", id: message.id, response });
  } catch (err) {
    send({ type: "failed", id: message.id, ...errorParts(err) });
  }
}

function init(env: Record<string, string>): void {
  stopPreload();
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  load(appDir).then(
    ({ entry, functions }) => {
      send({ type: "ready", functions });
      setImmediate(() => rememberLoaded(appDir, entry));
    },
    (err: unknown) => {
      sendNow({ type: "loadError", ...errorParts(err) });
      // Give the IPC message time to flush before exiting.
      setTimeout(() => process.exit(1), 50);
    },
  );
}

function receive(message: HostToWorker): void {
  if (message.type === "batch") message.messages.forEach(receive);
  else if (message.type === "init") init(message.env);
  else if (message.type === "invoke") void invoke(message);
  else if (message.type === "terminate") {
    void core
      .runAppHooks("appTerminate", appDir)
      .catch(() => undefined)
      .finally(() => {
        sendNow({ type: "terminated" });
        process.exit(0);
      });
  }
}

process.on("message", receive);
// Ctrl+C (or `timeout`, npm, ...) signals the whole process group: the host decides when the
// worker stops (after draining), so the worker ignores them and exits with the host's channel.
process.on("SIGINT", () => undefined);
process.on("SIGTERM", () => undefined);
// Without the host there is nothing to serve: exit rather than linger as an orphan.
process.on("disconnect", () => process.exit(0));
// An app error escaping a handler must not leave a half-dead worker: the host restarts it.
process.on("uncaughtException", (err) => {
  outbox.flush();
  process.stderr.write(`Worker uncaught exception: ${err.stack ?? String(err)}\n`);
  process.exit(1);
});

const appDir = process.env[WORKER_APP_DIR_ENV] ?? process.cwd();
// Preloading yields between libraries, so "init" stops it and loads the app at once.
const stopPreload = startPreload(appDir);
