// Reads the two files `func start` reads: local.settings.json (Values become environment
// variables unless the real environment already has them) and host.json (route prefix, extension
// settings), with the host's %SETTING% expansion.
import fs from "node:fs";
import path from "node:path";

export interface LocalSettings {
  values: Record<string, string>;
  connectionStrings: Record<string, string>;
}

export interface HostJson {
  version?: string;
  extensions?: {
    http?: { routePrefix?: string; maxRequestBodySize?: number };
    durableTask?: Record<string, unknown>;
    serviceBus?: Record<string, unknown>;
    [name: string]: unknown;
  };
  [key: string]: unknown;
}

export class SettingsError extends Error {
  override name = "SettingsError";
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  try {
    // The host tolerates a UTF-8 BOM (editors on Windows write one).
    return JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (err) {
    throw new SettingsError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** local.settings.json; a missing file means no settings, as with `func start`. */
export function readLocalSettings(appDir: string): LocalSettings {
  const file = path.join(appDir, "local.settings.json");
  const raw = readJson(file) as
    { IsEncrypted?: boolean; Values?: unknown; ConnectionStrings?: unknown } | undefined;
  if (raw === undefined) return { values: {}, connectionStrings: {} };
  if (raw.IsEncrypted === true) {
    throw new SettingsError(`${file} is encrypted; decrypt it (func settings decrypt) first.`);
  }
  const strings = (obj: unknown, what: string): Record<string, string> => {
    if (obj === undefined || obj === null) return {};
    if (typeof obj !== "object" || Array.isArray(obj)) {
      throw new SettingsError(`${file}: ${what} must be an object.`);
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj)) {
      if (v === null || v === undefined) continue;
      out[k] = typeof v === "string" ? v : String(v);
    }
    return out;
  };
  return {
    values: strings(raw.Values, "Values"),
    connectionStrings: strings(raw.ConnectionStrings, "ConnectionStrings"),
  };
}

export function readHostJson(appDir: string): HostJson {
  const file = path.join(appDir, "host.json");
  const raw = readJson(file);
  if (raw === undefined) return { version: "2.0" };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new SettingsError(`${file} must contain a JSON object.`);
  }
  return raw as HostJson;
}

const HOST_OVERRIDE_PREFIX = "azurefunctionsjobhost__";

/**
 * host.json with the host's setting overrides applied: every setting named
 * `AzureFunctionsJobHost__<path>` (from the environment or local.settings.json Values, `__`
 * separating the levels) replaces the value at that path, as the Functions host's configuration
 * does. Keys match case-insensitively (an override of `extensions__durabletask__defaultversion`
 * replaces `extensions.durableTask.defaultVersion`); a path that does not exist yet is created
 * with the override's spelling. Values stay strings, as configuration values are.
 */
export function applyHostJsonOverrides(hostJson: HostJson, env: Record<string, string>): HostJson {
  const out = structuredClone(hostJson) as Record<string, unknown>;
  // A setting spelt twice (env and local.settings.json) was already merged by mergeEnvironment;
  // sort so the outcome never depends on the order the environment lists its names in.
  const names = Object.keys(env)
    .filter((name) => name.toLowerCase().startsWith(HOST_OVERRIDE_PREFIX))
    .sort();
  for (const name of names) {
    const segments = name.slice(HOST_OVERRIDE_PREFIX.length).split("__");
    if (segments.some((s) => s === "")) continue;
    let node = out;
    for (const [i, segment] of segments.entries()) {
      const key =
        Object.keys(node).find((k) => k.toLowerCase() === segment.toLowerCase()) ?? segment;
      if (i === segments.length - 1) {
        node[key] = env[name];
        break;
      }
      const child = node[key];
      if (child === null || typeof child !== "object" || Array.isArray(child)) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
  }
  return out as HostJson;
}

/** host.json `extensions.durableTask.storageProvider.type` (AzureStorage when absent). */
export function storageProviderOf(durableTask: Record<string, unknown> | undefined): {
  type: string;
  connectionStringName?: string;
} {
  const provider = durableTask?.storageProvider;
  if (provider === undefined || provider === null) return { type: "AzureStorage" };
  if (typeof provider !== "object" || Array.isArray(provider)) {
    throw new SettingsError("host.json: extensions.durableTask.storageProvider must be an object.");
  }
  const entry = (name: string) =>
    Object.entries(provider).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const type = entry("type");
  const connection = entry("connectionStringName") ?? entry("connectionName");
  return {
    type: typeof type === "string" && type ? type : "AzureStorage",
    ...(typeof connection === "string" && connection ? { connectionStringName: connection } : {}),
  };
}

/**
 * The environment the app sees: local.settings.json Values, then values the host itself
 * provides (e.g. connection strings of emulators it started), then the real environment,
 * which always wins.
 */
export function mergeEnvironment(
  realEnv: NodeJS.ProcessEnv,
  settings: LocalSettings,
  hostProvided: Record<string, string> = {},
): Record<string, string> {
  const env: Record<string, string> = { ...settings.values, ...hostProvided };
  for (const [name, value] of Object.entries(settings.connectionStrings)) {
    env[`ConnectionStrings:${name}`] ??= value;
  }
  for (const [k, v] of Object.entries(realEnv)) if (v !== undefined) env[k] = v;
  return env;
}

/** Expands %NAME% from the settings the way the host resolves binding/host.json values. */
export function expandSettings(value: string, env: Record<string, string>, where: string): string {
  return value.replace(/%([^%]+)%/g, (_m, name: string) => {
    const found = env[name];
    if (found === undefined) {
      throw new SettingsError(`${where}: setting '${name}' (from '%${name}%') is not defined.`);
    }
    return found;
  });
}

/** Deep %NAME% expansion of every string inside a host.json section. */
export function expandDeep<T>(value: T, env: Record<string, string>, where: string): T {
  if (typeof value === "string") return expandSettings(value, env, where) as T;
  if (Array.isArray(value)) return value.map((v) => expandDeep(v, env, where)) as T;
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = expandDeep(v, env, `${where}.${k}`);
    return out as T;
  }
  return value;
}

/** host.json extensions.http.routePrefix; "api" by default, "" allowed. */
export function routePrefixOf(hostJson: HostJson): string {
  const prefix = hostJson.extensions?.http?.routePrefix;
  if (prefix === undefined || prefix === null) return "api";
  if (typeof prefix !== "string")
    throw new SettingsError("host.json: routePrefix must be a string.");
  return prefix.replace(/^\/+|\/+$/g, "");
}

/** Looks up a connection setting as the extensions do: `<name>`, `ConnectionStrings:<name>`, `AzureWebJobs<name>`. */
export function resolveConnectionSetting(
  name: string,
  env: Record<string, string>,
): string | undefined {
  return env[name] ?? env[`ConnectionStrings:${name}`] ?? env[`AzureWebJobs${name}`];
}

/** LOCALHOST_DURABLE_RETENTION_HOURS: how long the local host keeps finished orchestration
 *  instances before purging them (unset or empty: until purged, as the extension does). */
export function durableRetentionMsOf(env: Record<string, string | undefined>): number | undefined {
  const text = env.LOCALHOST_DURABLE_RETENTION_HOURS?.trim();
  if (!text) return undefined;
  const hours = Number(text);
  if (!Number.isFinite(hours) || hours <= 0) {
    throw new SettingsError(
      `LOCALHOST_DURABLE_RETENTION_HOURS '${text}' is not a positive number of hours.`,
    );
  }
  return hours * 3_600_000;
}

/**
 * FUNCTIONS_WORKER_PROCESS_COUNT, the app setting the real host reads: how many language worker
 * processes run the app (1 to 10; default 1).
 */
export function workerProcessCountOf(env: Record<string, string | undefined>): number {
  const text = env.FUNCTIONS_WORKER_PROCESS_COUNT?.trim();
  if (!text) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 10) {
    throw new SettingsError(
      `FUNCTIONS_WORKER_PROCESS_COUNT '${text}' is not a whole number from 1 to 10.`,
    );
  }
  return n;
}
