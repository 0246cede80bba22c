#!/usr/bin/env node
// Stages the deployable function app for `azd package`/`azd deploy` (azure.yaml prepackage hook).
//
// azd zips the service's `dist` folder as-is (remoteBuild: false). This script fills that folder
// from an allow-list, so only the app ships: host.json, package.json and the compiled app
// (the directory holding package.json "main", e.g. dist/src), plus production-only node_modules
// from `npm ci --omit=dev`. The local host, emulators, benchmarks, tests, infra and dev
// dependencies cannot get in by accident; a final check refuses to finish if any did.
//
// The staged host.json gets the Durable storage provider of the provisioned backend: main.bicep
// outputs DURABLE_STORAGE_PROVIDER (azureManaged: Durable Task Scheduler; AzureStorage: Azure
// Storage), azd keeps it in the environment and passes it to this hook. The scale controller reads
// the provider from the packaged host.json, so it is written here, never switched by an app
// setting. The repository's host.json stays on AzureStorage for `func start` with Azurite.
//
// Usage: node infra/scripts/stage-package.mjs [--root <dir>] [--out <dir>]
//        [--durable-provider <azureManaged|AzureStorage>] [--skip-build] [--skip-install]
// --durable-provider overrides DURABLE_STORAGE_PROVIDER; one of them is required.
// --skip-build / --skip-install exist for tests, which stage a tree without compiling or
// touching the registry.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** Top-level paths that are development-only and must never be in the package. */
const FORBIDDEN_TOP_LEVEL = [
  "local-host",
  "servicebus-emulator",
  "durable-log",
  "bench",
  "test",
  "infra",
  "src",
  "docs",
  "console",
  "local.settings.json",
  ".funcignore",
  ".azure",
];

const FILES = ["host.json", "package.json"];

/** host.json extensions.durableTask.storageProvider per DURABLE_STORAGE_PROVIDER value. */
const DURABLE_PROVIDERS = {
  // Durable Task Scheduler: only these two keys. The Azure Storage provider's tuning keys
  // (maxQueuePollingInterval, partitionCount, controlQueue*, trackingStore*, ...) do not apply.
  azureManaged: () => ({
    type: "azureManaged",
    connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
  }),
  // Azure Storage: the repository's host.json as it is.
  AzureStorage: null,
};

function fail(message) {
  process.stderr.write(`stage-package: ${message}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const here = dirname(fileURLToPath(import.meta.url));
  const opts = {
    root: resolve(here, "..", ".."),
    out: "",
    durableProvider: "",
    durableProviderFrom: "",
    skipBuild: false,
    skipInstall: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--root") opts.root = resolve(argv[++i] ?? fail("--root needs a directory"));
    else if (a === "--out") opts.out = resolve(argv[++i] ?? fail("--out needs a directory"));
    else if (a === "--durable-provider") {
      opts.durableProvider =
        argv[++i] ?? fail("--durable-provider needs azureManaged or AzureStorage");
      opts.durableProviderFrom = "--durable-provider";
    } else if (a === "--skip-build") opts.skipBuild = true;
    else if (a === "--skip-install") opts.skipInstall = true;
    else fail(`unknown argument ${a}`);
  }
  opts.out ||= join(opts.root, "dist", "azd-package");
  if (!opts.durableProviderFrom && process.env.DURABLE_STORAGE_PROVIDER) {
    opts.durableProvider = process.env.DURABLE_STORAGE_PROVIDER;
    opts.durableProviderFrom = "DURABLE_STORAGE_PROVIDER";
  }
  if (!opts.durableProvider) {
    fail(
      "DURABLE_STORAGE_PROVIDER is not set (the Durable backend's host.json provider): run azd provision first, or pass --durable-provider <azureManaged|AzureStorage>",
    );
  }
  if (!Object.hasOwn(DURABLE_PROVIDERS, opts.durableProvider)) {
    fail(
      `unknown Durable storage provider ${JSON.stringify(opts.durableProvider)} from ${opts.durableProviderFrom}: expected azureManaged or AzureStorage`,
    );
  }
  return opts;
}

function run(cmd, args, cwd) {
  // npm is npm.cmd on Windows, which only a shell resolves.
  const r = spawnSync(cmd, args, { cwd, stdio: "inherit", shell: process.platform === "win32" });
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} failed in ${cwd} (exit ${r.status})`);
}

function listFiles(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [relative(base, p).split(sep).join("/")];
  });
}

/** Packages npm marks dev-only in the lockfile ("dev": true: not reachable from dependencies). */
function devOnlyPackages(lock) {
  return Object.entries(lock.packages ?? {})
    .filter(([path, meta]) => path.startsWith("node_modules/") && meta.dev === true)
    .map(([path]) => path);
}

/** Writes the staged host.json with the chosen Durable provider; returns the line to print. */
function stageHostJson(root, out, provider, from) {
  const source = join(root, "host.json");
  let host;
  try {
    host = JSON.parse(readFileSync(source, "utf8"));
  } catch (e) {
    fail(`host.json is not valid JSON: ${e.message}`);
  }
  const make = DURABLE_PROVIDERS[provider];
  if (!make) {
    // Byte for byte: the repository's host.json is the Azure Storage configuration.
    const type = host.extensions?.durableTask?.storageProvider?.type;
    if (type !== undefined && type !== provider)
      fail(`host.json storageProvider.type is ${JSON.stringify(type)}, expected ${provider}`);
    cpSync(source, join(out, "host.json"));
    return `host.json durableTask.storageProvider: ${provider}, as in the repository (from ${from})`;
  }
  host.extensions ??= {};
  host.extensions.durableTask ??= {};
  host.extensions.durableTask.storageProvider = make();
  writeFileSync(join(out, "host.json"), `${JSON.stringify(host, null, 2)}\n`);
  const { connectionStringName } = host.extensions.durableTask.storageProvider;
  return `host.json durableTask.storageProvider: ${provider}, connection ${connectionStringName} (from ${from})`;
}

function main() {
  const { root, out, durableProvider, durableProviderFrom, skipBuild, skipInstall } = parseArgs(
    process.argv.slice(2),
  );
  const pkgPath = join(root, "package.json");
  if (!existsSync(pkgPath)) fail(`no package.json in ${root}`);
  const pkg = JSON.parse(readFileSync(pkgPath, "utf8"));
  const main = typeof pkg.main === "string" ? pkg.main.replace(/^\.\//, "") : "";
  if (!/^dist\/.+\.js$/.test(main)) {
    fail(
      `package.json "main" must point into dist/ (the compiled app), got ${JSON.stringify(pkg.main)}`,
    );
  }
  // The app's compiled tree: dist/src for main = dist/src/index.js.
  const appDir = main.split("/").slice(0, 2).join("/");
  if (appDir === main) fail(`package.json "main" must be inside a folder under dist/, got ${main}`);

  if (!skipBuild) run("npm", ["run", "build"], root);
  if (!existsSync(join(root, main))) {
    fail(`${main} (package.json "main") does not exist: run \`npm run build\` first`);
  }
  for (const f of FILES) if (!existsSync(join(root, f))) fail(`${f} is missing in ${root}`);

  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  for (const f of FILES) cpSync(join(root, f), join(out, f));
  const providerLine = stageHostJson(root, out, durableProvider, durableProviderFrom);
  cpSync(join(root, appDir), join(out, appDir), {
    recursive: true,
    // Declarations and build info are compile-time only; .js and source maps are runtime.
    filter: (src) => statSync(src).isDirectory() || !/\.(d\.ts|d\.ts\.map|tsbuildinfo)$/.test(src),
  });

  const lockPath = join(root, "package-lock.json");
  if (!skipInstall) {
    if (!existsSync(lockPath))
      fail("package-lock.json is missing: the package must install exactly the locked versions");
    cpSync(lockPath, join(out, "package-lock.json"));
    // --ignore-scripts: runtime dependencies are pure JS; nothing may run code at install.
    run("npm", ["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund"], out);
    rmSync(join(out, "package-lock.json"));
  }

  // The shipped package.json only needs "main" (and type/engines); scripts and dev tooling go.
  const shipped = { ...pkg };
  delete shipped.devDependencies;
  delete shipped.scripts;
  writeFileSync(join(out, "package.json"), `${JSON.stringify(shipped, null, 2)}\n`);

  const files = listFiles(out);
  const forbidden = files.filter(
    (f) =>
      FORBIDDEN_TOP_LEVEL.includes(f.split("/")[0]) ||
      (f.startsWith("dist/") && !f.startsWith(`${appDir}/`)),
  );
  if (existsSync(lockPath)) {
    const dev = new Set(devOnlyPackages(JSON.parse(readFileSync(lockPath, "utf8"))));
    forbidden.push(...files.filter((f) => [...dev].some((d) => f.startsWith(`${d}/`))));
  }
  if (forbidden.length > 0)
    fail(`dev-only files staged:\n  ${forbidden.slice(0, 20).join("\n  ")}`);
  if (!files.includes(main)) fail(`${main} was not staged`);

  const bytes = files.reduce((n, f) => n + statSync(join(out, f)).size, 0);
  process.stdout.write(`stage-package: ${providerLine}\n`);
  process.stdout.write(
    `stage-package: ${files.length} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB in ${relative(process.cwd(), out) || "."}\n`,
  );
}

main();
