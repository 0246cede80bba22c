// A disk that fills on demand, for unit tests of the writers on DurableLog: while `full`, every
// FileHandle write (and writeFile, writev) fails with ENOSPC after writing part of what it was given,
// as a real file system does when the last free blocks run out in the middle of a write.
import { promises as fsp } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";

export interface FullDisk {
  /** Whether writes now fail with ENOSPC. */
  full: boolean;
  /** ENOSPC failures handed out so far. */
  failures: number;
  restore(): void;
}

function enospc(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error("ENOSPC: no space left on device, write");
  err.code = "ENOSPC";
  err.errno = -28;
  err.syscall = "write";
  return err;
}

/** Installs the hook on FileHandle's prototype (shared by every handle in the process). */
export async function fullDisk(): Promise<FullDisk> {
  const probe = await fsp.open(path.join(os.tmpdir(), `enospc-probe-${process.pid}`), "w");
  const proto = Object.getPrototypeOf(probe) as FileHandle;
  await probe.close();
  await fsp.rm(path.join(os.tmpdir(), `enospc-probe-${process.pid}`), { force: true });
  const write = proto.write;
  const writeFile = proto.writeFile;
  const writev = proto.writev;
  const state: FullDisk = {
    full: false,
    failures: 0,
    restore() {
      proto.write = write;
      proto.writeFile = writeFile;
      proto.writev = writev;
    },
  };
  let partial = true;
  proto.write = async function (this: FileHandle, ...args: unknown[]) {
    if (!state.full) return (write as (...a: unknown[]) => unknown).apply(this, args);
    const [buf, offset = 0, length] = args as [Buffer, number?, number?];
    const len = length ?? buf.length - offset;
    // Alternate: some calls get a few bytes onto the disk before failing, some none.
    partial = !partial;
    if (partial && Buffer.isBuffer(buf) && len > 1) {
      return (write as (...a: unknown[]) => unknown).apply(this, [buf, offset, Math.ceil(len / 2)]);
    }
    state.failures++;
    throw enospc();
  } as typeof proto.write;
  proto.writeFile = async function (this: FileHandle, ...args: unknown[]) {
    if (!state.full) return (writeFile as (...a: unknown[]) => unknown).apply(this, args);
    state.failures++;
    throw enospc();
  } as typeof proto.writeFile;
  // Vectored writes (snapshots are written as a list of frames) fail the same way.
  proto.writev = async function (this: FileHandle, ...args: unknown[]) {
    if (!state.full) return (writev as (...a: unknown[]) => unknown).apply(this, args);
    state.failures++;
    throw enospc();
  } as typeof proto.writev;
  return state;
}
