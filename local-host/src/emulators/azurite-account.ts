// Azurite's account and endpoints, apart from the server (loading Azurite's modules costs about
// half a second, and the host needs the connection string before Azurite is up).

/** Azurite's documented, public development account (not a secret). */
export const DEV_STORAGE_ACCOUNT = "devstoreaccount1";
export const DEV_STORAGE_KEY =
  "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export const STANDARD_STORAGE_PORTS = { blob: 10000, queue: 10001, table: 10002 } as const;

/**
 * Explicit connection string for the running servers. On the standard ports it names the same
 * endpoints as `UseDevelopmentStorage=true` (http://127.0.0.1:1000x/devstoreaccount1), so either
 * string reaches these servers.
 */
export function storageConnectionString(ports: {
  blob: number;
  queue: number;
  table: number;
}): string {
  const base = "http://127.0.0.1";
  return (
    `DefaultEndpointsProtocol=http;AccountName=${DEV_STORAGE_ACCOUNT};AccountKey=${DEV_STORAGE_KEY};` +
    `BlobEndpoint=${base}:${ports.blob}/${DEV_STORAGE_ACCOUNT};` +
    `QueueEndpoint=${base}:${ports.queue}/${DEV_STORAGE_ACCOUNT};` +
    `TableEndpoint=${base}:${ports.table}/${DEV_STORAGE_ACCOUNT};`
  );
}
