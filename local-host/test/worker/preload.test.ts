// The worker preloads what the app loaded at its last start, not every dependency: run in a
// plain Node process (jest's module registry is not Node's require.cache).
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ensureBuilt, PROJECT_ROOT } from "../support/host";

const PRELOAD = path.join(PROJECT_ROOT, "dist", "local-host", "src", "worker", "preload.js");

beforeAll(() => ensureBuilt(), 120000);

function app(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "preload-app-"));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    fs.writeFileSync(path.join(dir, file), text);
  };
  write(
    "package.json",
    JSON.stringify({ main: "index.js", dependencies: { used: "1", lazy: "1" } }),
  );
  write("index.js", "require('./lib'); module.exports.later = () => require('lazy');");
  write("lib.js", "require('used');");
  for (const name of ["used", "lazy"]) {
    write(`node_modules/${name}/package.json`, JSON.stringify({ name, main: "index.js" }));
    write(
      `node_modules/${name}/index.js`,
      `globalThis.loaded = [...(globalThis.loaded ?? []), "${name}"];`,
    );
  }
  return dir;
}

/** Runs `body` in a fresh Node process with the preload module as `p`; prints its stdout. */
function node(appDir: string, body: string): string {
  const script = `const p = require(${JSON.stringify(PRELOAD)}); const appDir = ${JSON.stringify(appDir)}; ${body}`;
  return execFileSync(process.execPath, ["-e", script], { encoding: "utf8" }).trim();
}

it("remembers the dependencies the app's modules required, and preloads only those next time", () => {
  const dir = app();
  try {
    // No memory yet: every dependency is preloaded.
    expect(
      node(
        dir,
        "p.startPreload(appDir); setTimeout(() => console.log(globalThis.loaded.sort().join()), 50);",
      ),
    ).toBe("lazy,used");
    // The app loads `used` (through its own lib.js) but not `lazy` (required only when called).
    node(
      dir,
      "const entry = require('path').join(appDir, 'index.js'); require(entry); p.rememberLoaded(appDir, entry);",
    );
    expect(
      JSON.parse(
        fs.readFileSync(path.join(dir, "node_modules/.cache/local-host/preload.json"), "utf8"),
      ),
    ).toEqual(["used"]);
    expect(
      node(
        dir,
        "p.startPreload(appDir); setTimeout(() => console.log(globalThis.loaded.join()), 50);",
      ),
    ).toBe("used");
    // Stopped before its first turn (the app is to be loaded now): nothing is preloaded.
    expect(
      node(
        dir,
        "const stop = p.startPreload(appDir); stop(); setTimeout(() => console.log(String(globalThis.loaded)), 50);",
      ),
    ).toBe("undefined");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
