// Function keys, as `func start --enforce-keys` would need them: generated once, kept in
// $DATA_DIR/keys.json, checked from the `x-functions-key` header or the `code` query parameter.
import fs from "node:fs";
import path from "node:path";
import { randomBytes, timingSafeEqual } from "node:crypto";

export interface HostKeys {
  functionKeys: { default: string };
  masterKey: string;
  systemKeys: { durabletask_extension: string };
}

// Same shape as the keys the host generates: URL-safe base64 of 40 random bytes, padded "==".
const newKey = (): string => randomBytes(40).toString("base64url") + "==";

export function loadOrCreateKeys(dataDir: string): HostKeys {
  const file = path.join(dataDir, "keys.json");
  if (fs.existsSync(file)) {
    const keys = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<HostKeys>;
    if (
      typeof keys.functionKeys?.default === "string" &&
      typeof keys.masterKey === "string" &&
      typeof keys.systemKeys?.durabletask_extension === "string"
    ) {
      return keys as HostKeys;
    }
    throw new Error(`${file} is malformed: delete it to generate new keys.`);
  }
  const keys: HostKeys = {
    functionKeys: { default: newKey() },
    masterKey: newKey(),
    systemKeys: { durabletask_extension: newKey() },
  };
  fs.mkdirSync(dataDir, { recursive: true });
  // Write-then-rename so a crash never leaves a half-written key file.
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(keys, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
  return keys;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The key a request presents: the header wins over the query string, as in the host. */
export function presentedKey(headers: Record<string, string>, url: URL): string | undefined {
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() === "x-functions-key" && value) return value;
  }
  return url.searchParams.get("code") ?? undefined;
}

export type AuthLevel = "anonymous" | "function" | "admin" | "system";

/** Whether `key` grants `level`: the master key grants everything. */
export function authorizes(keys: HostKeys, level: AuthLevel, key: string | undefined): boolean {
  if (level === "anonymous") return true;
  if (!key) return false;
  if (same(key, keys.masterKey)) return true;
  if (level === "function") return same(key, keys.functionKeys.default);
  if (level === "system") return same(key, keys.systemKeys.durabletask_extension);
  return false;
}
