import { DurableLog } from "../../../durable-log/src/index";
import type { CosmosJournal, OpenedCosmosJournal } from "./cosmos";
import type { CosmosRecord, CosmosSnapshot } from "./cosmos-state";
import type { EmulatorLog } from "./log";

/** Opens (or creates) the Cosmos write-ahead journal in `dir`, on the project's durable-log. */
export async function openCosmosJournal(
  dir: string,
  log?: EmulatorLog,
): Promise<OpenedCosmosJournal> {
  const opened = await DurableLog.open<CosmosSnapshot, CosmosRecord>({
    dir,
    fsync: true,
    onStall: (err) =>
      log?.(
        err ? "error" : "info",
        err
          ? `Cosmos journal: writes failed (${err.message}); answering 503 and retrying until they succeed`
          : "Cosmos journal: writes succeed again; serving requests",
      ),
  });
  const { snapshot, records } = opened;
  // DurableLog serialises each record as append() is called and writes in call order, which is
  // what the emulator's durability barrier relies on.
  const journal: CosmosJournal = opened.log;
  return { journal, snapshot, records };
}
