// Starts the real @vercel/cosmosdb-server in-process over HTTPS on a free port and provisions the
// app's containers, as the local host does, so adapter tests run against a real Cosmos API.
import { createHttpsServer } from "@vercel/cosmosdb-server";
import type { AddressInfo } from "node:net";
import type { CosmosClient, Database } from "@azure/cosmos";
import { createCosmosClient } from "../../src/adapters/cosmos/client";
import { COSMOS_CONTAINERS } from "../../src/adapters/cosmos/containers";

/** The emulator's documented well-known key (not a secret). */
export const EMULATOR_KEY =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

export interface TestCosmos {
  endpoint: string;
  connectionString: string;
  client: CosmosClient;
  database: Database;
  close(): Promise<void>;
}

export async function startTestCosmos(databaseId = "orders"): Promise<TestCosmos> {
  const server = createHttpsServer({ keepAlive: true });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  const endpoint = `https://127.0.0.1:${port}/`;
  // The app's own client path: key auth, self-signed accepted because the host is loopback.
  const client = createCosmosClient({
    kind: "key",
    endpoint,
    key: EMULATOR_KEY,
    allowSelfSigned: true,
  });
  const { database } = await client.databases.createIfNotExists({ id: databaseId });
  for (const c of COSMOS_CONTAINERS) {
    await database.containers.createIfNotExists({
      id: c.id,
      partitionKey: { paths: [c.partitionKey] },
    });
  }
  return {
    endpoint,
    connectionString: `AccountEndpoint=${endpoint};AccountKey=${EMULATOR_KEY};`,
    client,
    database,
    close: async () => {
      client.dispose();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
