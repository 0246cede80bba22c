import https from "node:https";
import { CosmosClient } from "@azure/cosmos";

/** A client for the local emulator: its certificate is self-signed, as the real emulator's is. */
export function cosmosClient(connectionString: string): { client: CosmosClient; dispose(): void } {
  const agent = new https.Agent({ rejectUnauthorized: false, keepAlive: true });
  const endpoint = /AccountEndpoint=([^;]+);/.exec(connectionString)?.[1];
  const key = /AccountKey=([^;]+);/.exec(connectionString)?.[1];
  if (!endpoint || !key) throw new Error(`bad connection string ${connectionString}`);
  const client = new CosmosClient({ endpoint, key, agent });
  return {
    client,
    dispose() {
      client.dispose();
      agent.destroy();
    },
  };
}
