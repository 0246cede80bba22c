import { lineChart, logTicks } from "../lib/chart";

describe("bench chart", () => {
  it("puts 1-2-5 ticks on a log axis", () => {
    expect(logTicks(8, 600)).toEqual([10, 20, 50, 100, 200, 500]);
    expect(logTicks(0.9, 1.1)).toEqual([1]);
  });

  it("draws one polyline and legend entry per series, escaping names", () => {
    const svg = lineChart({
      title: "p99 <latency>",
      xLabel: "offered /s",
      yLabel: "ms",
      series: [
        {
          name: "A & B p50",
          points: [
            [25, 8],
            [50, 9],
            [100, 12],
          ],
        },
        {
          name: "A & B p99",
          points: [
            [25, 14],
            [50, 20],
            [100, 400],
          ],
          dashed: true,
        },
      ],
    });
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(6);
    expect(svg).toContain("A &amp; B p99");
    expect(svg).toContain("p99 &lt;latency&gt;");
    expect(svg).toContain('stroke-dasharray="5 4"');
  });

  it("refuses an empty chart", () => {
    expect(() => lineChart({ title: "", xLabel: "", yLabel: "", series: [] })).toThrow();
  });
});
