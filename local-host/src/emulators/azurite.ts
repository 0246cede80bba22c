// Must come first: keeps Azurite from loading its telemetry client (see the module).
import "./azurite-no-telemetry";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import BlobConfiguration from "azurite/dist/src/blob/BlobConfiguration";
import BlobServer from "azurite/dist/src/blob/BlobServer";
import { MemoryExtentChunkStore } from "azurite/dist/src/common/persistence/MemoryExtentStore";
import QueueConfiguration from "azurite/dist/src/queue/QueueConfiguration";
import QueueServer from "azurite/dist/src/queue/QueueServer";
import TableConfiguration from "azurite/dist/src/table/TableConfiguration";
import TableServer from "azurite/dist/src/table/TableServer";

import { storageConnectionString } from "./azurite-account";

export {
  DEV_STORAGE_ACCOUNT,
  DEV_STORAGE_KEY,
  STANDARD_STORAGE_PORTS,
  storageConnectionString,
} from "./azurite-account";

export interface AzuriteOptions {
  host: string;
  ports: { blob: number; queue: number; table: number };
  /** LokiJS files and extents live here; in-memory when absent. */
  dir?: string;
}

export interface RunningAzurite {
  ports: { blob: number; queue: number; table: number };
  connectionString: string;
  close(): Promise<void>;
}

// Azurite's HTTP keep-alive timeout in seconds (its CLI default).
const KEEP_ALIVE_TIMEOUT = 5;

function portOf(address: string): number {
  return Number(new URL(address).port);
}

/**
 * Starts Azurite's blob, queue and table servers in this process. Persistence (when `dir` is
 * given) is Azurite's own LokiJS store, which autosaves every 5 s: a SIGKILL can lose the last
 * few seconds of storage writes, so nothing that must survive a crash may live only here.
 */
export async function startAzurite(options: AzuriteOptions): Promise<RunningAzurite> {
  const { host, dir } = options;
  const memory = dir === undefined;
  if (dir !== undefined) await mkdir(dir, { recursive: true });
  const file = (name: string): string => (dir === undefined ? name : path.join(dir, name));
  // A chunk store per instance, so two in-memory hosts in one process do not share blobs.
  const chunks = memory ? new MemoryExtentChunkStore() : undefined;
  const location = (
    name: string,
  ): { locationId: string; locationPath: string; maxConcurrency: number }[] => [
    { locationId: "Default", locationPath: file(name), maxConcurrency: 10 },
  ];
  // Positional arguments: see azurite/dist/src/azurite.js (the CLI builds them the same way).
  // skipApiVersionCheck: current SDKs send API versions newer than Azurite 3.35 knows.
  const blob = new BlobServer(
    new BlobConfiguration(
      host,
      options.ports.blob,
      KEEP_ALIVE_TIMEOUT,
      file("__azurite_db_blob__.json"),
      file("__azurite_db_blob_extent__.json"),
      location("__blobstorage__"),
      false,
      undefined,
      false,
      undefined,
      false,
      true,
      "",
      "",
      "",
      undefined,
      false,
      memory,
      chunks,
    ),
  );
  const queue = new QueueServer(
    new QueueConfiguration(
      host,
      options.ports.queue,
      KEEP_ALIVE_TIMEOUT,
      file("__azurite_db_queue__.json"),
      file("__azurite_db_queue_extent__.json"),
      location("__queuestorage__"),
      false,
      undefined,
      false,
      undefined,
      false,
      true,
      "",
      "",
      "",
      undefined,
      false,
      memory,
      chunks,
    ),
  );
  const table = new TableServer(
    new TableConfiguration(
      host,
      options.ports.table,
      KEEP_ALIVE_TIMEOUT,
      file("__azurite_db_table__.json"),
      false,
      false,
      undefined,
      undefined,
      false,
      true,
      "",
      "",
      "",
      undefined,
      false,
      memory,
    ),
  );
  const started: { close(): Promise<void> }[] = [];
  try {
    for (const server of [blob, queue, table]) {
      await server.start();
      started.push(server);
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()));
    throw err;
  }
  const ports = {
    blob: portOf(blob.getHttpServerAddress()),
    queue: portOf(queue.getHttpServerAddress()),
    table: portOf(table.getHttpServerAddress()),
  };
  let closing: Promise<void> | undefined;
  return {
    ports,
    connectionString: storageConnectionString(ports),
    close() {
      // Closing saves the LokiJS databases, so a clean stop keeps every write.
      closing ??= Promise.all([blob.close(), queue.close(), table.close()]).then(() => undefined);
      return closing;
    },
  };
}
