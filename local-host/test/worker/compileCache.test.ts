/* eslint-disable @typescript-eslint/no-explicit-any -- the driver prints JSON */
// The code cache the local host's processes load their modules through: each test runs a fresh
// Node process (the cache patches that process's module loader) that installs it from dist/,
// requires a small module tree and prints what the modules saw and what the cache did.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuilt, PROJECT_ROOT } from "../support/host";

const CACHE_MODULE = path.join(PROJECT_ROOT, "dist", "local-host", "src", "compileCache.js");

let dir: string;
let cacheDir: string;

const write = (name: string, text: string) => fs.writeFileSync(path.join(dir, name), text);

const DRIVER = `
const cache = require(${JSON.stringify(CACHE_MODULE)});
cache.installCompileCache(process.argv[2]);
const a = require("./a.js");
let thrown;
try { require("./c.js"); } catch (err) { thrown = err.stack.split("\\n").find((l) => l.includes("c.js")); }
const bin = require("./bin.js");
require("./dyn.js").dyn().then((esm) => {
  cache.flushCompileCache();
  console.log(JSON.stringify({ info: a.info, esm: esm.esm, thrown, bin, stats: cache.compileCacheStats() }));
});
`;

function run(): any {
  const out = execFileSync(process.execPath, [path.join(dir, "driver.js"), cacheDir], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  return JSON.parse(out.trim().split("\n").pop()!);
}

beforeAll(() => ensureBuilt(), 120000);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "compile-cache-"));
  cacheDir = path.join(dir, "cache");
  write("driver.js", DRIVER);
  write(
    "a.js",
    `exports.info = {
  filename: __filename,
  dirname: __dirname,
  thisIsExports: this === exports,
  moduleExports: module.exports === exports,
  resolved: require.resolve("./b.js"),
  lookupPaths: Array.isArray(require.resolve.paths("some-package")),
  inCache: require.cache[require.resolve("./b.js")] !== undefined || "not yet",
  b: require("./b.js").value,
  bCached: require.cache[require.resolve("./b.js")] !== undefined,
  main: require.main === process.mainModule,
  jsExtension: typeof require.extensions[".js"],
};
`,
  );
  // import() needs Node's own loader: this module is left to it.
  write(
    "dyn.js",
    `exports.dyn = () => import("./e.mjs");
`,
  );
  write("b.js", "exports.value = 41 + 1;\n");
  write("c.js", "// line 1\n// line 2\nthrow new Error('boom');\n");
  write("bin.js", "#!/usr/bin/env node\nmodule.exports = 'hashbang';\n");
  write("e.mjs", "export const esm = 'esm';\n");
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("compile cache", () => {
  it("modules see what Node's own loader gives them, cached or not", () => {
    for (const result of [run(), run()]) {
      expect(result.info).toEqual({
        filename: path.join(dir, "a.js"),
        dirname: dir,
        thisIsExports: true,
        moduleExports: true,
        resolved: path.join(dir, "b.js"),
        lookupPaths: true,
        inCache: "not yet",
        b: 42,
        bCached: true,
        main: true,
        jsExtension: "function",
      });
      // A module with import(), an ES module and a file with a hashbang all still load.
      expect(result.esm).toBe("esm");
      expect(result.bin).toBe("hashbang");
      // Errors point at the module's own lines.
      expect(result.thrown).toContain(`${path.join(dir, "c.js")}:3`);
    }
  });

  it("compiles once, then runs from the cache; a changed file is compiled again, never run stale", () => {
    const first = run();
    // driver.js is the main module (loaded before the cache); a, b and c go through it.
    expect(first.stats).toEqual({ hits: 0, misses: 3, written: 3 });
    expect(fs.readdirSync(cacheDir).filter((f) => f.endsWith(".bin"))).toHaveLength(3);

    expect(run().stats).toEqual({ hits: 3, misses: 0, written: 0 });

    write("b.js", "exports.value = 7;\n");
    const changed = run();
    expect(changed.info.b).toBe(7);
    expect(changed.stats).toEqual({ hits: 2, misses: 1, written: 1 });
    expect(run().stats).toEqual({ hits: 3, misses: 0, written: 0 });
  });

  it("an entry that is not V8's code cache is recompiled and replaced", () => {
    run();
    for (const f of fs.readdirSync(cacheDir)) {
      const file = path.join(cacheDir, f);
      const entry = fs.readFileSync(file);
      // Keep the source digest, spoil the code: only V8's own check can catch this.
      fs.writeFileSync(file, Buffer.concat([entry.subarray(0, 20), Buffer.alloc(64, 7)]));
    }
    const spoiled = run();
    expect(spoiled.info.b).toBe(42);
    expect(spoiled.stats).toEqual({ hits: 0, misses: 3, written: 3 });
    expect(run().stats).toEqual({ hits: 3, misses: 0, written: 0 });
  });

  it("stays off under source maps, leaving Node's loader as it is", () => {
    const out = execFileSync(
      process.execPath,
      ["--enable-source-maps", path.join(dir, "driver.js"), cacheDir],
      { cwd: dir, encoding: "utf8", env: { ...process.env, NODE_OPTIONS: "" } },
    );
    const result = JSON.parse(out.trim().split("\n").pop()!);
    expect(result.info.b).toBe(42);
    expect(result.stats).toEqual({ hits: 0, misses: 0, written: 0 });
    expect(fs.existsSync(cacheDir)).toBe(false);
  });
});
