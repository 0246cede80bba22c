/** CPU time and peak RSS of the processes under test, from /proc (Linux; empty elsewhere). */
import fs from "node:fs";

/** USER_HZ is 100 on Linux: one clock tick is 10 ms. */
const TICK_MS = 10;

/** CPU ms (user + system) of one process, or undefined when it cannot be read. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/** Peak resident set (VmHWM) of one process in MiB. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+) kB/m.exec(status);
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** This process's own CPU ms (the load generator's share). */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export type CpuSample = Record<string, number>;

/** Processes by role; a role may be several processes (the worker processes), summed. */
export type RolePids = Record<string, number | undefined | readonly (number | undefined)[]>;

/** The sum of `read` over a role's processes, or undefined when none could be read. */
export function sumOver(
  pid: RolePids[string],
  read: (pid: number) => number | undefined,
): number | undefined {
  let sum: number | undefined;
  for (const p of Array.isArray(pid) ? pid : [pid]) {
    const v = p === undefined ? undefined : read(p as number);
    if (v !== undefined) sum = (sum ?? 0) + v;
  }
  return sum;
}

/** CPU ms of each role's processes, with the load generator under `loadgen`. */
export function sampleCpu(pids: RolePids): CpuSample {
  const out: CpuSample = {};
  for (const [role, pid] of Object.entries(pids)) {
    const ms = sumOver(pid, cpuMs);
    if (ms !== undefined) out[role] = ms;
  }
  out.loadgen = selfCpuMs();
  return out;
}

/** CPU ms per unit of work between two samples, by process. */
export function cpuPer(before: CpuSample, after: CpuSample, units: number): CpuSample {
  const out: CpuSample = {};
  for (const k of Object.keys(after)) {
    if (k in before && units > 0) out[k] = (after[k] - before[k]) / units;
  }
  return out;
}

/** The sum over the processes under test (the load generator apart). */
export function totalUnderTest(per: CpuSample): number {
  return Object.entries(per)
    .filter(([k]) => k !== "loadgen")
    .reduce((a, [, v]) => a + v, 0);
}
