import { DurableLog } from "../../../durable-log/src/index";
import type { CosmosJournal, OpenedCosmosJournal } from "./cosmos";
import type { CosmosRecord, CosmosSnapshot } from "./cosmos-state";

/** Opens (or creates) the Cosmos write-ahead journal in `dir`, on the project's durable-log. */
export async function openCosmosJournal(dir: string): Promise<OpenedCosmosJournal> {
  const { log, snapshot, records } = await DurableLog.open<CosmosSnapshot, CosmosRecord>({
    dir,
    fsync: true,
  });
  // DurableLog serialises each record as append() is called and writes in call order, which is
  // what the emulator's durability barrier relies on.
  const journal: CosmosJournal = log;
  return { journal, snapshot, records };
}
