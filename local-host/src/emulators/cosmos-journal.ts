import path from "node:path";
import type { CosmosJournal, OpenedCosmosJournal } from "./cosmos";
import type { CosmosRecord, CosmosSnapshot } from "./cosmos-state";

interface DurableLogLike {
  append(record: unknown): Promise<void>;
  compact(snapshot: unknown): Promise<void>;
  readonly sizeSinceSnapshot: number;
  close(): Promise<void>;
}

interface DurableLogModule {
  DurableLog: {
    open(options: { dir: string; fsync: boolean }): Promise<{
      log: DurableLogLike;
      snapshot?: unknown;
      records: Iterable<unknown>;
    }>;
  };
}

/** Opens (or creates) the Cosmos write-ahead journal in `dir`, on the project's durable-log. */
export async function openCosmosJournal(dir: string): Promise<OpenedCosmosJournal> {
  const modulePath = path.join(__dirname, "..", "..", "..", "durable-log", "src", "index");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { DurableLog } = require(modulePath) as DurableLogModule;
  const opened = await DurableLog.open({ dir, fsync: true });
  const log = opened.log;
  const journal: CosmosJournal = {
    append: (record: CosmosRecord) => log.append(record),
    compact: (snapshot: CosmosSnapshot) => log.compact(snapshot),
    get sizeSinceSnapshot() {
      return log.sizeSinceSnapshot;
    },
    close: () => log.close(),
  };
  return {
    journal,
    snapshot: (opened.snapshot ?? undefined) as CosmosSnapshot | undefined,
    records: opened.records as Iterable<CosmosRecord>,
  };
}
