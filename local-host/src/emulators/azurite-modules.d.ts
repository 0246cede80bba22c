// Azurite ships no type declarations for its server classes (the package main is the VS Code
// extension), so the in-process servers are typed here with only what this host uses.
declare module "azurite/dist/src/common/persistence/MemoryExtentStore" {
  export class MemoryExtentChunkStore {
    constructor(sizeLimit?: number);
  }
}

declare module "azurite/dist/src/blob/BlobConfiguration" {
  import type { MemoryExtentChunkStore } from "azurite/dist/src/common/persistence/MemoryExtentStore";
  export interface PersistenceLocation {
    locationId: string;
    locationPath: string;
    maxConcurrency: number;
  }
  export default class BlobConfiguration {
    constructor(
      host: string,
      port: number,
      keepAliveTimeout: number,
      metadataDBPath: string,
      extentDBPath: string,
      persistencePathArray: PersistenceLocation[],
      enableAccessLog: boolean,
      accessLogWriteStream: undefined,
      enableDebugLog: boolean,
      debugLogFilePath: string | undefined,
      loose: boolean,
      skipApiVersionCheck: boolean,
      cert: string,
      key: string,
      pwd: string,
      oauth: string | undefined,
      disableProductStyleUrl: boolean,
      isMemoryPersistence: boolean,
      memoryStore?: MemoryExtentChunkStore,
    );
  }
}

declare module "azurite/dist/src/queue/QueueConfiguration" {
  import type { MemoryExtentChunkStore } from "azurite/dist/src/common/persistence/MemoryExtentStore";
  import type { PersistenceLocation } from "azurite/dist/src/blob/BlobConfiguration";
  export default class QueueConfiguration {
    constructor(
      host: string,
      port: number,
      keepAliveTimeout: number,
      metadataDBPath: string,
      extentDBPath: string,
      persistencePathArray: PersistenceLocation[],
      enableAccessLog: boolean,
      accessLogWriteStream: undefined,
      enableDebugLog: boolean,
      debugLogFilePath: string | undefined,
      loose: boolean,
      skipApiVersionCheck: boolean,
      cert: string,
      key: string,
      pwd: string,
      oauth: string | undefined,
      disableProductStyleUrl: boolean,
      isMemoryPersistence: boolean,
      memoryStore?: MemoryExtentChunkStore,
    );
  }
}

declare module "azurite/dist/src/table/TableConfiguration" {
  export default class TableConfiguration {
    constructor(
      host: string,
      port: number,
      keepAliveTimeout: number,
      metadataDBPath: string,
      enableDebugLog: boolean,
      enableAccessLog: boolean,
      accessLogWriteStream: undefined,
      debugLogFilePath: string | undefined,
      loose: boolean,
      skipApiVersionCheck: boolean,
      cert: string,
      key: string,
      pwd: string,
      oauth: string | undefined,
      disableProductStyleUrl: boolean,
      isMemoryPersistence: boolean,
    );
  }
}

declare module "azurite/dist/src/common/ServerBase" {
  export default abstract class ServerBase {
    start(): Promise<void>;
    close(): Promise<void>;
    clean(): Promise<void>;
    /** e.g. "http://127.0.0.1:10000" */
    getHttpServerAddress(): string;
  }
}

declare module "azurite/dist/src/blob/BlobServer" {
  import ServerBase from "azurite/dist/src/common/ServerBase";
  import type BlobConfiguration from "azurite/dist/src/blob/BlobConfiguration";
  export default class BlobServer extends ServerBase {
    constructor(configuration: BlobConfiguration);
  }
}

declare module "azurite/dist/src/queue/QueueServer" {
  import ServerBase from "azurite/dist/src/common/ServerBase";
  import type QueueConfiguration from "azurite/dist/src/queue/QueueConfiguration";
  export default class QueueServer extends ServerBase {
    constructor(configuration: QueueConfiguration);
  }
}

declare module "azurite/dist/src/table/TableServer" {
  import ServerBase from "azurite/dist/src/common/ServerBase";
  import type TableConfiguration from "azurite/dist/src/table/TableConfiguration";
  export default class TableServer extends ServerBase {
    constructor(configuration: TableConfiguration);
  }
}
