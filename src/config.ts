// App settings, read lazily from the environment (Functions app settings / local.settings.json)
// and validated once, with errors that name the setting at fault. Connection settings are read
// only by the adapter that needs them, so e.g. a trigger that never touches Service Bus does not
// fail on a missing ServiceBusConnection.
import type { AuthConfig } from "./auth/token";
import { isAcceptableIssuerUrl } from "./auth/token";
import { parseIsoDuration } from "./domain/duration";

export class ConfigError extends Error {
  constructor(
    readonly setting: string,
    detail: string,
  ) {
    super(`Setting ${setting}: ${detail}`);
    this.name = "ConfigError";
  }
}

export interface AppSettings {
  cosmosDatabaseName: string;
  taskHubName: string | undefined;
  approvalThresholdMinor: number;
  /** ISO 8601 duration, validated. */
  approvalTimeout: string;
  approvalTimeoutMs: number;
}

/** How to reach an Azure service: a connection string (local/emulator) or an identity. */
export type IdentityOptions = { credential?: string; clientId?: string };

export type CosmosConnection =
  | { kind: "key"; endpoint: string; key: string; allowSelfSigned: boolean }
  | ({ kind: "identity"; endpoint: string; allowSelfSigned: boolean } & IdentityOptions);

export type ServiceBusConnection =
  | { kind: "connectionString"; connectionString: string }
  | ({ kind: "identity"; fullyQualifiedNamespace: string } & IdentityOptions);

type Env = Record<string, string | undefined>;

const DEFAULTS = {
  COSMOS_DATABASE_NAME: "orders",
  APPROVAL_THRESHOLD_MINOR: "100000",
  APPROVAL_TIMEOUT: "PT24H",
};

let cached: AppSettings | undefined;

function read(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

export function readSettings(env: Env = process.env): AppSettings {
  const cosmosDatabaseName = read(env, "COSMOS_DATABASE_NAME") ?? DEFAULTS.COSMOS_DATABASE_NAME;
  if (!/^[^/\\#?]{1,255}$/.test(cosmosDatabaseName)) {
    throw new ConfigError("COSMOS_DATABASE_NAME", `'${cosmosDatabaseName}' is not a valid name`);
  }
  const thresholdText = read(env, "APPROVAL_THRESHOLD_MINOR") ?? DEFAULTS.APPROVAL_THRESHOLD_MINOR;
  const approvalThresholdMinor = Number(thresholdText);
  if (
    !/^\d+$/.test(thresholdText) ||
    !Number.isSafeInteger(approvalThresholdMinor) ||
    approvalThresholdMinor < 0
  ) {
    throw new ConfigError(
      "APPROVAL_THRESHOLD_MINOR",
      `'${thresholdText}' is not a non-negative integer amount in minor units`,
    );
  }
  const approvalTimeout = read(env, "APPROVAL_TIMEOUT") ?? DEFAULTS.APPROVAL_TIMEOUT;
  let approvalTimeoutMs: number;
  try {
    approvalTimeoutMs = parseIsoDuration(approvalTimeout);
  } catch (err) {
    throw new ConfigError("APPROVAL_TIMEOUT", (err as Error).message);
  }
  if (approvalTimeoutMs <= 0) {
    throw new ConfigError("APPROVAL_TIMEOUT", "must be longer than zero");
  }
  return {
    cosmosDatabaseName,
    taskHubName: read(env, "TASKHUB_NAME"),
    approvalThresholdMinor,
    approvalTimeout,
    approvalTimeoutMs,
  };
}

/** The validated settings, read once per process. */
export function getSettings(): AppSettings {
  cached ??= readSettings();
  return cached;
}

/** Forgets the cached settings (tests change the environment). */
export function resetSettings(): void {
  cached = undefined;
}

function parseConnectionString(value: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of value.split(";")) {
    const eq = segment.indexOf("=");
    if (eq > 0) parts.set(segment.slice(0, eq).trim().toLowerCase(), segment.slice(eq + 1).trim());
  }
  return parts;
}

function identityOptions(env: Env, prefix: string): IdentityOptions {
  const options: IdentityOptions = {};
  const credential = read(env, `${prefix}__credential`);
  const clientId = read(env, `${prefix}__clientId`);
  if (credential) options.credential = credential;
  if (clientId) options.clientId = clientId;
  return options;
}

function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value);
}

function validUrl(setting: string, value: string, protocols: string[]): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(setting, `'${value}' is not a URL`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(setting, `expected a ${protocols.join(" or ")} URL, got '${value}'`);
  }
  return value;
}

/**
 * CosmosDBConnection (`AccountEndpoint=...;AccountKey=...`) or, in Azure,
 * CosmosDBConnection__accountEndpoint (+ __credential, __clientId) for an identity.
 */
export function readCosmosConnection(env: Env = process.env): CosmosConnection {
  const allowSelfSigned = isTrue(read(env, "COSMOS_ALLOW_SELF_SIGNED"));
  const connectionString = read(env, "CosmosDBConnection");
  if (connectionString) {
    const parts = parseConnectionString(connectionString);
    const endpoint = parts.get("accountendpoint");
    const key = parts.get("accountkey");
    if (!endpoint || !key) {
      throw new ConfigError(
        "CosmosDBConnection",
        "expected 'AccountEndpoint=...;AccountKey=...;' (the key is not shown)",
      );
    }
    return {
      kind: "key",
      endpoint: validUrl("CosmosDBConnection", endpoint, ["https:", "http:"]),
      key,
      allowSelfSigned,
    };
  }
  const endpoint = read(env, "CosmosDBConnection__accountEndpoint");
  if (endpoint) {
    return {
      kind: "identity",
      endpoint: validUrl("CosmosDBConnection__accountEndpoint", endpoint, ["https:", "http:"]),
      allowSelfSigned,
      ...identityOptions(env, "CosmosDBConnection"),
    };
  }
  throw new ConfigError(
    "CosmosDBConnection",
    "not set: give CosmosDBConnection (connection string) or CosmosDBConnection__accountEndpoint",
  );
}

/**
 * ServiceBusConnection (a connection string) or, in Azure,
 * ServiceBusConnection__fullyQualifiedNamespace (+ __credential, __clientId).
 */
export function readServiceBusConnection(env: Env = process.env): ServiceBusConnection {
  const connectionString = read(env, "ServiceBusConnection");
  if (connectionString) {
    if (!parseConnectionString(connectionString).get("endpoint")) {
      throw new ConfigError(
        "ServiceBusConnection",
        "expected 'Endpoint=sb://...;SharedAccessKeyName=...;SharedAccessKey=...' (not shown)",
      );
    }
    return { kind: "connectionString", connectionString };
  }
  const namespace = read(env, "ServiceBusConnection__fullyQualifiedNamespace");
  if (namespace) {
    if (!/^[A-Za-z0-9.-]+(:\d+)?$/.test(namespace)) {
      throw new ConfigError(
        "ServiceBusConnection__fullyQualifiedNamespace",
        `'${namespace}' is not a host name like <namespace>.servicebus.windows.net`,
      );
    }
    return {
      kind: "identity",
      fullyQualifiedNamespace: namespace,
      ...identityOptions(env, "ServiceBusConnection"),
    };
  }
  throw new ConfigError(
    "ServiceBusConnection",
    "not set: give ServiceBusConnection (connection string) or ServiceBusConnection__fullyQualifiedNamespace",
  );
}

/**
 * AUTH_AUTHORITY (the token issuer: `https://login.microsoftonline.com/<tenant>/v2.0` in Azure,
 * the development issuer on loopback locally; `http:` only on loopback) and AUTH_AUDIENCE (the
 * API's client id, the tokens' `aud`). Both are required: there is no way to turn checking off.
 */
export function readAuthConfig(env: Env = process.env): AuthConfig {
  const authority = read(env, "AUTH_AUTHORITY");
  if (!authority) throw new ConfigError("AUTH_AUTHORITY", "not set: give the token issuer's URL");
  if (!isAcceptableIssuerUrl(authority)) {
    throw new ConfigError(
      "AUTH_AUTHORITY",
      `'${authority}' must be an https URL (http only on localhost, 127.0.0.1 or ::1)`,
    );
  }
  const audience = read(env, "AUTH_AUDIENCE");
  if (!audience) throw new ConfigError("AUTH_AUDIENCE", "not set: give the API's client id");
  return { authority, audience };
}

export interface ConsoleConfig {
  /** The OpenID Connect authority the console signs in with (AUTH_AUTHORITY). */
  authority: string;
  /** The console's client id (a SPA registration: authorization code + PKCE, no secret). */
  clientId: string;
  /** The scopes the console asks for: openid, profile and the API's console scope. */
  scope: string;
}

/**
 * The console's sign-in settings: AUTH_AUTHORITY, CONSOLE_CLIENT_ID and CONSOLE_SCOPE (its
 * redirect URI is always `/api/console/` on the host serving it). Nothing here is secret: a SPA
 * client has no key.
 */
export function readConsoleConfig(env: Env = process.env): ConsoleConfig {
  const { authority } = readAuthConfig(env);
  const clientId = read(env, "CONSOLE_CLIENT_ID");
  if (!clientId) {
    throw new ConfigError("CONSOLE_CLIENT_ID", "not set: give the console's client id");
  }
  const scope = read(env, "CONSOLE_SCOPE");
  if (!scope) {
    throw new ConfigError(
      "CONSOLE_SCOPE",
      "not set: give the scopes the console asks for, e.g. 'openid profile api://<api>/Orders.Console'",
    );
  }
  return { authority, clientId, scope };
}
