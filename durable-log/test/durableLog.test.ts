import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { crc32, DurableLog, DurableLogCorruptError } from "../src/index";
import { fullDisk, type FullDisk } from "./enospc";

let root: string;
beforeAll(async () => {
  root = await fsp.mkdtemp(path.join(os.tmpdir(), "durable-log-"));
});
afterAll(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

let counter = 0;
const freshDir = (): string => path.join(root, `log-${++counter}`);

async function segFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((n) => n.endsWith(".log")).sort();
}

async function lastSeg(dir: string): Promise<string> {
  const segs = await segFiles(dir);
  return path.join(dir, segs[segs.length - 1]);
}

/** Byte offset where each frame of a segment starts (walks the length headers). */
async function frameOffsets(file: string): Promise<number[]> {
  const buf = await fsp.readFile(file);
  const offsets: number[] = [];
  for (let off = 0; off + 8 <= buf.length; off += 8 + buf.readUInt32LE(off)) offsets.push(off);
  return offsets;
}

describe("crc32", () => {
  it("matches the standard check value", () => {
    expect(crc32(Buffer.from("123456789"))).toBe(0xcbf43926);
    expect(crc32(Buffer.alloc(0))).toBe(0);
  });
});

describe("DurableLog", () => {
  it("round-trips records and groups across close/reopen", async () => {
    const dir = freshDir();
    const first = await DurableLog.open<never, unknown>({ dir });
    expect(first.snapshot).toBeUndefined();
    expect(first.records).toEqual([]);
    await first.log.append({ id: 1, text: "héllo" });
    await first.log.appendMany([2, "three", [4], null]);
    await first.log.append(true);
    await first.log.close();

    const second = await DurableLog.open<never, unknown>({ dir });
    expect(second.snapshot).toBeUndefined();
    expect(second.records).toEqual([{ id: 1, text: "héllo" }, 2, "three", [4], null, true]);
    await second.log.append(7);
    await second.log.close();
    const third = await DurableLog.open({ dir });
    expect(third.records).toHaveLength(7);
    await third.log.close();
  });

  it("keeps call order under many concurrent appends and groups", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, number>({ dir });
    const pending: Promise<void>[] = [];
    let seq = 0;
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < 100; i++) {
        if (i % 10 === 0) pending.push(log.appendMany([seq++, seq++, seq++]));
        else pending.push(log.append(seq++));
      }
      // Let some commits start between waves so batches interleave with new appends.
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(pending);
    await log.close();
    const { log: reopened, records } = await DurableLog.open<never, number>({ dir });
    expect(records).toEqual(Array.from({ length: seq }, (_, i) => i));
    await reopened.close();
  });

  it("group-commits: 1000 concurrent appends take far fewer write+fsync rounds", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, number>({ dir });
    await Promise.all(Array.from({ length: 1000 }, (_, i) => log.append(i)));
    expect(log.stats.appends).toBe(1000);
    expect(log.stats.commits).toBeLessThanOrEqual(2);

    // Appends arriving while a commit is in flight are batched into the next one.
    const before = log.stats.commits;
    const staggered: Promise<void>[] = [];
    for (let i = 0; i < 1000; i++) {
      staggered.push(log.append(1000 + i));
      if (i % 50 === 49) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(staggered);
    expect(log.stats.appends).toBe(2000);
    expect(log.stats.commits - before).toBeLessThan(100);
    expect(log.stats.bytes).toBe(log.sizeSinceSnapshot);
    await log.close();
  });

  it("drops a torn appendMany group entirely and stays writable", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, string>({ dir });
    await log.append("a");
    await log.append("b");
    await log.appendMany(["c", "d", "e"]);
    await log.close();
    const file = await lastSeg(dir);
    const { size } = await fsp.stat(file);
    await fsp.truncate(file, size - 3); // torn inside the group's payload

    const reopened = await DurableLog.open<never, string>({ dir });
    expect(reopened.records).toEqual(["a", "b"]);
    await reopened.log.append("f");
    await reopened.log.close();
    const again = await DurableLog.open<never, string>({ dir });
    expect(again.records).toEqual(["a", "b", "f"]);
    await again.log.close();
  });

  it.each([
    [
      "the last frame cut short",
      async (file: string, size: number) => fsp.truncate(file, size - 5),
    ],
    [
      "garbage after the last frame",
      // A whole-looking frame (length 4) whose CRC does not match, then trailing junk.
      async (file: string) =>
        fsp.appendFile(file, Buffer.from([4, 0, 0, 0, 1, 2, 3, 4, 0x5b, 0x39, 0x5d, 0x20, 0xff])),
    ],
    [
      "a frame claiming more bytes than exist",
      async (file: string) => {
        const h = Buffer.alloc(12);
        h.writeUInt32LE(1_000_000, 0);
        await fsp.appendFile(file, h);
      },
    ],
  ])("recovers from a torn tail: %s", async (_label, damage) => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, number>({ dir });
    for (let i = 0; i < 5; i++) await log.append(i);
    await log.append(5);
    await log.close();
    const file = await lastSeg(dir);
    const { size } = await fsp.stat(file);
    await damage(file, size);

    const reopened = await DurableLog.open<never, number>({ dir });
    // Cutting the last 5 bytes tears the frame holding 5; garbage after it leaves all six intact.
    const expected = _label === "the last frame cut short" ? [0, 1, 2, 3, 4] : [0, 1, 2, 3, 4, 5];
    expect(reopened.records).toEqual(expected);
    await reopened.log.append(99);
    await reopened.log.close();
    const again = await DurableLog.open<never, number>({ dir });
    expect(again.records).toEqual([...expected, 99]);
    await again.log.close();
  });

  it("drops the last group when a byte in its middle is corrupted (CRC mismatch)", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, string>({ dir });
    await log.append("keep-1");
    await log.appendMany(["keep-2", "keep-3"]);
    await log.appendMany(["lost-1", "lost-2", "lost-3"]);
    await log.close();
    const file = await lastSeg(dir);
    const offsets = await frameOffsets(file);
    const buf = await fsp.readFile(file);
    const lastStart = offsets[offsets.length - 1];
    const mid = lastStart + 8 + Math.floor((buf.length - lastStart - 8) / 2);
    buf[mid] ^= 0x01; // still valid JSON length-wise; only the CRC can tell
    await fsp.writeFile(file, buf);

    const reopened = await DurableLog.open<never, string>({ dir });
    expect(reopened.records).toEqual(["keep-1", "keep-2", "keep-3"]);
    expect((await fsp.stat(file)).size).toBe(lastStart); // the bad tail was truncated
    await reopened.log.close();
  });

  it("compacts: snapshot replaces older records, later appends replay on top", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<{ sum: number }, number>({ dir });
    let sum = 0;
    for (let i = 1; i <= 10; i++) {
      await log.append(i);
      sum += i;
    }
    const beforeCompact = log.sizeSinceSnapshot;
    expect(beforeCompact).toBeGreaterThan(0);
    await log.compact({ sum });
    expect(log.sizeSinceSnapshot).toBe(0);
    await log.append(11);
    await log.append(12);
    expect(log.sizeSinceSnapshot).toBeGreaterThan(0);
    expect(log.sizeSinceSnapshot).toBeLessThan(beforeCompact);
    await log.close();

    const names = (await fsp.readdir(dir)).sort();
    expect(names.filter((n) => n.endsWith(".log"))).toHaveLength(1);
    expect(names.filter((n) => n.endsWith(".snap"))).toHaveLength(1);
    expect(names.filter((n) => n.endsWith(".tmp"))).toHaveLength(0);

    const reopened = await DurableLog.open<{ sum: number }, number>({ dir });
    expect(reopened.snapshot).toEqual({ sum: 55 });
    expect(reopened.records).toEqual([11, 12]);
    expect(reopened.log.sizeSinceSnapshot).toBeGreaterThan(0);
    await reopened.log.compact({ sum: 55 + 11 + 12 });
    await reopened.log.close();
    const third = await DurableLog.open<{ sum: number }, number>({ dir });
    expect(third.snapshot).toEqual({ sum: 78 });
    expect(third.records).toEqual([]);
    await third.log.close();
  });

  it("compacts into parts: one frame each, read back as an array; prepare runs first", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<unknown, number>({ dir });
    await log.append(1);
    await log.compact({ legacy: true }); // a one-value snapshot, as older callers write
    const events: string[] = [];
    const parts = [{ header: 1 }, { i: "a" }, { i: "b" }, [1, 2]];
    const done = log.compactParts(parts, async () => {
      events.push("prepare");
      // The rotation happened: the new segment exists, the new snapshot does not yet.
      expect((await fsp.readdir(dir)).filter((n) => n.endsWith(".snap"))).toHaveLength(1);
    });
    await log.append(2); // after the boundary: replayed on top
    await done;
    events.push("done");
    expect(events).toEqual(["prepare", "done"]);
    const snap = (await fsp.readdir(dir)).find((n) => n.endsWith(".snap"))!;
    expect(await frameOffsets(path.join(dir, snap))).toHaveLength(1 + parts.length);
    expect(log.snapshotBytes).toBe((await fsp.stat(path.join(dir, snap))).size);
    await log.close();
    const reopened = await DurableLog.open<unknown, number>({ dir });
    expect(reopened.snapshot).toEqual(parts);
    expect(reopened.records).toEqual([2]);
    expect(reopened.log.snapshotBytes).toBe(log.snapshotBytes);
    await reopened.log.close();
  });

  it("writes no snapshot when prepare fails, and refuses a parts snapshot missing a part", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<unknown, number>({ dir });
    await log.append(1);
    await expect(
      log.compactParts([{ a: 1 }], () => Promise.reject(new Error("archive failed"))),
    ).rejects.toThrow("archive failed");
    await log.append(2);
    await log.close();
    const kept = await DurableLog.open<unknown, number>({ dir });
    expect(kept.snapshot).toBeUndefined();
    expect(kept.records).toEqual([1, 2]);
    await kept.log.compactParts([{ a: 1 }, { b: 2 }]);
    await kept.log.close();
    const snap = path.join(
      dir,
      (await fsp.readdir(dir)).find((n) => n.endsWith(".snap"))!,
    );
    const offsets = await frameOffsets(snap);
    await fsp.truncate(snap, offsets[2]); // whole frames, one part short
    await expect(DurableLog.open({ dir })).rejects.toThrow(DurableLogCorruptError);
  });

  it("keeps appends made during compaction after the snapshot", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<{ upTo: number }, number>({ dir });
    const pending: Promise<void>[] = [];
    const compactions: Promise<void>[] = [];
    for (let i = 0; i < 900; i++) {
      pending.push(log.append(i));
      // Snapshots taken synchronously at a boundary reflect exactly the appends called so far.
      if (i === 299 || i === 599) compactions.push(log.compact({ upTo: i }));
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all([...pending, ...compactions]);
    await log.close();
    const reopened = await DurableLog.open<{ upTo: number }, number>({ dir });
    expect(reopened.snapshot).toEqual({ upTo: 599 });
    expect(reopened.records).toEqual(Array.from({ length: 300 }, (_, i) => 600 + i));
    await reopened.log.close();
  });

  it("replays old and new segments when a crash hit compaction before the snapshot rename", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<string, number>({ dir });
    await log.append(1);
    await log.compact("s1");
    await log.append(2);
    await log.close();
    // Recreate the state between "new segment started" and "snapshot renamed": the newest
    // snapshot is missing, so the previous snapshot and both segments are live.
    const names = await fsp.readdir(dir);
    const seg = names.find((n) => n.endsWith(".log"))!;
    const snap = names.find((n) => n.endsWith(".snap"))!;
    await fsp.writeFile(path.join(dir, "seg-0000000003.log"), Buffer.alloc(0));
    const { log: log2 } = await DurableLog.open<string, number>({ dir });
    await log2.append(3);
    await log2.close();
    await fsp.writeFile(path.join(dir, "snap-0000000003.snap.tmp"), "half-written");

    const reopened = await DurableLog.open<string, number>({ dir });
    expect(reopened.snapshot).toBe("s1");
    expect(reopened.records).toEqual([2, 3]);
    await reopened.log.close();
    const after = await fsp.readdir(dir);
    expect(after).toEqual(expect.arrayContaining([seg, snap, "seg-0000000003.log"]));
    expect(after.some((n) => n.endsWith(".tmp"))).toBe(false);
  });

  it("refuses damage that is not a torn tail", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<string, number>({ dir });
    await log.append(1);
    await log.compact("snap");
    await log.close();
    const snap = (await fsp.readdir(dir)).find((n) => n.endsWith(".snap"))!;
    await fsp.truncate(path.join(dir, snap), 5);
    await expect(DurableLog.open({ dir })).rejects.toBeInstanceOf(DurableLogCorruptError);

    const dir2 = freshDir();
    const { log: log2 } = await DurableLog.open<string, number>({ dir: dir2 });
    await log2.append(1);
    await log2.append(2);
    await log2.close();
    const file = await lastSeg(dir2);
    const buf = await fsp.readFile(file);
    buf[9] ^= 0xff; // damage the first frame...
    await fsp.writeFile(file, buf);
    // ...while a later segment holds data: dropping the tail would leave a gap.
    const later = Buffer.from("[3]");
    const hdr = Buffer.alloc(8);
    hdr.writeUInt32LE(later.length, 0);
    hdr.writeUInt32LE(crc32(later), 4);
    await fsp.writeFile(path.join(dir2, "seg-0000000002.log"), Buffer.concat([hdr, later]));
    await expect(DurableLog.open({ dir: dir2 })).rejects.toThrow(/later segments hold data/);
  });

  it("close() flushes pending appends; appends and compactions after close reject", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<string, number>({ dir });
    const pending = [log.append(1), log.append(2), log.appendMany([3, 4])];
    await log.close();
    await Promise.all(pending);
    await expect(log.append(5)).rejects.toThrow(/closed/);
    await expect(log.appendMany([6])).rejects.toThrow(/closed/);
    await expect(log.compact("x")).rejects.toThrow(/closed/);
    await log.close(); // idempotent
    const reopened = await DurableLog.open<string, number>({ dir });
    expect(reopened.records).toEqual([1, 2, 3, 4]);
    await reopened.log.close();
  });

  it("rejects values JSON cannot represent without writing anything", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<unknown, unknown>({ dir });
    await expect(log.append(undefined)).rejects.toThrow(/not JSON-serialisable/);
    await expect(log.appendMany([1, () => 0])).rejects.toThrow(/not JSON-serialisable/);
    await expect(log.append(BigInt(1))).rejects.toThrow(TypeError);
    await expect(log.compact(undefined)).rejects.toThrow(/not JSON-serialisable/);
    await log.append("ok");
    await log.close();
    const reopened = await DurableLog.open({ dir });
    expect(reopened.records).toEqual(["ok"]);
    await reopened.log.close();
    await expect(DurableLog.open({ dir: "" })).rejects.toThrow(/options.dir/);
  });

  it("rejects pending and later appends when the file system fails", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, number>({ dir });
    await log.append(1);
    // Pull the file out from under the log: the next write fails with EBADF.
    await (log as unknown as { fh: FileHandle }).fh.close();
    const results = await Promise.allSettled([log.append(2), log.append(3)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    await expect(log.append(4)).rejects.toThrow(/earlier write failed/);
    await expect(log.compact(undefined as never)).rejects.toThrow();
    expect(log.stats.appends).toBe(1);
    const reopened = await DurableLog.open<never, number>({ dir });
    expect(reopened.records).toEqual([1]);
    await reopened.log.close();
  });

  it("works with fsync off and reports stats", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, number>({ dir, fsync: false });
    await Promise.all([log.append(1), log.appendMany([2, 3]), log.appendMany([])]);
    expect(log.stats).toEqual({ appends: 3, commits: 1, bytes: log.sizeSinceSnapshot });
    await log.close();
    const reopened = await DurableLog.open<never, number>({ dir, fsync: false });
    expect(reopened.records).toEqual([1, 2, 3]);
    await reopened.log.close();
  });
});

describe("DurableLog on a full disk (ENOSPC)", () => {
  let disk: FullDisk;
  beforeEach(async () => {
    disk = await fullDisk();
  });
  afterEach(() => disk.restore());

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it("holds appends while the disk is full and writes the same records once space returns", async () => {
    const dir = freshDir();
    const stalls: (string | undefined)[] = [];
    const { log } = await DurableLog.open<never, number>({
      dir,
      onStall: (err) => stalls.push(err && (err as NodeJS.ErrnoException).code),
    });
    await log.append(1);
    const signal = log.stallSignal();
    disk.full = true;
    const settled: number[] = [];
    const pending = [log.append(2), log.appendMany([3, 4]), log.append(5)].map((p, i) =>
      p.then(() => settled.push(i)),
    );
    await expect(signal).resolves.toMatchObject({ code: "ENOSPC" });
    await expect(log.untilStalled(pending[0])).rejects.toThrow(/held back.*ENOSPC/);
    expect((log.stalled as NodeJS.ErrnoException).code).toBe("ENOSPC");
    await sleep(300); // several retries, each failing (some after a partial write)
    expect(disk.failures).toBeGreaterThan(2);
    expect(settled).toEqual([]);
    disk.full = false;
    await Promise.all(pending);
    expect(settled).toEqual([0, 1, 2]);
    expect(log.stalled).toBeUndefined();
    expect(stalls).toEqual(["ENOSPC", undefined]);
    // No partial record was left between the whole ones: every byte is a complete frame.
    const file = await lastSeg(dir);
    const size = (await fsp.stat(file)).size;
    const buf = await fsp.readFile(file);
    let end = 0;
    for (const off of await frameOffsets(file)) end = off + 8 + buf.readUInt32LE(off);
    expect(end).toBe(size);
    await log.append(6);
    await log.close();
    expect((await fsp.stat(file)).size).toBeGreaterThan(size);
    const reopened = await DurableLog.open<never, number>({ dir });
    expect(reopened.records).toEqual([1, 2, 3, 4, 5, 6]);
    await reopened.log.close();
  });

  it("a compaction on a full disk fails without leaving a partial snapshot; the log goes on", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<string, number>({ dir });
    await log.append(1);
    await expect(log.untilStalled(Promise.resolve(7))).resolves.toBe(7);
    disk.full = true;
    const held = log.append(2);
    const compaction = log.compact("snapshot-with-1-2");
    await log.stallSignal();
    disk.full = false;
    await held;
    // The rotation went through once space returned; the snapshot then wrote normally.
    await compaction;
    disk.full = true;
    await expect(log.compact("never-written")).rejects.toMatchObject({ code: "ENOSPC" });
    expect((await fsp.readdir(dir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    disk.full = false;
    await log.append(3);
    await log.close();
    const reopened = await DurableLog.open<string, number>({ dir });
    expect(reopened.snapshot).toBe("snapshot-with-1-2");
    expect(reopened.records).toEqual([3]);
    await reopened.log.close();
  });

  it("close() on a full disk gives up on the held appends instead of waiting for space", async () => {
    const dir = freshDir();
    const { log } = await DurableLog.open<never, number>({ dir });
    await log.append(1);
    disk.full = true;
    const held = log.append(2).catch((err: unknown) => err);
    await log.stallSignal();
    await log.close();
    await expect(held).resolves.toMatchObject({ code: "ENOSPC" });
    disk.full = false;
    const reopened = await DurableLog.open<never, number>({ dir });
    expect(reopened.records).toEqual([1]);
    await reopened.log.close();
  });
});
