// A V8 code cache for the CommonJS modules the local host's processes load. The host, its worker
// and its emulators load ~3,000 modules at start; compiling them was a quarter of start-up CPU
// (2.3-2.5 CPU s on 2 cores, docs/performance.md). Node 22's module.enableCompileCache does
// this; Node 20 has no such switch, so this installs the same idea on Module.prototype._compile.
// One entry per file path, holding the SHA-1 of the source it was made from: a changed file
// (a rebuild, an upgraded package) is compiled afresh and its entry replaced, never run stale.
// Only plain CommonJS without import() goes through it: ES modules loaded by require (Node
// 20.19+) and anything run with source maps or an inspector keep Node's own loader untouched.
import { createHash } from "node:crypto";
import fs from "node:fs";
import Module from "node:module";
import path from "node:path";
import vm from "node:vm";

interface CompilableModule {
  exports: unknown;
  require(id: string): unknown;
  _compile(content: string, filename: string, format?: string): unknown;
}

interface ModuleInternals {
  wrap(content: string): string;
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  _resolveLookupPaths(request: string, parent: unknown): string[] | null;
  _extensions: unknown;
  _cache: unknown;
  prototype: CompilableModule;
}

export interface CompileCacheStats {
  hits: number;
  misses: number;
  written: number;
}

const DIGEST_BYTES = 20;
const DYNAMIC_IMPORT = /\bimport\s*\(/;
const stats: CompileCacheStats = { hits: 0, misses: 0, written: 0 };
const unwritten = new Map<string, { digest: Buffer; script: vm.Script }>();
let cacheDir: string | undefined;
let flushTimer: NodeJS.Timeout | undefined;

const sha1 = (text: string) => createHash("sha1").update(text).digest();
const entryFile = (dir: string, filename: string) =>
  path.join(dir, `${sha1(filename).toString("hex")}.bin`);

function readEntry(file: string, digest: Buffer): Buffer | undefined {
  try {
    const entry = fs.readFileSync(file);
    return entry.subarray(0, DIGEST_BYTES).equals(digest)
      ? entry.subarray(DIGEST_BYTES)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Writes the entries compiled since the last flush. Called after start-up settles (so the code
 * of functions that ran is in them) and at exit; a write that fails only costs the next start.
 */
export function flushCompileCache(): void {
  if (!cacheDir) return;
  for (const [file, { digest, script }] of unwritten) {
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, Buffer.concat([digest, script.createCachedData()]));
      fs.renameSync(tmp, file); // another process may write the same entry: the last one wins
      stats.written++;
    } catch {
      // Read-only or full disk: no cache, same behaviour.
    }
  }
  unwritten.clear();
}

export function compileCacheStats(): CompileCacheStats {
  return { ...stats };
}

/** Installs the cache in this process, keeping its entries in `dir`. */
export function installCompileCache(dir: string): void {
  if (cacheDir || process.sourceMapsEnabled || process.execArgv.some((a) => /^--inspect/.test(a)))
    return;
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch {
    return;
  }
  cacheDir = dir;
  const M = Module as unknown as ModuleInternals;
  const compile = M.prototype._compile;
  M.prototype._compile = function (this: CompilableModule, content, filename, format) {
    const plain = format === undefined || format === "commonjs";
    // A hashbang is only valid at the very start of a script, not inside the module wrapper;
    // import() in a vm.Script needs a loader callback that Node 20 has only as experimental, so
    // a module that may call it (or just mentions it) is left to Node.
    if (
      !plain ||
      !/\.c?js$/.test(filename) ||
      content.startsWith("#!") ||
      DYNAMIC_IMPORT.test(content)
    ) {
      return compile.call(this, content, filename, format);
    }
    const file = entryFile(dir, filename);
    const digest = sha1(content);
    const cachedData = readEntry(file, digest);
    const script = new vm.Script(M.wrap(content), {
      filename,
      ...(cachedData ? { cachedData } : {}),
    });
    if (cachedData && !script.cachedDataRejected) {
      stats.hits++;
    } else {
      stats.misses++;
      unwritten.set(file, { digest, script });
      clearTimeout(flushTimer);
      flushTimer = setTimeout(flushCompileCache, 2000).unref();
    }
    // The same five arguments Node's loader passes the module wrapper.
    const require = ((id: string) => this.require(id)) as NodeJS.Require;
    require.resolve = Object.assign(
      (request: string, options?: { paths?: string[] }) =>
        M._resolveFilename(request, this, false, options),
      { paths: (request: string) => M._resolveLookupPaths(request, this) },
    ) as NodeJS.RequireResolve;
    require.main = process.mainModule;
    require.extensions = M._extensions as NodeJS.Require["extensions"];
    require.cache = M._cache as NodeJS.Require["cache"];
    const wrapper = script.runInThisContext({ displayErrors: true }) as (
      ...args: unknown[]
    ) => unknown;
    return wrapper.call(
      this.exports,
      this.exports,
      require,
      this,
      filename,
      path.dirname(filename),
    );
  };
  process.once("exit", flushCompileCache);
}

/**
 * `node_modules/.cache/local-host/v8-<V8 version>-<arch>` of the project this file is in
 * (code caches are only valid for the V8 that made them), or LOCALHOST_COMPILE_CACHE_DIR.
 */
export function defaultCompileCacheDir(): string | undefined {
  const configured = process.env.LOCALHOST_COMPILE_CACHE_DIR;
  if (configured) return configured;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "node_modules"))) {
      const version = `v8-${process.versions.v8}-${process.arch}`;
      return path.join(dir, "node_modules", ".cache", "local-host", version);
    }
    if (path.dirname(dir) === dir) return undefined;
  }
}
