// Orchestration versioning as the Durable extension does it (DurableTask.Core VersioningSettings
// and TaskOrchestrationDispatcher): an instance keeps the version it was created with (the start
// request's, else host.json `defaultVersion`); before every episode the host compares that version
// with its own `defaultVersion` under `versionMatchStrategy` and, on a mismatch, follows
// `versionFailureStrategy`: Reject leaves the work queued for another host, Fail ends the instance.
import { SettingsError } from "../settings";

export type VersionMatchStrategy = "None" | "Strict" | "CurrentOrOlder";
export type VersionFailureStrategy = "Reject" | "Fail";

export interface VersioningOptions {
  /** host.json `defaultVersion`; "" when absent or null (no version). */
  defaultVersion: string;
  matchStrategy: VersionMatchStrategy;
  failureStrategy: VersionFailureStrategy;
}

/** The message DTFx records when it fails an instance for its version. */
export const VERSION_MISMATCH_MESSAGE =
  "Orchestration version did not comply with Worker Versioning";

const MATCH: readonly VersionMatchStrategy[] = ["None", "Strict", "CurrentOrOlder"];
const FAILURE: readonly VersionFailureStrategy[] = ["Reject", "Fail"];

/** A host.json enum the way the .NET configuration binder reads it: name (any case) or number. */
function parseEnum<T extends string>(
  value: unknown,
  names: readonly T[],
  fallback: T,
  setting: string,
): T {
  if (value === undefined || value === null || value === "") return fallback;
  const text = String(value).trim();
  const byName = names.find((n) => n.toLowerCase() === text.toLowerCase());
  if (byName) return byName;
  if (/^\d+$/.test(text) && Number(text) < names.length) return names[Number(text)]!;
  throw new SettingsError(
    `host.json: extensions.durableTask.${setting} '${text}' is not one of ${names.join(", ")}.`,
  );
}

/** The versioning settings of host.json `extensions.durableTask` (keys in any case). */
export function versioningOf(durableTask: Record<string, unknown> | undefined): VersioningOptions {
  const get = (name: string) =>
    Object.entries(durableTask ?? {}).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];
  const version = get("defaultVersion");
  return {
    defaultVersion: version === undefined || version === null ? "" : String(version),
    // The extension's defaults: CurrentOrOlder, Reject.
    matchStrategy: parseEnum(
      get("versionMatchStrategy"),
      MATCH,
      "CurrentOrOlder",
      "versionMatchStrategy",
    ),
    failureStrategy: parseEnum(
      get("versionFailureStrategy"),
      FAILURE,
      "Reject",
      "versionFailureStrategy",
    ),
  };
}

/** System.Version.TryParse: 2 to 4 non-negative Int32 components. */
function dotNetVersion(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length < 2 || parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    if (!/^\s*\+?\d+\s*$/.test(part)) return undefined;
    const n = Number(part.trim());
    if (n > 2147483647) return undefined;
    numbers.push(n);
  }
  return numbers;
}

/**
 * VersioningSettings.CompareVersions: empty (or blank) versions are equal and older than any
 * defined one; two System.Version strings compare numerically (an absent build or revision is
 * older than 0, so 1.0 < 1.0.0); anything else compares as ordinal case-insensitive strings.
 */
export function compareVersions(source: string, other: string): number {
  const sourceEmpty = source.trim() === "";
  const otherEmpty = other.trim() === "";
  if (sourceEmpty && otherEmpty) return 0;
  if (sourceEmpty) return -1;
  if (otherEmpty) return 1;
  const a = dotNetVersion(source);
  const b = dotNetVersion(other);
  if (a && b) {
    for (let i = 0; i < 4; i++) {
      const x = a[i] ?? -1;
      const y = b[i] ?? -1;
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  }
  const x = source.toUpperCase();
  const y = other.toUpperCase();
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Whether a host with these settings refuses to run an instance of `version`. */
export function refusesVersion(options: VersioningOptions, version: string): boolean {
  switch (options.matchStrategy) {
    case "None":
      return false;
    case "Strict":
      // An exact (ordinal) match; a missing version counts as "".
      return version !== options.defaultVersion;
    case "CurrentOrOlder":
      return compareVersions(version, options.defaultVersion) > 0;
  }
}

export function describeVersioning(options: VersioningOptions): string {
  const v = options.defaultVersion ? `'${options.defaultVersion}'` : "(none)";
  return `defaultVersion ${v}, versionMatchStrategy ${options.matchStrategy}, versionFailureStrategy ${options.failureStrategy}`;
}
