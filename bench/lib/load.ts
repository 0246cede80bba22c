/**
 * The load generator: undici connection pools driven in a closed loop (N lanes, each sending its
 * next request when the last one answered) or an open loop at a fixed offered rate. Latency in the
 * open loop runs from each request's scheduled time, so a stall does not hide the requests it
 * delayed (no coordinated omission).
 */
import { performance } from "node:perf_hooks";
import { Pool } from "undici";
import { summarise, type Percentiles } from "./stats";

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface Http {
  request(
    method: string,
    path: string,
    opts?: { headers?: Record<string, string>; body?: string },
  ): Promise<Reply>;
  close(): Promise<void>;
}

/** A keep-alive pool of `connections` to `origin` (no pipelining, as a browser or SDK would). */
export function httpPool(origin: string, connections: number): Http {
  const pool = new Pool(origin, { connections, pipelining: 1, headersTimeout: 120_000 });
  return {
    async request(method, path, opts = {}) {
      const res = await pool.request({
        method: method as "GET",
        path,
        headers: opts.headers,
        body: opts.body,
      });
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    },
    // destroy, not close: an open loop that gave up leaves stragglers it no longer waits for.
    close: () => pool.destroy(),
  };
}

export interface RunResult {
  /** Operations finished (each `one()` that resolved). */
  done: number;
  /** Still running when the open loop gave up waiting (their latency is above `giveUpMs`). */
  unfinished: number;
  errors: number;
  /** First error message, to show why a run failed. */
  firstError?: string;
  elapsedMs: number;
  perSecond: number;
  latency: Percentiles;
  /** performance.now() of each completion, for a steady-state rate. */
  completedAt: number[];
}

function result(
  latencies: number[],
  completedAt: number[],
  errors: number,
  firstError: string | undefined,
  elapsedMs: number,
): RunResult {
  return {
    done: latencies.length,
    unfinished: 0,
    errors,
    firstError,
    elapsedMs,
    perSecond: (latencies.length * 1000) / elapsedMs,
    latency: summarise(latencies),
    completedAt,
  };
}

/** More than any real run finishes (10 s at 100k requests/s). */
const MAX_OPERATIONS = 1_000_000;

/** `lanes` concurrent callers repeat `one(i)` until `durationMs` has passed. */
export async function closedLoop(
  lanes: number,
  durationMs: number,
  one: (i: number) => Promise<void>,
): Promise<RunResult> {
  const latencies: number[] = [];
  const completedAt: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  let next = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (performance.now() < end) {
        const s = performance.now();
        try {
          await one(next++);
          const now = performance.now();
          latencies.push(now - s);
          completedAt.push(now);
          // No real request finishes this fast, this often: stop rather than run out of memory.
          if (latencies.length > MAX_OPERATIONS) break;
        } catch (err) {
          errors++;
          firstError ??= (err as Error).message;
        }
      }
    }),
  );
  if (latencies.length > MAX_OPERATIONS) {
    throw new Error(`closed loop: over ${MAX_OPERATIONS} operations finished; is one() doing I/O?`);
  }
  return result(latencies, completedAt, errors, firstError, performance.now() - t0);
}

/**
 * Starts `one(i)` at `perSecond` for `durationMs`, whatever the previous ones are doing; then
 * waits at most `giveUpMs` for the stragglers. Past saturation the backlog never drains in time:
 * the unfinished ones count apart, and the percentiles they would raise become Infinity.
 */
export async function openLoop(
  perSecond: number,
  durationMs: number,
  one: (i: number) => Promise<void>,
  giveUpMs = Infinity,
): Promise<RunResult> {
  const latencies: number[] = [];
  const completedAt: number[] = [];
  let errors = 0;
  let firstError: string | undefined;
  const total = Math.max(1, Math.round((perSecond * durationMs) / 1000));
  const inFlight: Promise<void>[] = [];
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      one(i).then(
        () => {
          const now = performance.now();
          latencies.push(now - due);
          completedAt.push(now);
        },
        (err: unknown) => {
          errors++;
          firstError ??= (err as Error).message;
        },
      ),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = await Promise.race([
    Promise.all(inFlight).then(() => false),
    ...(Number.isFinite(giveUpMs)
      ? [new Promise<boolean>((r) => (timer = setTimeout(() => r(true), giveUpMs)))]
      : []),
  ]);
  clearTimeout(timer);
  const out = result(latencies, completedAt, errors, firstError, performance.now() - t0);
  if (gaveUp) {
    out.unfinished = total - latencies.length - errors;
    const share = out.unfinished / total;
    if (share > 0.01) out.latency.p99 = Infinity;
    if (share > 0.05) out.latency.p95 = Infinity;
    if (share > 0.5) out.latency.p50 = Infinity;
    out.latency.max = Infinity;
  }
  return out;
}
