/**
 * A small hand-written SVG line chart (log-scale axes) for docs/: latency against offered load,
 * one line per engine and percentile. No dependencies; the text is deterministic for a given input.
 */

export interface Series {
  name: string;
  points: [number, number][];
  dashed?: boolean;
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  width?: number;
  height?: number;
}

const COLOURS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"];

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

/** Decade ticks (1, 2, 5 × 10^n) covering [min, max]; both bounds finite and positive. */
export function logTicks(min: number, max: number): number[] {
  // An infinite or zero bound would never end the loop below (it pushed until V8's array limit).
  if (!(min > 0 && max >= min && Number.isFinite(max))) {
    throw new RangeError(`log axis needs 0 < min <= max < Infinity, got [${min}, ${max}]`);
  }
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min / 1.0001 && v <= max * 1.0001) out.push(Number(v.toPrecision(6)));
    }
  }
  return out;
}

/** A point a log-log chart can place. A level past saturation has p99 = Infinity (in-process;
 *  null once through JSON): it is left off its line, the tables show it. */
const plottable = ([x, y]: [number, number]): boolean =>
  x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y);

export function lineChart(o: ChartOptions): string {
  const W = o.width ?? 720;
  const H = o.height ?? 420;
  const m = { left: 70, right: 230, top: 40, bottom: 50 };
  const pts = o.series.flatMap((s) => s.points).filter(plottable);
  if (pts.length === 0) throw new Error("nothing to chart");
  const [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  const [y0, y1] = [
    Math.min(...pts.map((p) => p[1])) / 1.5,
    Math.max(...pts.map((p) => p[1])) * 1.5,
  ];
  const lx = (x: number) =>
    m.left +
    ((Math.log(x) - Math.log(x0)) / (Math.log(x1) - Math.log(x0) || 1)) * (W - m.left - m.right);
  const ly = (y: number) =>
    H -
    m.bottom -
    ((Math.log(y) - Math.log(y0)) / (Math.log(y1) - Math.log(y0))) * (H - m.top - m.bottom);
  const n = (v: number) => v.toFixed(1);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - m.right / 2}" y="22" text-anchor="middle" font-size="14">${esc(o.title)}</text>`,
  ];
  for (const t of logTicks(y0, y1)) {
    parts.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${n(ly(t))}" y2="${n(ly(t))}" stroke="#ddd"/>`,
      `<text x="${m.left - 6}" y="${n(ly(t) + 4)}" text-anchor="end">${t}</text>`,
    );
  }
  const xs = [...new Set(pts.map((p) => p[0]))].sort((a, b) => a - b);
  for (const t of xs) {
    parts.push(
      `<line x1="${n(lx(t))}" x2="${n(lx(t))}" y1="${m.top}" y2="${H - m.bottom}" stroke="#eee"/>`,
      `<text x="${n(lx(t))}" y="${H - m.bottom + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  parts.push(
    `<rect x="${m.left}" y="${m.top}" width="${W - m.left - m.right}" height="${H - m.top - m.bottom}" fill="none" stroke="#333"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text transform="translate(18 ${(m.top + H - m.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`,
  );
  o.series.forEach((s, i) => {
    const colour = COLOURS[Math.floor(i / 2) % COLOURS.length];
    const p = s.points.filter(plottable);
    const dash = s.dashed ? ` stroke-dasharray="5 4"` : "";
    parts.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2"${dash} points="${p.map(([x, y]) => `${n(lx(x))},${n(ly(y))}`).join(" ")}"/>`,
      ...p.map(([x, y]) => `<circle cx="${n(lx(x))}" cy="${n(ly(y))}" r="3" fill="${colour}"/>`),
      `<line x1="${W - m.right + 12}" x2="${W - m.right + 36}" y1="${m.top + 10 + i * 18}" y2="${m.top + 10 + i * 18}" stroke="${colour}" stroke-width="2"${dash}/>`,
      `<text x="${W - m.right + 42}" y="${m.top + 14 + i * 18}">${esc(s.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
