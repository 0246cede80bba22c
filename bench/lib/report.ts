/**
 * Markdown tables from a results JSON, for the terminal and for docs/performance.md
 * (`npm run bench -- report [file]` reprints the newest run's).
 */
import type { Overhead } from "./overhead";
import type { BenchResults } from "./results";

/** Numbers as the tables show them: thousands separated, up to `digits` decimals. */
export function fmt(n: unknown, digits = 1): string {
  if (n === Infinity) return "∞";
  if (typeof n !== "number" || !Number.isFinite(n)) return "–";
  const abs = Math.abs(n);
  const d = abs >= 100 ? 0 : abs >= 10 ? Math.min(digits, 1) : digits;
  return n.toLocaleString("en-US", { minimumFractionDigits: 0, maximumFractionDigits: d });
}

export function table(header: string[], rows: unknown[][]): string {
  const line = (cells: unknown[]) => `| ${cells.map((c) => String(c)).join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

interface Dist {
  p50?: number;
  p95?: number;
  p99?: number;
  achieved?: number;
  errors?: number;
  unfinished?: number;
}

interface EngineLike {
  engine: string;
  throughput: Record<string, number>;
  latency: Record<string, Dist>;
  cpuMsPerWorkflow: Record<string, number>;
  perWorkflow?: Record<string, number>;
  peakRssMiB: Record<string, number>;
}

interface PeerLike {
  statusRead?: {
    instance: string;
    readsPerSec: number;
    latency: Dist;
    hostCpuMsPerRead: number;
  }[];
  connections: number[];
  rates: number[];
  seconds: number;
  engines: EngineLike[];
  ratios: Record<string, Record<string, number>>;
}

const byProcess = (o: Record<string, number>, skip: string[] = []) =>
  Object.entries(o)
    .filter(([k]) => !skip.includes(k))
    .map(([k, v]) => `${k} ${fmt(v, 2)}`)
    .join(", ");

export function peerTables(p: PeerLike): string {
  const main = table(
    [
      "engine",
      ...p.connections.map((c) => `wf/s @${c}`),
      "p50 / p99 ms at 50/s",
      "CPU ms/wf (loadgen apart)",
      "status reads/wf",
    ],
    p.engines.map((e) => [
      e.engine,
      ...p.connections.map((c) => fmt(e.throughput[String(c)], 0)),
      e.latency["50"] ? `${fmt(e.latency["50"].p50)} / ${fmt(e.latency["50"].p99)}` : "–",
      `${fmt(e.cpuMsPerWorkflow.total, 2)} (${byProcess(e.cpuMsPerWorkflow, ["total", "loadgen"])}; loadgen ${fmt(e.cpuMsPerWorkflow.loadgen, 2)})`,
      fmt(e.perWorkflow?.["host.durable.statusReads"], 1),
    ]),
  );
  const curve = table(
    ["offered /s", ...p.engines.map((e) => `${e.engine} p50 / p99 ms`)],
    p.rates.map((r) => [
      r,
      ...p.engines.map((e) => {
        const d = e.latency[String(r)];
        if (!d) return "–";
        const notes = [
          d.errors ? `${d.errors} errors` : "",
          d.unfinished ? `${d.unfinished} unfinished 10 s after the last start` : "",
        ].filter(Boolean);
        return `${fmt(d.p50)} / ${fmt(d.p99)}${notes.length ? ` (${notes.join(", ")})` : ""}`;
      }),
    ]),
  );
  const ratios = table(
    ["local host ÷ Restate", ...Object.keys(Object.values(p.ratios)[0] ?? {})],
    Object.entries(p.ratios).map(([k, r]) => [k, ...Object.values(r).map((v) => `${fmt(v, 2)}×`)]),
  );
  const rss = p.engines.map((e) => `${e.engine}: ${byProcess(e.peakRssMiB)}`).join("; ");
  const reads = (p.statusRead ?? [])
    .map(
      (s) =>
        `Status read alone (the SDK's poll, ${s.instance} instance, 16 connections): ` +
        `${fmt(s.readsPerSec, 0)} reads/s, p50 ${fmt(s.latency.p50, 2)} ms, host CPU ${fmt(s.hostCpuMsPerRead, 3)} ms per read`,
    )
    .join("\n");
  return `${main}\n\n${curve}\n\n${ratios}\n\nPeak RSS MiB: ${rss}\n${reads ? `\n${reads}\n` : ""}`;
}

export function conditions(r: BenchResults): string {
  const m = r.machine;
  return (
    `Conditions: ${r.startedAt.slice(0, 16)}Z, commit ${r.git.commit.slice(0, 10)}${r.git.dirty ? " (dirty)" : ""}, ` +
    `Node ${r.node}, ${m.cpus} × ${m.cpuModel}, ${m.memoryGiB} GiB, ${m.platform} ${m.release}, ` +
    `load average ${m.loadAverageAtStart} at start; fsync ${r.settings.fsync ? "on" : "off"}, ` +
    `token checks ${r.settings.tokenChecks ? "on" : "off"}, trace sampler ${r.settings.traceSampler}` +
    `${r.settings.quick ? ", --quick" : ""}.`
  );
}

/** The whole report: one section per benchmark that has a formatter. */
export function report(
  r: BenchResults,
  formatters: Record<string, (figures: never) => string>,
): string {
  const parts = [conditions(r)];
  if (r.completedOrdersPerSec !== null) {
    parts.push(`completedOrdersPerSec: ${fmt(r.completedOrdersPerSec, 1)}`);
  }
  for (const [name, figures] of Object.entries(r.benchmarks)) {
    const f = formatters[name];
    if (f && figures) parts.push(`### ${name}\n\n${f(figures as never)}`);
  }
  return `${parts.join("\n\n")}\n`;
}

interface OrdersLike {
  completedOrdersPerSec: number;
  saturation: {
    clients: number;
    orders: number;
    loadAverage?: number;
    acceptedPerSec: number;
    post: Dist;
    cpuMsPerOrder: Record<string, number>;
    hopsPerOrder: Record<string, number>;
  };
  paced: {
    offeredPerSec: number;
    acceptedPerSec: number;
    post: Dist;
    acceptToTerminal: Dist;
    clientSeen?: Dist & { retryAfterSeconds: number[]; pollsPerOrder: number };
    statusQuery?: Dist & { perSec: number };
    errors: number;
    loadAverage?: number;
  }[];
  startup: { readyMs: number; firstAcceptedMs: number };
  peakRssMiB: Record<string, number>;
  durabilityOverhead?: Overhead;
}

const trio = (d: Dist | undefined) => (d ? `${fmt(d.p50)} / ${fmt(d.p95)} / ${fmt(d.p99)}` : "–");

/** The hop counters that matter per order, by name in the table. */
const HOPS: [string, string][] = [
  ["activity executions", "host.invocations.activityTrigger"],
  ["orchestrator episodes", "host.invocations.orchestrationTrigger"],
  ["HTTP invocations", "host.invocations.httpTrigger"],
  ["Service Bus trigger invocations", "host.invocations.serviceBusTrigger"],
  ["durable fsyncs (host)", "host.fsyncs"],
  ["emulator fsyncs", "emulators.fsyncs"],
  ["Cosmos requests", "emulators.cosmos.requests"],
  ["Service Bus messages in (sends, management)", "emulators.serviceBus.received"],
  ["Service Bus deliveries", "emulators.serviceBus.delivered"],
  ["Service Bus settlements", "emulators.serviceBus.settled"],
  ["status reads (engine)", "host.durable.statusReads"],
];

export function ordersTables(o: OrdersLike): string {
  const s = o.saturation;
  const rows: unknown[][] = [
    [
      `saturation (${s.clients} clients, ${s.orders} orders; load ${fmt(s.loadAverage)})`,
      fmt(s.acceptedPerSec),
      trio(s.post),
      `**${fmt(o.completedOrdersPerSec)}** completed/s`,
      "",
      "",
      "",
    ],
    ...o.paced.map((p) => [
      `paced ${p.offeredPerSec}/s (load ${fmt(p.loadAverage)})`,
      fmt(p.acceptedPerSec),
      trio(p.post),
      trio(p.acceptToTerminal),
      p.clientSeen
        ? `${fmt(p.clientSeen.p50, 0)} / ${fmt(p.clientSeen.p99, 0)} (Retry-After ${p.clientSeen.retryAfterSeconds.join(",")} s, ${fmt(p.clientSeen.pollsPerOrder, 2)} polls)`
        : "–",
      p.statusQuery ? `${fmt(p.statusQuery.p50, 2)} / ${fmt(p.statusQuery.p99, 2)}` : "–",
      p.errors,
    ]),
  ];
  const main = table(
    [
      "load",
      "accepted/s",
      "POST p50 / p95 / p99 ms",
      "accept→terminal p50 / p95 / p99 ms (orders' timestamps)",
      "client polling Retry-After: p50 / p99 ms",
      "status query p50 / p99 ms (50/s of finished orders)",
      "errors",
    ],
    rows,
  );
  const cpu = Object.entries(s.cpuMsPerOrder)
    .filter(([k]) => k !== "total" && k !== "loadgen")
    .map(([k, v]) => `${k} ${fmt(v, 2)}`)
    .join(", ");
  const hops = table(
    ["hops per order (saturation run)", "count"],
    HOPS.map(([label, key]) => [label, fmt(s.hopsPerOrder[key], 2)]),
  );
  const d = o.durabilityOverhead;
  const direct = d
    ? `\n${table(
        ["durability overhead", "through the host", "handlers called directly", "host ÷ direct"],
        [
          [
            "time per order (from orders/s)",
            `${fmt(d.throughHost.ordersPerSec)} orders/s`,
            `${fmt(d.direct.ordersPerSec)} orders/s`,
            `**${fmt(d.throughputRatio, 2)}×**`,
          ],
          [
            "CPU ms per order",
            fmt(d.throughHost.cpuMsPerOrder, 2),
            fmt(d.direct.cpuMsPerOrder, 2),
            `**${fmt(d.cpuRatio, 2)}×**`,
          ],
        ],
      )}\n`
    : "";
  return (
    `${main}\n\n` +
    `CPU ms per order at saturation: ${fmt(s.cpuMsPerOrder.total, 2)} (${cpu}); load generator apart: ${fmt(s.cpuMsPerOrder.loadgen, 2)}\n\n` +
    `${hops}\n${direct}\n` +
    `Start-up: host ready ${fmt(o.startup.readyMs, 0)} ms, first order accepted ${fmt(o.startup.firstAcceptedMs, 0)} ms after spawn (build excluded)\n\n` +
    `Peak RSS MiB: ${byProcess(o.peakRssMiB)}\n`
  );
}

interface DirectLike {
  clients: number;
  seconds: number;
  orders: number;
  ordersPerSec: number;
  cpuMsPerOrder: Record<string, number>;
  loadAverage?: number;
  errors: number;
}

/** The direct leg alone (the ratio against the host is in the orders section when both ran). */
export function directTable(d: DirectLike): string {
  return `${table(
    ["handlers called directly (no engine)", "orders/s", "CPU ms per order", "errors"],
    [
      [
        `closed loop, ${d.clients} clients, ${d.seconds} s, ${d.orders} orders (load ${fmt(d.loadAverage)})`,
        `**${fmt(d.ordersPerSec)}**`,
        `${fmt(d.cpuMsPerOrder.total, 2)} (${byProcess(d.cpuMsPerOrder, ["total"])})`,
        d.errors,
      ],
    ],
  )}\n`;
}
