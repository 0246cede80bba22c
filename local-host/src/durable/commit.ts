// Commits: every state change is applied in memory and appended to the DurableLog as one op
// (group-committed, fsync'd); callers act on it only after the append resolved. Compaction is
// scaled to the live state: a snapshot (one part per live instance and entity) is taken once the
// log since the last one outgrows both a floor and twice the last snapshot, so its cost stays
// proportional to what is live, and finished instances go to the archive on the way.
import { DurableLog } from "../../../durable-log/src";
import type { EngineState, StoredSnapshot } from "./state";
import type { Op } from "./types";

/** Log bytes since the last snapshot before compacting at all (bounds recovery time and the
 *  memory held by finished instances that wait for their archive file). */
export const COMPACT_MIN_BYTES = 16 * 1024 * 1024;

export class Committer {
  readonly log: DurableLog<StoredSnapshot, Op>;
  readonly state: EngineState;
  readonly #report: (message: string) => void;
  readonly #minBytes: number;
  #compaction: Promise<void> | undefined;
  #closed = false;
  compactions = 0;

  constructor(
    log: DurableLog<StoredSnapshot, Op>,
    state: EngineState,
    report: (message: string) => void,
    minBytes = COMPACT_MIN_BYTES,
  ) {
    this.log = log;
    this.state = state;
    this.#report = report;
    this.#minBytes = minBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  commit(op: Op): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("The durable engine is closed."));
    this.state.apply(op);
    const done = this.log.append(op);
    if (!this.#compaction && this.log.sizeSinceSnapshot > this.#threshold()) {
      this.#compaction = this.compact()
        .catch((err: unknown) => this.#report(`Compaction failed: ${String(err)}`))
        .finally(() => {
          this.#compaction = undefined;
        });
    }
    return done;
  }

  #threshold(): number {
    return Math.max(this.#minBytes, 2 * this.log.snapshotBytes);
  }

  /** Snapshots the live state now (its boundary is this call); finished instances are written
   *  to their archive file before the snapshot that no longer holds them. */
  async compact(): Promise<void> {
    const batch = this.state.finished.beginCompaction();
    const parts = this.state.snapshotParts(batch.manifest);
    try {
      await this.log.compactParts(parts, () => batch.write());
    } catch (err) {
      batch.abort();
      throw err;
    }
    this.compactions++;
    await batch.done();
  }

  /** Refuses further commits, takes a final snapshot (after any running one) and closes. */
  async close(final: boolean): Promise<void> {
    this.#closed = true;
    try {
      await this.#compaction;
      if (final) await this.compact();
    } finally {
      await this.log.close();
      this.state.finished.close();
    }
  }
}
