/**
 * Crash-safe, append-only persistence with group commit.
 *
 * On-disk layout (all inside `options.dir`, which the log owns):
 *   seg-<n>.log   append-only segments; every frame is [u32 length][u32 crc32][payload], where
 *                 payload is the UTF-8 JSON of an array of records (one append = a one-element
 *                 array, one appendMany = the whole group, so a group is recovered all or nothing).
 *   snap-<n>.snap the snapshot covering everything in segments numbered below n (segments >= n
 *                 are replayed on top of it): one framed JSON value (compact), or a marker frame
 *                 {"durableLogParts": k} followed by k frames, one JSON value each
 *                 (compactParts: no single string holds the whole snapshot).
 *   *.tmp         snapshot being written; ignored and deleted on open.
 */
import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import * as path from "node:path";
import * as zlib from "node:zlib";

export interface DurableLogOptions {
  dir: string; // created if missing; the log owns this directory
  fsync?: boolean; // default true; false = write only (tests/benchmarks), still ordered
  /** Told when appends stop reaching the disk (the error) and when they reach it again (undefined). */
  onStall?: (error: Error | undefined) => void;
}

/** Write errors that a later attempt can get past (the disk fills, then space comes back). */
const RETRYABLE_WRITE_ERRORS = new Set(["ENOSPC", "EDQUOT", "EIO", "EAGAIN"]);
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 1000;

export interface Recovered<S, R> {
  snapshot: S | undefined; // latest durable snapshot, if any
  records: R[]; // every record appended after that snapshot, in order
}

export interface DurableLogStats {
  /** Records committed (each append() counts 1, appendMany(rs) counts rs.length). */
  appends: number;
  /** Write+fsync rounds performed (group commits). */
  commits: number;
  /** Bytes written to segments by this instance (frames including headers). */
  bytes: number;
}

/** Thrown by untilStalled() when appends are held back (the disk is full) before its promise settles. */
export class DurableLogStalledError extends Error {
  override readonly name = "DurableLogStalledError";
  constructor(cause: Error) {
    super(`DurableLog: writes are held back until they succeed again (${cause.message})`, {
      cause,
    });
  }
}

/** Commits and appends of every log in this process (the benchmarks' fsync count). */
const totals: DurableLogStats = { appends: 0, commits: 0, bytes: 0 };
export function durableLogTotals(): DurableLogStats {
  return { ...totals };
}

/** Thrown by open() when the directory holds damage that is not a torn tail (data would be lost). */
export class DurableLogCorruptError extends Error {
  override readonly name = "DurableLogCorruptError";
}

// ---------------------------------------------------------------------------------------------
// CRC32 (IEEE 802.3, as zlib): native since Node 20.15, so checksums cost no event-loop time.

export function crc32(buf: Uint8Array): number {
  return zlib.crc32(buf) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Framing

/** A frame's header: [u32 length][u32 crc32], before its payload. */
export const FRAME_HEADER_BYTES = 8;
const HEADER = FRAME_HEADER_BYTES;

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER);
  return out;
}

interface ParsedFrames {
  payloads: Buffer[];
  /** Byte length of the valid prefix; anything after it is torn or corrupt. */
  validLength: number;
}

function parseFrames(buf: Buffer): ParsedFrames {
  const payloads: Buffer[] = [];
  let off = 0;
  while (off + HEADER <= buf.length) {
    const len = buf.readUInt32LE(off);
    const crc = buf.readUInt32LE(off + 4);
    if (off + HEADER + len > buf.length) break;
    const payload = buf.subarray(off + HEADER, off + HEADER + len);
    if (crc32(payload) !== crc) break;
    payloads.push(payload);
    off += HEADER + len;
  }
  return { payloads, validLength: off };
}

/** JSON text of a value; rejects values JSON cannot represent instead of writing garbage. */
function toJson(value: unknown, what: string): string {
  const text = JSON.stringify(value);
  if (text === undefined) throw new TypeError(`DurableLog: ${what} is not JSON-serialisable`);
  return text;
}

const PARTS_KEY = "durableLogParts";

/** A snapshot file's value: the one framed value, or the parts after a parts marker. */
function parseSnapshot(buf: Buffer, file: string): unknown {
  const parsed = parseFrames(buf);
  const damaged = () => new DurableLogCorruptError(`DurableLog: snapshot ${file} is damaged`);
  if (parsed.validLength !== buf.length || parsed.payloads.length === 0) throw damaged();
  const first: unknown = JSON.parse(parsed.payloads[0].toString("utf8"));
  const count =
    first !== null && typeof first === "object" && !Array.isArray(first)
      ? (first as Record<string, unknown>)[PARTS_KEY]
      : undefined;
  if (typeof count !== "number") {
    if (parsed.payloads.length !== 1) throw damaged();
    return first;
  }
  if (parsed.payloads.length !== count + 1) throw damaged();
  return parsed.payloads.slice(1).map((p) => JSON.parse(p.toString("utf8")) as unknown);
}

/** Writes buffers in order (writev in batches; short writes continue where they stopped). */
export async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<void> {
  for (let i = 0; i < bufs.length; i += 256) {
    const batch = bufs.slice(i, i + 256);
    const total = batch.reduce((sum, b) => sum + b.length, 0);
    let { bytesWritten } = await fh.writev(batch);
    if (bytesWritten === total) continue;
    const rest = Buffer.concat(batch);
    while (bytesWritten < total) {
      const r = await fh.write(rest, bytesWritten, total - bytesWritten);
      bytesWritten += r.bytesWritten;
    }
  }
}

/** A framed payload: [u32 length][u32 crc32][payload] (shared with files kept next to a log). */
export function framePayload(payload: Buffer): Buffer {
  return frame(payload);
}

/** Reads one frame's payload from `buf` at `offset`, or undefined when it is torn or corrupt. */
export function readFrame(buf: Buffer, offset = 0): Buffer | undefined {
  if (offset + HEADER > buf.length) return undefined;
  const len = buf.readUInt32LE(offset);
  if (offset + HEADER + len > buf.length) return undefined;
  const payload = buf.subarray(offset + HEADER, offset + HEADER + len);
  return crc32(payload) === buf.readUInt32LE(offset + 4) ? payload : undefined;
}

// ---------------------------------------------------------------------------------------------
// File names and directory helpers

const SEG_RE = /^seg-(\d{10})\.log$/;
const SNAP_RE = /^snap-(\d{10})\.snap$/;
const pad = (n: number): string => String(n).padStart(10, "0");
const segName = (n: number): string => `seg-${pad(n)}.log`;
const snapName = (n: number): string => `snap-${pad(n)}.snap`;

/** Makes directory entries (created/renamed/deleted files) durable. Not possible on Windows. */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return;
  const fh = await fsp.open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Write queue entries

interface WriteEntry {
  kind: "write";
  buf: Buffer;
  count: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

interface RotateEntry {
  kind: "rotate";
  seg: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

type Entry = WriteEntry | RotateEntry;

export class DurableLog<S = unknown, R = unknown> {
  private readonly dir: string;
  private readonly doFsync: boolean;
  private fh: FileHandle;
  private queue: Entry[] = [];
  private flushing = false;
  /** Set once a write/fsync fails: the file tail is unknown, so nothing more may be appended. */
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  /** Segment that appends queued now will land in (advanced synchronously by compact()). */
  private appendSeg: number;
  /** Segment the current snapshot covers up to (segments >= this are replayed). */
  private snapshotSeg: number;
  private readonly bytesBySeg = new Map<number, number>();
  private compactChain: Promise<void> = Promise.resolve();
  private drainWaiters: (() => void)[] = [];
  private readonly counters: DurableLogStats = { appends: 0, commits: 0, bytes: 0 };
  /** Size of the newest snapshot file (read on open or written by a compaction). */
  private lastSnapshotBytes = 0;
  /** Bytes of the active segment known to be on disk: a failed write is cut back to this. */
  private committedLength: number;
  /** Set while a retryable write error keeps the head batch from reaching the disk. */
  private stall: Error | undefined;
  private stallWaiters: ((err: Error | undefined) => void)[] = [];
  private onStall: ((error: Error | undefined) => void) | undefined;

  private constructor(
    dir: string,
    doFsync: boolean,
    fh: FileHandle,
    seg: number,
    snapshotSeg: number,
    committedLength: number,
  ) {
    this.committedLength = committedLength;
    this.dir = dir;
    this.doFsync = doFsync;
    this.fh = fh;
    this.appendSeg = seg;
    this.snapshotSeg = snapshotSeg;
  }

  /** Opens (or creates) the log, recovering snapshot + records; a torn/corrupt tail (partial
   *  last write after a crash) is detected by length+CRC and truncated, never an error. */
  static async open<S, R>(
    options: DurableLogOptions,
  ): Promise<{ log: DurableLog<S, R> } & Recovered<S, R>> {
    if (!options || typeof options.dir !== "string" || options.dir.length === 0) {
      throw new TypeError("DurableLog.open: options.dir must be a non-empty string");
    }
    const dir = path.resolve(options.dir);
    const doFsync = options.fsync !== false;
    await fsp.mkdir(dir, { recursive: true });

    const names = await fsp.readdir(dir);
    const segs: number[] = [];
    const snaps: number[] = [];
    for (const name of names) {
      const seg = SEG_RE.exec(name);
      const snap = SNAP_RE.exec(name);
      if (seg) segs.push(Number(seg[1]));
      else if (snap) snaps.push(Number(snap[1]));
      else if (name.endsWith(".tmp")) await fsp.rm(path.join(dir, name), { force: true });
    }
    segs.sort((a, b) => a - b);
    snaps.sort((a, b) => a - b);

    // The newest snapshot was renamed into place atomically after an fsync, so it must be whole;
    // if it is not, older segments are already gone and recovering silently would lose data.
    let snapshot: S | undefined;
    let snapshotBytes = 0;
    let base = 1;
    if (snaps.length > 0) {
      base = snaps[snaps.length - 1];
      const file = path.join(dir, snapName(base));
      const buf = await fsp.readFile(file);
      snapshot = parseSnapshot(buf, file) as S;
      snapshotBytes = buf.length;
    }

    // Leftovers of a compaction that finished its rename but not its deletes.
    for (const n of segs.filter((n) => n < base)) await fsp.rm(path.join(dir, segName(n)));
    for (const n of snaps.filter((n) => n < base)) await fsp.rm(path.join(dir, snapName(n)));
    const live = segs.filter((n) => n >= base);

    const records: R[] = [];
    const bytesBySeg = new Map<number, number>();
    let dirChanged = false;
    for (let i = 0; i < live.length; i++) {
      const file = path.join(dir, segName(live[i]));
      const buf = await fsp.readFile(file);
      const parsed = parseFrames(buf);
      let validLength = parsed.validLength;
      const groups: R[][] = [];
      for (let j = 0; j < parsed.payloads.length; j++) {
        let group: unknown;
        try {
          group = JSON.parse(parsed.payloads[j].toString("utf8"));
        } catch {
          group = undefined;
        }
        if (!Array.isArray(group)) {
          // A CRC-valid frame that is not ours: treat it and everything after as the bad tail.
          validLength = parsed.payloads.slice(0, j).reduce((sum, p) => sum + HEADER + p.length, 0);
          break;
        }
        groups.push(group as R[]);
      }
      if (validLength < buf.length) {
        // Only the end of the log can be torn: a later segment with data means this damage is
        // in the middle, and dropping it would leave a gap.
        for (const later of live.slice(i + 1)) {
          const st = await fsp.stat(path.join(dir, segName(later)));
          if (st.size > 0) {
            throw new DurableLogCorruptError(
              `DurableLog: ${file} is damaged at byte ${validLength} but later segments hold data`,
            );
          }
        }
        for (const later of live.slice(i + 1)) {
          await fsp.rm(path.join(dir, segName(later)));
          dirChanged = true;
        }
        live.length = i + 1;
        const fh = await fsp.open(file, "r+");
        try {
          await fh.truncate(validLength);
          if (doFsync) await fh.sync();
        } finally {
          await fh.close();
        }
      }
      for (const g of groups) for (const r of g) records.push(r);
      bytesBySeg.set(live[i], validLength);
    }

    const active = live.length > 0 ? live[live.length - 1] : base;
    if (live.length === 0) dirChanged = true;
    const fh = await fsp.open(path.join(dir, segName(active)), "a");
    if (dirChanged && doFsync) await fsyncDir(dir);

    const log = new DurableLog<S, R>(dir, doFsync, fh, active, base, bytesBySeg.get(active) ?? 0);
    log.onStall = options.onStall;
    for (const [k, v] of bytesBySeg) log.bytesBySeg.set(k, v);
    log.lastSnapshotBytes = snapshotBytes;
    return { log, snapshot, records };
  }

  /** Resolves only once the record is on disk (written and fsync'd). Concurrent appends are
   *  group-committed: every append queued while a write+fsync is in flight goes into the next
   *  single write+fsync. Order of records on disk = order of append() calls. */
  append(record: R): Promise<void> {
    let json: string;
    try {
      json = toJson(record, "record");
    } catch (err) {
      return Promise.reject(err);
    }
    return this.enqueue(`[${json}]`, 1);
  }

  /** Appends a group as one frame: on recovery either all of it is present or none. */
  appendMany(records: R[]): Promise<void> {
    if (!Array.isArray(records)) {
      return Promise.reject(new TypeError("DurableLog.appendMany: records must be an array"));
    }
    let json: string;
    try {
      json = records.map((r) => toJson(r, "record")).join(",");
    } catch (err) {
      return Promise.reject(err);
    }
    // An empty group writes nothing but still resolves in order with the appends before it.
    return this.enqueue(records.length === 0 ? "" : `[${json}]`, records.length);
  }

  /** Replaces everything before now with `snapshot` (which must reflect every record whose
   *  append() was called before compact()): writes it atomically (tmp file, fsync, rename, fsync
   *  the directory), then starts a new segment and deletes old ones. Appends made during
   *  compaction are kept after the snapshot. */
  compact(snapshot: S): Promise<void> {
    let frames: Buffer[];
    try {
      frames = [frame(Buffer.from(toJson(snapshot, "snapshot"), "utf8"))];
    } catch (err) {
      return Promise.reject(err);
    }
    return this.startCompaction(frames);
  }

  /** compact() for a snapshot made of parts: each part is serialised and framed on its own (so
   *  no one string holds the whole snapshot), and open() returns the parts as an array. `prepare`
   *  runs after the segment rotation and before the snapshot is written (the caller makes files
   *  the snapshot refers to durable there); if it rejects, no snapshot is written. */
  compactParts(parts: unknown[], prepare?: () => Promise<void>): Promise<void> {
    if (!Array.isArray(parts)) {
      return Promise.reject(new TypeError("DurableLog.compactParts: parts must be an array"));
    }
    let frames: Buffer[];
    try {
      frames = [frame(Buffer.from(JSON.stringify({ [PARTS_KEY]: parts.length }), "utf8"))];
      for (const part of parts) frames.push(frame(Buffer.from(toJson(part, "part"), "utf8")));
    } catch (err) {
      return Promise.reject(err);
    }
    return this.startCompaction(frames, prepare);
  }

  private startCompaction(frames: Buffer[], prepare?: () => Promise<void>): Promise<void> {
    const unusable = this.unusableError();
    if (unusable) return Promise.reject(unusable);
    // The boundary is taken now, synchronously: appends called before this go to the old
    // segment (covered by the snapshot), appends called after go to the new one.
    const newSeg = ++this.appendSeg;
    const rotated = new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: "rotate", seg: newSeg, resolve, reject });
    });
    this.scheduleFlush();
    const run = async (): Promise<void> => {
      await rotated;
      if (prepare) await prepare();
      await this.writeSnapshot(newSeg, frames);
    };
    // Compactions finish in call order so an older snapshot never replaces a newer one.
    const result = this.compactChain.then(run, run);
    this.compactChain = result.catch(() => undefined);
    return result;
  }

  /** Bytes of the newest snapshot (0 without one); callers scale compaction to it. */
  get snapshotBytes(): number {
    return this.lastSnapshotBytes;
  }

  /** Bytes appended since the last snapshot (callers use it to decide when to compact). */
  get sizeSinceSnapshot(): number {
    let total = 0;
    for (const [seg, bytes] of this.bytesBySeg) if (seg >= this.snapshotSeg) total += bytes;
    return total;
  }

  get stats(): DurableLogStats {
    return { ...this.counters };
  }

  /**
   * The write error while appends are held back by a retryable one (ENOSPC: the disk is full):
   * the log keeps the queued records in order and retries the same bytes, after cutting the
   * segment back to its last whole record, until they reach the disk; undefined otherwise.
   * Callers answer "busy" meanwhile instead of waiting.
   */
  get stalled(): Error | undefined {
    return this.stall;
  }

  /** Resolves with the error once appends are held back (at once if they are now), or with
   *  undefined after the next commit (so waiters never pile up on a healthy log). */
  stallSignal(): Promise<Error | undefined> {
    if (this.stall) return Promise.resolve(this.stall);
    return new Promise((resolve) => this.stallWaiters.push(resolve));
  }

  /** `work`'s result, unless appends get held back before it settles: then a
   *  DurableLogStalledError at once (work itself goes on, and its records are written later). */
  async untilStalled<T>(work: Promise<T>): Promise<T> {
    let done = false;
    const settled = work.then(
      () => (done = true),
      () => (done = true),
    );
    while (!done) {
      const err = await Promise.race([settled.then(() => undefined), this.stallSignal()]);
      if (err) throw new DurableLogStalledError(err);
    }
    return work;
  }

  /** Flushes pending appends, then closes the file. Appends after close() reject. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closing = (async () => {
        await this.drain();
        await this.compactChain;
        await this.fh.close();
      })();
    }
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------

  private unusableError(): Error | undefined {
    if (this.failure) return this.failedError();
    if (this.closing) return new Error("DurableLog: log is closed");
    return undefined;
  }

  private failedError(): Error {
    const cause = this.failure;
    return new Error(`DurableLog: an earlier write failed; reopen the log (${cause?.message})`, {
      cause,
    });
  }

  private enqueue(json: string, count: number): Promise<void> {
    const unusable = this.unusableError();
    if (unusable) return Promise.reject(unusable);
    const buf = json.length === 0 ? Buffer.alloc(0) : frame(Buffer.from(json, "utf8"));
    this.bytesBySeg.set(this.appendSeg, (this.bytesBySeg.get(this.appendSeg) ?? 0) + buf.length);
    const p = new Promise<void>((resolve, reject) => {
      this.queue.push({ kind: "write", buf, count, resolve, reject });
    });
    this.scheduleFlush();
    return p;
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = true;
    // Start on a microtask so appends issued synchronously together share the first commit.
    queueMicrotask(() => void this.flushLoop());
  }

  private async flushLoop(): Promise<void> {
    while (this.queue.length > 0) {
      const head = this.queue[0];
      if (head.kind === "rotate") {
        this.queue.shift();
        await this.rotate(head);
        continue;
      }
      let n = 0;
      while (n < this.queue.length && this.queue[n].kind === "write") n++;
      const batch = this.queue.splice(0, n) as WriteEntry[];
      await this.commit(batch);
    }
    this.flushing = false;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const w of waiters) w();
  }

  private async commit(batch: WriteEntry[]): Promise<void> {
    if (this.failure) {
      for (const e of batch) e.reject(this.failedError());
      return;
    }
    const buf = batch.length === 1 ? batch[0].buf : Buffer.concat(batch.map((e) => e.buf));
    let tornTail = false;
    for (let delay = RETRY_FIRST_MS; buf.length > 0; delay = Math.min(delay * 2, RETRY_MAX_MS)) {
      try {
        // A failed attempt may have left part of the batch (or, after ENOSPC, nothing useful):
        // cut back to the last whole record so the retry writes the same bytes in the same place.
        if (tornTail) await this.fh.truncate(this.committedLength);
        tornTail = false;
        let off = 0;
        while (off < buf.length) {
          const { bytesWritten } = await this.fh.write(buf, off, buf.length - off);
          off += bytesWritten;
        }
        // fdatasync covers the data and the file size, which is all an append needs.
        if (this.doFsync) await this.fh.datasync();
        this.committedLength += buf.length;
        this.counters.commits++;
        this.counters.bytes += buf.length;
        totals.commits++;
        totals.bytes += buf.length;
        break;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (this.closing || !code || !RETRYABLE_WRITE_ERRORS.has(code)) {
          // Before giving up, leave no partial record behind for the next open to find.
          await this.fh.truncate(this.committedLength).catch(() => undefined);
          this.fail(err, batch);
          return;
        }
        tornTail = true;
        if (!this.stall) this.setStall(err as Error);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
    if (this.stall) this.setStall(undefined);
    this.wakeStallWaiters(undefined);
    for (const e of batch) {
      this.counters.appends += e.count;
      totals.appends += e.count;
      e.resolve();
    }
  }

  private async rotate(entry: RotateEntry): Promise<void> {
    if (this.failure) {
      entry.reject(this.failedError());
      return;
    }
    let next: FileHandle | undefined;
    try {
      next = await fsp.open(path.join(this.dir, segName(entry.seg)), "a");
      if (this.doFsync) await fsyncDir(this.dir);
    } catch (err) {
      // The old segment stays active: records keep landing before the boundary, and the
      // compaction that asked for this rotation does not write its snapshot, so nothing is lost.
      await next?.close().catch(() => undefined);
      entry.reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const old = this.fh;
    this.fh = next;
    this.committedLength = 0;
    await old.close().catch(() => undefined);
    entry.resolve();
  }

  private setStall(err: Error | undefined): void {
    this.stall = err;
    if (err) this.wakeStallWaiters(err);
    this.onStall?.(err);
  }

  private wakeStallWaiters(err: Error | undefined): void {
    const waiters = this.stallWaiters;
    this.stallWaiters = [];
    for (const w of waiters) w(err);
  }

  private fail(err: unknown, entries: Entry[]): void {
    const error = err instanceof Error ? err : new Error(String(err));
    this.failure ??= error;
    for (const e of entries) e.reject(error);
    // Everything queued behind a failed write would land after an unknown tail: reject it too.
    const rest = this.queue.splice(0);
    for (const e of rest) e.reject(this.failedError());
  }

  private drain(): Promise<void> {
    if (!this.flushing && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private async writeSnapshot(seg: number, frames: Buffer[]): Promise<void> {
    const final = path.join(this.dir, snapName(seg));
    const tmp = `${final}.tmp`;
    try {
      const fh = await fsp.open(tmp, "w");
      try {
        await writeAll(fh, frames);
        if (this.doFsync) await fh.sync();
      } finally {
        await fh.close();
      }
      await fsp.rename(tmp, final);
    } catch (err) {
      // A half-written snapshot on a full disk would keep the space the log needs to resume.
      await fsp.rm(tmp, { force: true }).catch(() => undefined);
      throw err;
    }
    this.lastSnapshotBytes = frames.reduce((sum, f) => sum + f.length, 0);
    if (this.doFsync) await fsyncDir(this.dir);
    this.snapshotSeg = seg;
    for (const k of [...this.bytesBySeg.keys()]) if (k < seg) this.bytesBySeg.delete(k);
    // The snapshot is durable; older files are now redundant (open() also deletes leftovers).
    for (const name of await fsp.readdir(this.dir)) {
      const m = SEG_RE.exec(name) ?? SNAP_RE.exec(name);
      if (m && Number(m[1]) < seg) await fsp.rm(path.join(this.dir, name), { force: true });
    }
  }
}
