// The worker process: plays the Node language worker. FunctionsCore must be installed before
// anything can require `@azure/functions`, otherwise the library caches "no core module" and
// silently skips every registration; so this file imports nothing that loads app code.
import path from "node:path";
import fs from "node:fs";
import { FunctionsCore } from "./functionsCore";
import type { FunctionInfo } from "../contracts";
import { WORKER_APP_DIR_ENV, type HostToWorker, type WorkerToHost } from "./protocol";
import { Outbox } from "./outbox";

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

async function load(appDir: string): Promise<FunctionInfo[]> {
  const pkgFile = path.join(appDir, "package.json");
  const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8")) as { main?: string };
  if (!pkg.main) throw new Error(`${pkgFile} has no "main": the worker cannot find the app.`);
  // The real worker accepts globs in main; a plain path covers apps built to one entry point.
  const entry = path.resolve(appDir, pkg.main);
  if (!fs.existsSync(entry)) {
    throw new Error(`The app entry point ${entry} (package.json "main") does not exist: build it.`);
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require(entry);
  await core.runAppHooks("appStart", appDir);
  return [...core.functions.values()].map((f) => ({
    name: f.metadata.name,
    bindings: f.metadata.bindings,
  }));
}

async function invoke(message: Extract<HostToWorker, { type: "invoke" }>): Promise<void> {
  try {
    const response = await core.invoke(message.functionName, message.request);
    send({ type: "result", id: message.id, response });
  } catch (err) {
    send({ type: "failed", id: message.id, ...errorParts(err) });
  }
}

/**
 * While the host starts the emulators, load the libraries the app will need (the programming
 * model and the app's dependencies): module loading is most of the start-up time and this
 * overlaps it with the host's work. LOCALHOST_PRELOAD=false turns it off.
 */
function preload(appDir: string): void {
  if (process.env.LOCALHOST_PRELOAD === "false") return;
  let deps: string[] = [];
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(appDir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    deps = Object.keys(pkg.dependencies ?? {});
  } catch {
    return;
  }
  for (const name of new Set(["@azure/functions", "durable-functions", ...deps])) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(require.resolve(name, { paths: [appDir] }));
    } catch {
      // Not installed or not loadable on its own: the app's own require will say so.
    }
  }
}

function init(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
  load(appDir).then(
    (functions) => send({ type: "ready", functions }),
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
// Preload after the message handler is in place: "init" is queued until preloading is done.
setImmediate(() => preload(appDir));
