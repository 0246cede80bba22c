// The real Bicep compiler for the infra tests. Found on PATH, in BICEP_PATH, in azd's or the
// Azure CLI's install folder, or in the NuGet cache; restored from NuGet with `dotnet` when none
// is there (infra/tools/bicep.csproj). Compiled templates are cached by the source's hash, so
// each template compiles once per change however many test files read it.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import { delimiter, join, relative, resolve } from "node:path";

export const REPO = resolve(__dirname, "..", "..");
export const INFRA = join(REPO, "infra");

/** The CLI version infra/tools/bicep.csproj pins; the templates need at least MIN_BICEP_VERSION. */
export const PINNED_BICEP_VERSION = "0.49.2";
export const MIN_BICEP_VERSION = "0.36.1";
const PACKAGE = "azure.bicep.commandline.linux-x64";
const HOW_TO_GET =
  "Bicep CLI not found: install the .NET SDK and run `dotnet restore infra/tools/bicep.csproj`, or set BICEP_PATH to a bicep binary";

const runs = (file: string): boolean =>
  existsSync(file) && spawnSync(file, ["--version"], { encoding: "utf8" }).status === 0;

export type Where = { env: NodeJS.ProcessEnv; home: string };

function fromNugetCache({ env, home }: Where): string | undefined {
  const cache = env.NUGET_PACKAGES ?? join(home, ".nuget", "packages");
  const file = join(cache, PACKAGE, PINNED_BICEP_VERSION, "tools", "bicep");
  if (!existsSync(file)) return undefined;
  // NuGet unpacks without the executable bit.
  chmodSync(file, 0o755);
  return file;
}

function candidates({ env, home }: Where): string[] {
  const onPath = (env.PATH ?? "")
    .split(delimiter)
    .filter(Boolean)
    .map((d) => join(d, "bicep"));
  return [
    env.BICEP_PATH ?? "",
    ...onPath,
    join(home, ".azd", "bin", "bicep"),
    join(home, ".azure", "bin", "bicep"),
  ].filter(Boolean);
}

function restoreWithDotnet(where: Where): string | undefined {
  const opts = { encoding: "utf8" as const, env: where.env };
  if (spawnSync("dotnet", ["--version"], opts).status !== 0) return undefined;
  const r = spawnSync("dotnet", ["restore", join(INFRA, "tools", "bicep.csproj")], opts);
  if (r.status !== 0)
    throw new Error(`dotnet restore infra/tools/bicep.csproj failed: ${r.stdout}`);
  return fromNugetCache(where);
}

/** Finds bicep as the README says; throws one line saying how to get it when there is none. */
export function findBicep(where: Where = { env: process.env, home: homedir() }): string {
  const found = candidates(where).find(runs) ?? fromNugetCache(where) ?? restoreWithDotnet(where);
  if (!found) throw new Error(HOW_TO_GET);
  return found;
}

let found: string | undefined;
/** Path of a working bicep binary (found once per test file). */
export function bicepPath(): string {
  found ??= findBicep();
  return found;
}

export function bicepVersion(): string {
  const out = spawnSync(bicepPath(), ["--version"], { encoding: "utf8" }).stdout;
  return /(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? "unknown";
}

export type Run = { status: number; stdout: string; diagnostics: string };

/** `bicep <args>`: its stdout, and its diagnostics (stderr) with paths made repo-relative. */
export function bicep(args: string[], cwd = REPO): Run {
  const r = spawnSync(bicepPath(), args, { cwd, encoding: "utf8", maxBuffer: 64 << 20 });
  const diagnostics = `${r.stderr}`.split(`${REPO}/`).join("").trim();
  return { status: r.status ?? -1, stdout: r.stdout, diagnostics };
}

/** Every .bicep file under infra/ (repo-relative). */
export function bicepFiles(dir = INFRA): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === "tools" ? [] : bicepFiles(p);
    return e.name.endsWith(".bicep") ? [relative(REPO, p)] : [];
  });
}

function sourceHash(): string {
  const h = createHash("sha256").update(bicepVersion());
  for (const f of [...bicepFiles(), "bicepconfig.json", "infra/app-entities.json"].sort()) {
    h.update(f).update(readFileSync(join(REPO, f)));
  }
  return h.digest("hex").slice(0, 16);
}

// An ARM template as the compiler writes it (languageVersion 2.0: resources keyed by symbol).
export type Template = {
  $schema: string;
  languageVersion?: string;
  parameters?: Record<string, ArmParameter>;
  variables?: Record<string, unknown>;
  resources: Record<string, ArmResource> | ArmResource[];
  outputs?: Record<string, { type: string; value: unknown }>;
  metadata?: Record<string, unknown>;
};
export type ArmParameter = {
  type: string;
  defaultValue?: unknown;
  allowedValues?: unknown[];
  minValue?: number;
  maxValue?: number;
  minLength?: number;
  maxLength?: number;
  metadata?: { description?: string };
};
export type ArmResource = {
  type: string;
  apiVersion: string;
  name: string;
  scope?: string;
  condition?: string | boolean;
  existing?: boolean;
  dependsOn?: string[];
  copy?: { name: string; count: string; mode?: string; batchSize?: number };
  properties?: Record<string, unknown>;
  [key: string]: unknown;
};

const cache = new Map<string, Template>();
/** Compiles infra/<file> (default main.bicep) with the real compiler; throws on any diagnostic. */
export function compile(file = "infra/main.bicep"): Template {
  const key = `${sourceHash()}-${file.replace(/[^\w.-]+/g, "_")}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const dir = join(tmpdir(), "order-processing-bicep");
  const out = join(dir, `${key}.json`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const r = bicep(["build", file, "--stdout"]);
    if (r.status !== 0 || r.diagnostics) throw new Error(`bicep build ${file}:\n${r.diagnostics}`);
    // Jest workers may compile at once: write aside, then rename (atomic).
    const part = `${out}.${process.pid}`;
    writeFileSync(part, r.stdout);
    renameSync(part, out);
  }
  const template = JSON.parse(readFileSync(out, "utf8")) as Template;
  cache.set(key, template);
  return template;
}
