// Finished instances, out of the hot state. A finished instance is serialised once, when it ends,
// and kept as that frame until the next compaction writes it to an archive file
// (`${dataDir}/durable-archive/fin-<n>.arc`: an index frame, then one frame per record); after
// that only a small summary stays in memory and status reads load the record from the file.
// Archive files are immutable: purging or replacing an instance leaves a tombstone (id → the
// newest file it may be in) until the files it covers are gone, and a file whose records are
// all dead is deleted after the snapshot that stops listing it is durable.
import * as fs from "node:fs";
import { promises as fsp } from "node:fs";
import * as path from "node:path";
import {
  FRAME_HEADER_BYTES,
  framePayload,
  fsyncDir,
  readFrame,
  writeAll,
} from "../../../durable-log/src";
import type { InstanceRecord, InstanceSummary, RuntimeStatus } from "./types";

type FinishedSummary = InstanceSummary;

/** The archive's part of a snapshot: which files hold records and which records are dead. */
export interface ArchiveManifest {
  files: number[];
  tombstones: [string, number][];
  next: number;
}

/** One finished instance in memory: kept small (times as numbers, function names shared), since
 *  there is one per instance ever run until it is purged. Every entry has all fields from the
 *  start and none is ever deleted: a `delete` turns the object into a dictionary, ~0.4 KB more
 *  per instance (measured in the soak's heap). */
interface Entry {
  id: string;
  name: string;
  status: RuntimeStatus;
  created: number;
  updated: number;
  /** The record's frame until its archive file is durable. */
  frame: Buffer | undefined;
  file: number | undefined;
  offset: number | undefined;
}

function summaryOf(e: Entry): FinishedSummary {
  return {
    instanceId: e.id,
    name: e.name,
    status: e.status,
    createdTime: new Date(e.created).toISOString(),
    lastUpdatedTime: new Date(e.updated).toISOString(),
  };
}

type IndexRow = [string, string, RuntimeStatus, string, string, number, number];

const FILE_RE = /^fin-(\d{10})\.arc$/;
const fileName = (n: number): string => `fin-${String(n).padStart(10, "0")}.arc`;

/** Rows summarised between two turns of the event loop while an index is built. */
const INDEX_SLICE = 1000;

/**
 * An archive file's index frame: one row per record, [id, name, status, created, updated,
 * offset, length], as JSON. The index leads the file, so its own length shifts the offsets it
 * lists: each row's JSON is made once without its numbers, the index's length is then settled
 * by arithmetic, and the text is built once. (Stringifying the whole index in every round held
 * the event loop for 70-85 ms at 10k finished instances: the p99 of anything in flight.) Rows
 * are summarised in slices with a turn of the event loop between them. Sets each entry's offset.
 */
async function indexFrame(entries: Entry[], frames: Buffer[]): Promise<Buffer> {
  const heads: string[] = [];
  let headBytes = 0;
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && i % INDEX_SLICE === 0) await new Promise<void>((r) => setImmediate(r));
    const s = summaryOf(entries[i]);
    // '["id","name","status","created","updated"' : the row without its numbers and ']'.
    const head = JSON.stringify([
      s.instanceId,
      s.name,
      s.status,
      s.createdTime,
      s.lastUpdatedTime,
    ]).slice(0, -1);
    heads.push(head);
    headBytes += Buffer.byteLength(head, "utf8");
  }
  const digits = (n: number) => {
    let d = 1;
    for (let p = 10; n >= p; p *= 10) d++;
    return d;
  };
  const lengthDigits = frames.reduce((sum, f) => sum + digits(f.length), 0);
  // '[' row (',' row)* ']', each row head + ',' + offset + ',' + length + ']'.
  const fixedBytes =
    2 + Math.max(0, heads.length - 1) + headBytes + 3 * heads.length + lengthDigits;
  const offsets: number[] = new Array<number>(heads.length);
  for (let indexLen = 0; ;) {
    let at = indexLen;
    let bytes = fixedBytes;
    for (let i = 0; i < frames.length; i++) {
      offsets[i] = at;
      bytes += digits(at);
      at += frames[i].length;
    }
    if (FRAME_HEADER_BYTES + bytes === indexLen) break;
    indexLen = FRAME_HEADER_BYTES + bytes; // only grows with the offsets, so this settles in a few rounds
  }
  const rows = heads.map((head, i) => `${head},${offsets[i]},${frames[i].length}]`);
  const index = framePayload(Buffer.from(`[${rows.join(",")}]`, "utf8"));
  if (index.length !== offsets[0]) {
    throw new Error(`archive index: ${index.length} bytes, offsets assume ${offsets[0]}`);
  }
  for (let i = 0; i < entries.length; i++) entries[i].offset = offsets[i];
  return index;
}

/** One compaction's archive work: `write` before the snapshot, `done`/`abort` after it. */
export interface ArchiveBatch {
  manifest: ArchiveManifest;
  write(): Promise<void>;
  done(): Promise<void>;
  abort(): void;
}

/** How many finished records `get` keeps parsed. */
const PARSED_RECORDS = 256;

export class FinishedStore {
  readonly #dir: string;
  readonly #fsync: boolean;
  readonly #index = new Map<string, Entry>();
  /** Records read last, parsed (most recent last). */
  readonly #parsed = new Map<string, InstanceRecord>();
  readonly #pending = new Set<string>();
  readonly #tombstones = new Map<string, number>();
  /** Live (not dead) records per archive file. */
  readonly #liveIn = new Map<number, number>();
  readonly #fds = new Map<number, number>();
  readonly #names = new Map<string, string>();
  #next = 1;

  private constructor(dir: string, fsync: boolean) {
    this.#dir = dir;
    this.#fsync = fsync;
  }

  /** Opens the archive a snapshot lists; files it does not list (a compaction that did not
   *  finish) are deleted: their records are still in the log. */
  static async open(
    dir: string,
    manifest: ArchiveManifest | undefined,
    fsync: boolean,
  ): Promise<FinishedStore> {
    const store = new FinishedStore(dir, fsync);
    await fsp.mkdir(dir, { recursive: true });
    const listed = new Set(manifest?.files ?? []);
    for (const name of await fsp.readdir(dir)) {
      const m = FILE_RE.exec(name);
      if (m && !listed.has(Number(m[1]))) await fsp.rm(path.join(dir, name), { force: true });
    }
    for (const [id, file] of manifest?.tombstones ?? []) store.#tombstones.set(id, file);
    store.#next = manifest?.next ?? 1;
    for (const file of [...listed].sort((a, b) => a - b)) await store.#load(file);
    return store;
  }

  async #load(file: number): Promise<void> {
    const name = path.join(this.#dir, fileName(file));
    const fh = await fsp.open(name, "r");
    let rows: IndexRow[];
    try {
      const head = Buffer.alloc(8);
      await fh.read(head, 0, 8, 0);
      const buf = Buffer.alloc(8 + head.readUInt32LE(0));
      await fh.read(buf, 0, buf.length, 0);
      const payload = readFrame(buf);
      if (!payload) throw new Error(`The durable archive ${name} is damaged.`);
      rows = JSON.parse(payload.toString("utf8")) as IndexRow[];
    } finally {
      await fh.close();
    }
    let live = 0;
    for (const [instanceId, fnName, status, createdTime, lastUpdatedTime, offset] of rows) {
      if ((this.#tombstones.get(instanceId) ?? 0) >= file) continue;
      this.#drop(instanceId);
      const entry = this.#entry(instanceId, fnName, status, createdTime, lastUpdatedTime);
      entry.file = file;
      entry.offset = offset;
      this.#index.set(instanceId, entry);
      live++;
    }
    this.#liveIn.set(file, live);
  }

  get size(): number {
    return this.#index.size;
  }

  /** Records not yet in an archive file (their bytes are held in memory until compaction). */
  get pendingCount(): number {
    return this.#pending.size;
  }

  has(id: string): boolean {
    return this.#index.has(id);
  }

  #entry(
    id: string,
    name: string,
    status: RuntimeStatus,
    createdTime: string,
    lastUpdatedTime: string,
  ): Entry {
    let shared = this.#names.get(name);
    if (shared === undefined) this.#names.set(name, (shared = name));
    const created = Date.parse(createdTime);
    const updated = Date.parse(lastUpdatedTime);
    return {
      id,
      name: shared,
      status,
      created,
      updated,
      frame: undefined,
      file: undefined,
      offset: undefined,
    };
  }

  statusOf(id: string): RuntimeStatus | undefined {
    return this.#index.get(id)?.status;
  }

  summary(id: string): FinishedSummary | undefined {
    const e = this.#index.get(id);
    return e && summaryOf(e);
  }

  summaries(): IterableIterator<FinishedSummary> {
    return [...this.#index.values()].map(summaryOf).values();
  }

  /** Takes a finished instance out of the hot state (the record is not changed after this). */
  add(inst: InstanceRecord): void {
    this.remove(inst.instanceId);
    const frame = framePayload(Buffer.from(JSON.stringify(inst), "utf8"));
    const entry = this.#entry(
      inst.instanceId,
      inst.name,
      inst.status,
      inst.createdTime,
      inst.lastUpdatedTime,
    );
    entry.frame = frame;
    this.#index.set(inst.instanceId, entry);
    this.#pending.add(inst.instanceId);
  }

  /** Forgets an instance (purged, or started again under the same id). */
  remove(id: string): boolean {
    const entry = this.#index.get(id);
    if (!entry) return false;
    this.#drop(id);
    // Its file (and older ones, for earlier runs of the id) must not bring it back on open;
    // earlier runs were tombstoned when they were replaced, so this file's number covers all.
    if (entry.file !== undefined) {
      this.#tombstones.set(id, Math.max(entry.file, this.#tombstones.get(id) ?? 0));
    }
    return true;
  }

  #drop(id: string): void {
    this.#parsed.delete(id);
    const entry = this.#index.get(id);
    if (!entry) return;
    this.#index.delete(id);
    this.#pending.delete(id);
    if (entry.file !== undefined) {
      this.#liveIn.set(entry.file, (this.#liveIn.get(entry.file) ?? 1) - 1);
    }
  }

  /**
   * The full record (read from its frame in memory or its archive file). The records read last
   * are kept parsed: a finished record never changes, and clients read a finished instance's
   * status repeatedly (a poll's last answer, an order's status page), which otherwise parsed the
   * whole record, history included, every time (6% of the host's CPU in the status benchmark).
   * Callers that change a record take it out first (rewind), which forgets it here.
   */
  get(id: string): InstanceRecord | undefined {
    const entry = this.#index.get(id);
    if (!entry) return undefined;
    const cached = this.#parsed.get(id);
    if (cached) {
      this.#parsed.delete(id);
      this.#parsed.set(id, cached);
      return cached;
    }
    const payload = entry.frame ? readFrame(entry.frame) : this.#readFromFile(entry);
    if (!payload) throw new Error(`The durable archive record of '${id}' is damaged.`);
    const record = JSON.parse(payload.toString("utf8")) as InstanceRecord;
    this.#parsed.set(id, record);
    if (this.#parsed.size > PARSED_RECORDS) this.#parsed.delete(this.#parsed.keys().next().value!);
    return record;
  }

  #readFromFile(entry: Entry): Buffer | undefined {
    const file = entry.file!;
    let fd = this.#fds.get(file);
    if (fd === undefined) {
      fd = fs.openSync(path.join(this.#dir, fileName(file)), "r");
      this.#fds.set(file, fd);
    }
    // A small positioned read of one record; the file is immutable, so no locking is needed.
    const head = Buffer.alloc(8);
    fs.readSync(fd, head, 0, 8, entry.offset!);
    const buf = Buffer.alloc(8 + head.readUInt32LE(0));
    fs.readSync(fd, buf, 0, buf.length, entry.offset!);
    return readFrame(buf);
  }

  /** Finished instances whose last update is older than `before` (retention). */
  expired(before: number): string[] {
    const out: string[] = [];
    for (const [id, e] of this.#index) {
      if (e.updated < before) out.push(id);
    }
    return out;
  }

  /** Starts a compaction: pending records go to a new file; the manifest is what the
   *  snapshot taken now must record (synchronous, at the log's compaction boundary). */
  beginCompaction(): ArchiveBatch {
    const ids = [...this.#pending];
    const file = ids.length > 0 ? this.#next++ : undefined;
    this.#pending.clear();
    const entries = ids.map((id) => this.#index.get(id)!);
    const frames = entries.map((e) => e.frame!);
    if (file !== undefined) {
      for (const e of entries) e.file = file;
      this.#liveIn.set(file, entries.length);
    }
    const dead = [...this.#liveIn].filter(([, n]) => n <= 0).map(([f]) => f);
    for (const f of dead) this.#liveIn.delete(f);
    const minFile = Math.min(...this.#liveIn.keys());
    // A tombstone only matters while a file it covers exists.
    for (const [id, f] of this.#tombstones) if (f < minFile) this.#tombstones.delete(id);
    const manifest: ArchiveManifest = {
      files: [...this.#liveIn.keys()].sort((a, b) => a - b),
      tombstones: [...this.#tombstones],
      next: this.#next,
    };
    return {
      manifest,
      write: async () => {
        if (file === undefined) return;
        await this.#writeFile(file, entries, frames);
      },
      done: async () => {
        for (const e of entries) {
          if (e.file === file && this.#index.get(e.id) === e) e.frame = undefined;
        }
        for (const f of dead) {
          const fd = this.#fds.get(f);
          if (fd !== undefined) fs.closeSync(fd);
          this.#fds.delete(f);
          await fsp.rm(path.join(this.#dir, fileName(f)), { force: true });
        }
      },
      abort: () => {
        // The snapshot was not written: the records stay pending for the next compaction.
        for (const e of entries) {
          if (this.#index.get(e.id) !== e) continue;
          e.file = undefined;
          this.#pending.add(e.id);
        }
        if (file !== undefined) this.#liveIn.delete(file);
        for (const f of dead) if (!this.#liveIn.has(f)) this.#liveIn.set(f, 0);
      },
    };
  }

  async #writeFile(file: number, entries: Entry[], frames: Buffer[]): Promise<void> {
    const index = await indexFrame(entries, frames);
    const name = path.join(this.#dir, fileName(file));
    const fh = await fsp.open(name, "w");
    try {
      await writeAll(fh, [index, ...frames]);
      if (this.#fsync) await fh.sync();
    } finally {
      await fh.close();
    }
    if (this.#fsync) await fsyncDir(this.#dir);
  }

  close(): void {
    for (const fd of this.#fds.values()) fs.closeSync(fd);
    this.#fds.clear();
  }
}
