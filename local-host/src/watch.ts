// `--watch`: reloads the worker when the app's compiled output changes (tsc --watch writes it),
// without restarting the emulators, the durable engine or the HTTP listener.
import fs from "node:fs";
import path from "node:path";
import type { HostLog } from "./worker/process";

export interface Reloadable {
  reload(): Promise<void>;
}

/** The directory holding the app's entry point (package.json `main`), e.g. dist/src. */
export function watchedDir(appDir: string): string {
  const pkg = JSON.parse(fs.readFileSync(path.join(appDir, "package.json"), "utf8")) as {
    main?: string;
  };
  return path.resolve(appDir, path.dirname(pkg.main ?? "index.js"));
}

/** dist/src/functions/health.js → src/functions/health.ts when that source exists. */
function describe(appDir: string, file: string): string {
  const rel = path.relative(appDir, file).split(path.sep).join("/");
  const source = rel.replace(/^dist\//, "").replace(/\.js$/, ".ts");
  return source !== rel && fs.existsSync(path.join(appDir, source)) ? source : rel;
}

/** Watches until the returned function is called; changes within `debounceMs` are one reload. */
export function watchApp(
  appDir: string,
  worker: Reloadable,
  log: HostLog,
  debounceMs = 300,
): () => void {
  const dir = watchedDir(appDir);
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const flush = () => {
    timer = undefined;
    const all = [...changed].sort();
    changed.clear();
    const files = all.length > 5 ? [...all.slice(0, 5), `and ${all.length - 5} more`] : all;
    running = running.then(async () => {
      try {
        await worker.reload();
        log("info", `Reloaded worker after change: ${files.join(", ")}`);
      } catch (err) {
        log("error", `Reload after change (${files.join(", ")}) failed: ${(err as Error).message}`);
      }
    });
  };
  const watcher = fs.watch(dir, { recursive: true }, (_event, name) => {
    // Compiled JavaScript only: no source maps, no dependencies, no local state.
    if (!name || !/\.(c|m)?js$/.test(name) || /(^|[\\/])(node_modules|\.data)[\\/]/.test(name))
      return;
    changed.add(describe(appDir, path.join(dir, name.toString())));
    if (timer) clearTimeout(timer);
    timer = setTimeout(flush, debounceMs);
  });
  log("info", `Watching ${path.relative(appDir, dir) || "."} for changes.`);
  return () => {
    if (timer) clearTimeout(timer);
    watcher.close();
  };
}
