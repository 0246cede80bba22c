// Order statistics from the order store (so they work in Azure as locally): counts per status,
// outcomes per minute, and accept→finish latency per minute (p50/p95 of updatedAt - createdAt of
// orders that reached a terminal status, by the minute they were created).
import type { OrderStatsRow } from "../adapters/ports";
import { isTerminal } from "../domain/status";

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

export function orderStats(rows: OrderStatsRow[]) {
  const countsByStatus: Record<string, number> = {};
  const perMinute = new Map<string, Record<string, number>>();
  const latencies = new Map<string, number[]>();
  for (const row of rows) {
    countsByStatus[row.status] = (countsByStatus[row.status] ?? 0) + 1;
    const minute = `${row.createdAt.slice(0, 16)}:00.000Z`;
    const outcomes = perMinute.get(minute) ?? {};
    outcomes[row.status] = (outcomes[row.status] ?? 0) + 1;
    perMinute.set(minute, outcomes);
    if (isTerminal(row.status)) {
      const ms = Date.parse(row.updatedAt) - Date.parse(row.createdAt);
      if (Number.isFinite(ms) && ms >= 0)
        latencies.set(minute, [...(latencies.get(minute) ?? []), ms]);
    }
  }
  const minutes = [...perMinute.keys()].sort();
  return {
    countsByStatus,
    perMinute: minutes.map((minute) => ({ minute, outcomes: perMinute.get(minute)! })),
    latency: minutes
      .filter((m) => latencies.has(m))
      .map((minute) => {
        const sorted = latencies.get(minute)!.sort((a, b) => a - b);
        return { minute, p50Ms: percentile(sorted, 50), p95Ms: percentile(sorted, 95) };
      }),
  };
}
