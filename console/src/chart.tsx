// A uPlot time-series chart. The figure gets a caption and a text summary (a table of the same
// numbers) so the data is readable without the canvas.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: (number | null)[];
  color: string;
}

const PALETTE: Record<string, string> = {
  Completed: "#1a7f37",
  Rejected: "#9a6700",
  Cancelled: "#6e7781",
  PaymentDeclined: "#bc4c00",
  PaymentFailed: "#cf222e",
  Failed: "#82071e",
};
const OTHER = ["#0969da", "#8250df", "#bf3989", "#1b7c83"];
export const colorFor = (label: string, i: number): string =>
  PALETTE[label] ?? OTHER[i % OTHER.length]!;

export function TimeChart(props: {
  title: string;
  unit: string;
  x: number[];
  series: Series[];
  bars?: boolean;
  /** The time range shown (epoch seconds), so one busy minute is not stretched over years. */
  range: [number, number];
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = host.current;
    if (!el || props.x.length === 0) return;
    const width = Math.max(320, Math.min(el.clientWidth || 640, 900));
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: {
          x: { time: true, range: () => props.range },
          y: { range: (_u, min, max) => [0, Math.max(1, max * 1.1 || min)] },
        },
        axes: [{}, { label: props.unit, size: 60 }],
        series: [
          {},
          ...props.series.map((s) => ({
            label: s.label,
            stroke: s.color,
            fill: props.bars ? `${s.color}33` : undefined,
            width: 2,
            paths: props.bars ? uPlot.paths.bars!({ size: [0.8, 40] }) : undefined,
          })),
        ],
      },
      [props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    return () => plot.destroy();
  }, [props.x, props.series, props.unit, props.bars, props.range]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      {props.x.length === 0 ? <p class="empty">No data in this time range.</p> : <div ref={host} />}
    </figure>
  );
}
