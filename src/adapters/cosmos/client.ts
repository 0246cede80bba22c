// One CosmosClient per process (it pools connections and caches routing), created on first use.
import { CosmosClient, type CosmosClientOptions, type Database } from "@azure/cosmos";
import { Agent } from "node:https";
import { getSettings, readCosmosConnection, type CosmosConnection } from "../../config";
import { cosmosTracing } from "../../observability/cosmosSpans";
import { credentialFor } from "../credential";

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

export function isLoopbackHost(endpoint: string): boolean {
  const host = new URL(endpoint).hostname.toLowerCase();
  return LOOPBACK.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Client options for a connection. A self-signed certificate (the local emulator's) is accepted
 * only when COSMOS_ALLOW_SELF_SIGNED is set AND the endpoint is loopback, and only for this
 * client's agent: the process-wide NODE_TLS_REJECT_UNAUTHORIZED is never touched.
 */
export function cosmosClientOptions(connection: CosmosConnection): CosmosClientOptions {
  const options: CosmosClientOptions = { endpoint: connection.endpoint };
  if (connection.kind === "key") options.key = connection.key;
  else options.aadCredentials = credentialFor(connection);
  if (isLoopbackHost(connection.endpoint)) {
    // Emulators have a single region: endpoint discovery would only redirect to unreachable hosts.
    options.connectionPolicy = { enableEndpointDiscovery: false };
    if (connection.allowSelfSigned && connection.endpoint.startsWith("https:")) {
      options.agent = new Agent({ rejectUnauthorized: false, keepAlive: true });
    }
  }
  return options;
}

export function createCosmosClient(connection: CosmosConnection): CosmosClient {
  // `plugins` is a supported option the SDK's typings mark @hidden (CosmosDiagnostics reports it).
  const plugins = [cosmosTracing];
  return new CosmosClient({ ...cosmosClientOptions(connection), plugins } as CosmosClientOptions);
}

let client: CosmosClient | undefined;

export function getCosmosClient(): CosmosClient {
  client ??= createCosmosClient(readCosmosConnection());
  return client;
}

export function getCosmosDatabase(): Database {
  return getCosmosClient().database(getSettings().cosmosDatabaseName);
}

/** Drops the process-wide client (tests that switch endpoints). */
export function resetCosmosClient(): void {
  client?.dispose();
  client = undefined;
}
