// What `azd deploy` ships. azure.yaml stages the app with infra/scripts/stage-package.mjs into
// dist/azd-package (remoteBuild: false) and azd zips that folder. These tests run the real script
// on a fixture and on the repository's own layout (the dist tree computed from
// tsconfig.build.json without compiling), and check the dependency sets it installs.
import { spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { builtinModules } from "node:module";
import ignore from "ignore";
import ts from "typescript";
import { readSources, SRC } from "./app-source";
import { REPO } from "./compiler";

const SCRIPT = join(REPO, "infra", "scripts", "stage-package.mjs");
const DEV_ONLY_TREES = [
  "console",
  "local-host",
  "servicebus-emulator",
  "durable-log",
  "bench",
  "test",
  "infra",
];
/** Tools that must never be runtime dependencies. */
const DEV_TOOLS = [
  "rhea",
  "azurite",
  "@vercel/cosmosdb-server",
  "jest",
  "ts-jest",
  "typescript",
  "eslint",
  "prettier",
  "ajv",
  "commander",
  "pino",
  "json5",
  "yaml",
];

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as {
  main: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(REPO, "package-lock.json"), "utf8")) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean; hasInstallScript?: boolean }>;
};

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "stage-package-"));
  temps.push(d);
  return d;
}

function write(root: string, file: string, content = ""): void {
  mkdirSync(dirname(join(root, file)), { recursive: true });
  writeFileSync(join(root, file), content);
}

function listFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? listFiles(p, base) : [relative(base, p).split(sep).join("/")];
  });
}

/**
 * Runs the stage script. DURABLE_STORAGE_PROVIDER is AzureStorage unless `provider` says
 * otherwise (null: unset); the caller's own environment never leaks in.
 */
function stage(root: string, extra: string[] = [], provider: string | null = "AzureStorage") {
  const out = join(root, "dist", "azd-package");
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.DURABLE_STORAGE_PROVIDER;
  if (provider !== null) env.DURABLE_STORAGE_PROVIDER = provider;
  const r = spawnSync(
    process.execPath,
    [SCRIPT, "--root", root, "--skip-build", "--skip-install", ...extra],
    { encoding: "utf8", env },
  );
  return { ...r, out, files: r.status === 0 ? listFiles(out).sort() : [] };
}

/** The files `npm run build` emits, computed from tsconfig.build.json without compiling. */
function buildOutputs(): string[] {
  const configPath = join(REPO, "tsconfig.build.json");
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
      },
    },
  )!;
  return parsed.fileNames.flatMap((f) =>
    ts.getOutputFileNames(parsed, f, false).map((o) => relative(REPO, o).split(sep).join("/")),
  );
}

describe("stage-package.mjs on a fixture", () => {
  function fixture(): string {
    const root = tempDir();
    write(
      root,
      "package.json",
      JSON.stringify({
        name: "fixture",
        main: "dist/src/index.js",
        scripts: { start: "node dist/local-host/src/cli.js" },
        dependencies: { zod: "^4" },
        devDependencies: { jest: "^29" },
      }),
    );
    write(root, "host.json", '{ "version": "2.0" }');
    for (const f of [
      "dist/src/index.js",
      "dist/src/index.js.map",
      "dist/src/index.d.ts",
      "dist/src/functions/orders.js",
      "dist/src/console/index.html",
      "dist/src/console/app.js",
      "dist/src/console/app.css",
      "console/src/main.tsx",
      "console/build.mjs",
      "dist/local-host/src/cli.js",
      "dist/servicebus-emulator/src/cli.js",
      "dist/durable-log/src/log.js",
      "dist/bench/run.js",
      "src/index.ts",
      "test/infra/x.test.ts",
      "infra/main.bicep",
      "local-host/src/cli.ts",
      "local.settings.json",
      ".funcignore",
      "docs/deploy.md",
    ]) {
      write(root, f, "x");
    }
    return root;
  }

  it("stages only host.json, package.json and the compiled app (the console's build included)", () => {
    const r = stage(fixture());
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.files).toEqual([
      "dist/src/console/app.css",
      "dist/src/console/app.js",
      "dist/src/console/index.html",
      "dist/src/functions/orders.js",
      "dist/src/index.js",
      "dist/src/index.js.map",
      "host.json",
      "package.json",
    ]);
  });

  it("ships a package.json without scripts or dev dependencies, keeping main", () => {
    const r = stage(fixture());
    const shipped = JSON.parse(readFileSync(join(r.out, "package.json"), "utf8")) as object;
    expect(shipped).toEqual({
      name: "fixture",
      main: "dist/src/index.js",
      dependencies: { zod: "^4" },
    });
  });

  it("replaces a previous staging folder instead of adding to it", () => {
    const root = fixture();
    write(root, "dist/azd-package/stale-from-last-time.js", "x");
    expect(stage(root).files).not.toContain("stale-from-last-time.js");
  });

  it("refuses to stage when the build output is missing, naming the fix", () => {
    const root = fixture();
    rmSync(join(root, "dist", "src"), { recursive: true });
    const r = stage(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/dist\/src\/index\.js .*does not exist: run `npm run build` first/);
  });

  it("refuses a main outside dist/ and a missing host.json", () => {
    const root = fixture();
    const p = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { main: string };
    writeFileSync(join(root, "package.json"), JSON.stringify({ ...p, main: "src/index.ts" }));
    expect(stage(root).stderr).toMatch(/"main" must point into dist\//);
    const root2 = fixture();
    rmSync(join(root2, "host.json"));
    expect(stage(root2).stderr).toMatch(/host\.json is missing/);
  });

  it("rejects unknown arguments", () => {
    const r = stage(fixture(), ["--remote-build"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/unknown argument --remote-build/);
  });
});

describe("the packaged host.json gets the provisioned Durable backend's provider", () => {
  type HostJson = {
    version: string;
    extensionBundle?: unknown;
    extensions: { durableTask: Record<string, unknown> & { storageProvider: object } };
  };
  const repoHostPath = join(REPO, "host.json");
  const repoHostText = readFileSync(repoHostPath, "utf8");
  const repoHost = JSON.parse(repoHostText) as HostJson;
  /** Keys only the Azure Storage provider understands; none may reach the scheduler's config. */
  const AZURE_STORAGE_ONLY =
    /^(maxQueuePollingInterval|partitionCount|controlQueue.*|workItemQueue.*|trackingStore.*|useTablePartitionManagement|useLegacyPartitionManagement|connectionStringName|connectionName|maxQueueMessage.*|fetchLargeMessagesAutomatically|useAppLease|appLeaseOptions)$/;

  /** A tree with the repository's host.json plus Durable versioning keys, as a later change may add. */
  function fixture(hostJson: object | string = repoHostText): string {
    const root = tempDir();
    write(root, "package.json", JSON.stringify({ name: "fixture", main: "dist/src/index.js" }));
    write(root, "host.json", typeof hostJson === "string" ? hostJson : JSON.stringify(hostJson));
    write(root, "dist/src/index.js", "x");
    return root;
  }
  const staged = (r: { out: string }) =>
    JSON.parse(readFileSync(join(r.out, "host.json"), "utf8")) as HostJson;

  it("the repository's host.json stays on AzureStorage (func start + Azurite)", () => {
    expect(repoHost.extensions.durableTask.storageProvider).toMatchObject({ type: "AzureStorage" });
    expect(repoHost.extensions.durableTask.hubName).toBe("%TASKHUB_NAME%");
  });

  it("azureManaged: exactly type + DURABLE_TASK_SCHEDULER_CONNECTION_STRING, the rest of host.json kept", () => {
    const withVersioning = {
      ...repoHost,
      extensions: {
        ...repoHost.extensions,
        durableTask: {
          ...repoHost.extensions.durableTask,
          defaultVersion: "1.0",
          versionMatchStrategy: "CurrentOrOlder",
          versionFailureStrategy: "Reject",
          storageProvider: {
            ...repoHost.extensions.durableTask.storageProvider,
            partitionCount: 4,
            controlQueueBatchSize: 32,
            controlQueueBufferThreshold: 128,
            trackingStoreConnectionStringName: "X",
            useTablePartitionManagement: true,
          },
        },
      },
    };
    const root = fixture(withVersioning);
    const r = stage(root, [], "azureManaged");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /^stage-package: host\.json durableTask\.storageProvider: azureManaged, connection DURABLE_TASK_SCHEDULER_CONNECTION_STRING \(from DURABLE_STORAGE_PROVIDER\)$/m,
    );
    const host = staged(r);
    expect(host.extensions.durableTask.storageProvider).toEqual({
      type: "azureManaged",
      connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    });
    // Everything else is the source host.json: hubName, bundle, versioning, other extensions.
    const { storageProvider: _sp, ...durableRest } = host.extensions.durableTask;
    const { storageProvider: _src, ...sourceDurableRest } = withVersioning.extensions.durableTask;
    expect(durableRest).toEqual(sourceDurableRest);
    expect(durableRest).toMatchObject({
      hubName: "%TASKHUB_NAME%",
      defaultVersion: "1.0",
      versionMatchStrategy: "CurrentOrOlder",
      versionFailureStrategy: "Reject",
    });
    expect({ ...host, extensions: { ...host.extensions, durableTask: {} } }).toEqual({
      ...withVersioning,
      extensions: { ...withVersioning.extensions, durableTask: {} },
    });
    expect(host.extensionBundle).toEqual(repoHost.extensionBundle);
  });

  it("azureManaged: none of the Azure Storage-only keys, anywhere under durableTask", () => {
    const r = stage(fixture(), [], "azureManaged");
    expect(r.status).toBe(0);
    const collect = (o: unknown): string[] =>
      o && typeof o === "object" ? Object.entries(o).flatMap(([k, v]) => [k, ...collect(v)]) : [];
    const keys = collect(staged(r).extensions.durableTask.storageProvider);
    expect(keys.filter((k) => k !== "connectionStringName" && AZURE_STORAGE_ONLY.test(k))).toEqual(
      [],
    );
    expect(keys.sort()).toEqual(["connectionStringName", "type"]);
    // The check itself recognises the keys the repository's Azure Storage config uses.
    expect(AZURE_STORAGE_ONLY.test("maxQueuePollingInterval")).toBe(true);
  });

  it("AzureStorage: the repository's host.json byte for byte", () => {
    const r = stage(fixture(), [], "AzureStorage");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(readFileSync(join(r.out, "host.json"), "utf8")).toBe(repoHostText);
    expect(r.stdout).toMatch(
      /^stage-package: host\.json durableTask\.storageProvider: AzureStorage, as in the repository \(from DURABLE_STORAGE_PROVIDER\)$/m,
    );
  });

  it("--durable-provider works without the environment variable and overrides it", () => {
    const r = stage(fixture(), ["--durable-provider", "azureManaged"], null);
    expect(r.status).toBe(0);
    expect(staged(r).extensions.durableTask.storageProvider).toMatchObject({
      type: "azureManaged",
    });
    expect(r.stdout).toMatch(/azureManaged.*\(from --durable-provider\)$/m);
    const r2 = stage(fixture(), ["--durable-provider", "AzureStorage"], "azureManaged");
    expect(r2.status).toBe(0);
    expect(staged(r2).extensions.durableTask.storageProvider).toMatchObject({
      type: "AzureStorage",
    });
  });

  it("fails with one line naming the fix when no provider is given", () => {
    for (const provider of [null, ""]) {
      const root = fixture();
      const r = stage(root, [], provider);
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stderr).toMatch(/run azd provision first, or pass --durable-provider/);
      expect(listFiles(root)).not.toContain("dist/azd-package/host.json");
    }
  });

  it("fails on an unknown provider, from the environment or the option", () => {
    for (const [extra, env] of [
      [[], "azure_storage"],
      [[], "durableTaskScheduler"],
      [["--durable-provider", "netherite"], null],
      [["--durable-provider"], null],
    ] as [string[], string | null][]) {
      const r = stage(fixture(), extra, env);
      expect({ extra, env, status: r.status }).toEqual({ extra, env, status: 1 });
      expect(r.stderr).toMatch(
        /unknown Durable storage provider|needs azureManaged or AzureStorage/,
      );
    }
  });

  it("AzureStorage refuses a host.json that names another provider", () => {
    const other = {
      ...repoHost,
      extensions: {
        ...repoHost.extensions,
        durableTask: { ...repoHost.extensions.durableTask, storageProvider: { type: "mssql" } },
      },
    };
    const r = stage(fixture(other), [], "AzureStorage");
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/storageProvider\.type is "mssql", expected AzureStorage/);
  });

  it("never changes the repository's host.json", () => {
    const root = tempDir();
    cpSync(repoHostPath, join(root, "host.json"));
    write(root, "package.json", JSON.stringify({ name: "fixture", main: "dist/src/index.js" }));
    write(root, "dist/src/index.js", "x");
    expect(stage(root, [], "azureManaged").status).toBe(0);
    expect(readFileSync(join(root, "host.json"), "utf8")).toBe(repoHostText);
    expect(readFileSync(repoHostPath, "utf8")).toBe(repoHostText);
  });

  it("the prepackage hook gets the provider from azd: main.bicep outputs DURABLE_STORAGE_PROVIDER", () => {
    const bicep = readFileSync(join(REPO, "infra", "main.bicep"), "utf8");
    expect(bicep).toMatch(/^output DURABLE_STORAGE_PROVIDER string = /m);
    expect(readFileSync(SCRIPT, "utf8")).toContain("process.env.DURABLE_STORAGE_PROVIDER");
  });
});

describe("what this repository would ship", () => {
  const outputs = buildOutputs();

  it("package.json main is a build output of tsconfig.build.json", () => {
    expect(outputs).toContain(pkg.main);
  });

  it("stages the app entry and the app's compiled files, and no dev-only tree", () => {
    const root = tempDir();
    for (const f of ["package.json", "package-lock.json"]) cpSync(join(REPO, f), join(root, f));
    cpSync(join(REPO, "host.json"), join(root, "host.json"));
    for (const o of outputs) write(root, o, "x");
    for (const f of ["local.settings.json", "infra/main.bicep", "test/infra/x.test.ts"])
      write(root, f);

    const r = stage(root);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.files).toContain(pkg.main);
    expect(r.files).toContain("host.json");
    const appOutputs = outputs.filter((o) => o.startsWith("dist/src/") && !o.endsWith(".d.ts"));
    expect(r.files.filter((f) => f.startsWith("dist/"))).toEqual(appOutputs.sort());
    for (const f of r.files) {
      const top = f.split("/")[0];
      const underDist = f.split("/")[1];
      expect(DEV_ONLY_TREES).not.toContain(top);
      if (top === "dist") expect(DEV_ONLY_TREES).not.toContain(underDist);
      expect(f).not.toBe("local.settings.json");
    }
    // The build does emit the dev trees into dist/: the allow-list is what keeps them out.
    expect(outputs.some((o) => o.startsWith("dist/local-host/"))).toBe(true);
  });

  it("the console's bundle is built into the app's folder (dist/src/console), so it ships", () => {
    const build = readFileSync(join(REPO, "console", "build.mjs"), "utf8");
    expect(build).toContain('join(here, "..", "dist", "src", "console")');
    expect(pkg.main.split("/").slice(0, 2).join("/")).toBe("dist/src");
    expect((pkg as unknown as { scripts: Record<string, string> }).scripts.build).toContain(
      "node console/build.mjs",
    );
    // serveConsole reads it next to its own compiled file: dist/src/functions → dist/src/console.
    expect(readFileSync(join(SRC, "functions", "serveConsole.ts"), "utf8")).toContain(
      'path.resolve(__dirname, "..", "console")',
    );
    // The browser libraries are bundled at build time: none is a runtime dependency.
    for (const d of ["preact", "oidc-client-ts", "uplot", "esbuild", "playwright-core"])
      expect(Object.keys(pkg.dependencies)).not.toContain(d);
  });
});

describe("dependencies that ship", () => {
  // npm ci --omit=dev installs exactly the lockfile entries not marked dev.
  const production = Object.entries(lock.packages)
    .filter(([p, m]) => p.startsWith("node_modules/") && !m.dev)
    .map(([p]) => p.slice(p.lastIndexOf("node_modules/") + "node_modules/".length));

  it("runtime dependencies (package.json dependencies) contain no dev tool", () => {
    for (const tool of DEV_TOOLS) expect(Object.keys(pkg.dependencies)).not.toContain(tool);
  });

  it("npm ci --omit=dev installs none of the dev tools, except what a runtime dependency needs", () => {
    // Reached from runtime dependencies, so npm keeps them (and they are needed at runtime).
    const neededAtRuntime: Record<string, string> = {
      rhea: "@azure/service-bus speaks AMQP through rhea-promise -> rhea",
      "@types/node": "declared by a runtime dependency; type files only, no code runs",
    };
    for (const dev of [...DEV_TOOLS, ...Object.keys(pkg.devDependencies)]) {
      if (dev in neededAtRuntime) continue;
      expect({ dev, shipped: production.includes(dev) }).toEqual({ dev, shipped: false });
    }
    for (const name of Object.keys(neededAtRuntime)) expect(production).toContain(name);
    for (const d of Object.keys(pkg.dependencies)) expect(production).toContain(d);
  });

  it("no shipped package has an install script (the stage installs with --ignore-scripts)", () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([p, m]) => p.startsWith("node_modules/") && !m.dev && m.hasInstallScript)
      .map(([p]) => p);
    // Reviewed: scripts that need not run. protobufjs (under the OTLP exporters) only warns in
    // postinstall when a dependent's version range uses another scheme; it builds nothing.
    const reviewed = ["node_modules/protobufjs"];
    expect(withScripts.filter((p) => !reviewed.includes(p))).toEqual([]);
    expect(readFileSync(SCRIPT, "utf8")).toContain('"ci", "--omit=dev", "--ignore-scripts"');
  });

  it("every package the app's code imports is a runtime dependency", () => {
    const provided = new Set(["@azure/functions-core"]); // supplied by the Functions Node worker
    const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
    const imports = new Set<string>();
    for (const { ast } of readSources(SRC)) {
      const visit = (n: ts.Node): void => {
        const spec =
          (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
          n.moduleSpecifier &&
          ts.isStringLiteral(n.moduleSpecifier)
            ? n.moduleSpecifier.text
            : ts.isCallExpression(n) &&
                n.expression.getText() === "require" &&
                n.arguments[0] &&
                ts.isStringLiteral(n.arguments[0])
              ? n.arguments[0].text
              : undefined;
        if (spec && !spec.startsWith(".") && !builtins.has(spec)) {
          const parts = spec.split("/");
          imports.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
        }
        n.forEachChild(visit);
      };
      visit(ast);
    }
    expect(imports.size).toBeGreaterThan(0);
    for (const i of imports) {
      if (provided.has(i)) continue;
      expect({ import: i, runtimeDependency: i in pkg.dependencies }).toEqual({
        import: i,
        runtimeDependency: true,
      });
    }
  });
});

describe(".funcignore (used by Core Tools `func azure functionapp publish`, not by azd here)", () => {
  const funcignore = join(REPO, ".funcignore");

  it("excludes the dev-only trees and keeps the app entry", () => {
    const ig = ignore().add(readFileSync(funcignore, "utf8"));
    const git = spawnSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], {
      cwd: REPO,
      encoding: "utf8",
    });
    expect(git.status).toBe(0);
    const candidates = [...git.stdout.split("\n").filter(Boolean), ...buildOutputs()];
    const shipped = candidates.filter((f) => !ig.ignores(f));
    expect(shipped).toContain(pkg.main);
    expect(shipped).toContain("host.json");
    for (const f of shipped) {
      const [top, second] = f.split("/");
      expect({ f, devOnly: DEV_ONLY_TREES.includes(top) }).toEqual({ f, devOnly: false });
      if (top === "dist") {
        expect({ f, devOnly: [...DEV_ONLY_TREES, "azd-package"].includes(second) }).toEqual({
          f,
          devOnly: false,
        });
      }
      expect(f).not.toBe("local.settings.json");
    }
  });
});
