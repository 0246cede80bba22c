// While the host starts the emulators, the worker loads the libraries the app will need, so
// module loading (most of the start-up time) overlaps the host's work. Which libraries: the ones
// the app loaded the last time it started here (remembered in node_modules/.cache), else the
// programming model and the app's dependencies. Not every dependency is loaded at start: the
// order app requires @azure/monitor-opentelemetry (1.7 s to load on this machine) only in
// Azure, and preloading it held start-up back by about that long. Loading yields between
// libraries and stops once the app itself is to be loaded. LOCALHOST_PRELOAD=false turns it off.
import fs from "node:fs";
import path from "node:path";

const ALWAYS = ["@azure/functions", "durable-functions"];

export function preloadFile(appDir: string): string {
  return path.join(appDir, "node_modules", ".cache", "local-host", "preload.json");
}

function dependenciesOf(appDir: string): string[] {
  try {
    const pkg = JSON.parse(fs.readFileSync(path.join(appDir, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
    };
    return Object.keys(pkg.dependencies ?? {});
  } catch {
    return [];
  }
}

function remembered(appDir: string): string[] | undefined {
  try {
    const list = JSON.parse(fs.readFileSync(preloadFile(appDir), "utf8")) as unknown;
    return Array.isArray(list) && list.every((x) => typeof x === "string") ? list : undefined;
  } catch {
    return undefined;
  }
}

/** Starts preloading; the returned function stops it (call it before loading the app). */
export function startPreload(appDir: string): () => void {
  let stopped = process.env.LOCALHOST_PRELOAD === "false";
  const names = [...new Set([...ALWAYS, ...(remembered(appDir) ?? dependenciesOf(appDir))])];
  const next = (i: number): void => {
    if (stopped || i >= names.length) return;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require(require.resolve(names[i]!, { paths: [appDir] }));
    } catch {
      // Not installed or not loadable on its own: the app's own require will say so.
    }
    setImmediate(() => next(i + 1));
  };
  setImmediate(() => next(0));
  return () => {
    stopped = true;
  };
}

/**
 * Remembers which of the app's dependencies its modules required (the module graph from
 * `entry`: Node lists a module under its parent's children even when it came from the cache),
 * for the next start's preload. Best effort: a read-only node_modules just means no memory.
 */
export function rememberLoaded(appDir: string, entry: string): void {
  const deps = new Set(dependenciesOf(appDir));
  const root = path.join(appDir, "node_modules") + path.sep;
  // Dependencies resolved from elsewhere (a workspace's root): nothing of the app's to remember.
  if (!fs.existsSync(root)) return;
  const used = new Set<string>();
  const seen = new Set<NodeJS.Module>();
  const walk = (m: NodeJS.Module | undefined): void => {
    if (!m || seen.has(m)) return;
    seen.add(m);
    for (const child of m.children) {
      if (child.filename.startsWith(root)) {
        const parts = child.filename.slice(root.length).split(path.sep);
        const name = parts[0]!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
        if (deps.has(name)) used.add(name);
      } else if (!child.filename.includes(`${path.sep}node_modules${path.sep}`)) {
        walk(child); // the app's own modules
      }
    }
  };
  walk(require.cache[entry]);
  try {
    const file = preloadFile(appDir);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify([...used].sort()) + "\n");
    fs.renameSync(tmp, file);
  } catch {
    // not writable: the next start preloads every dependency
  }
}
