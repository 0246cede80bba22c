import { lineChart, logTicks } from "../lib/chart";

describe("bench chart", () => {
  it("puts 1-2-5 ticks on a log axis", () => {
    expect(logTicks(8, 600)).toEqual([10, 20, 50, 100, 200, 500]);
    expect(logTicks(0.9, 1.1)).toEqual([1]);
  });

  it("refuses a log axis with an infinite or non-positive bound instead of looping", () => {
    expect(() => logTicks(5, Infinity)).toThrow(RangeError);
    expect(() => logTicks(0, 100)).toThrow(RangeError);
    expect(() => logTicks(100, 5)).toThrow(RangeError);
  });

  it("leaves a level past saturation (p99 = Infinity, or null from JSON) off its line", () => {
    const svg = lineChart({
      title: "t",
      xLabel: "x",
      yLabel: "y",
      series: [
        {
          name: "sdk p99",
          points: [
            [25, 30],
            [200, 1800],
            [400, Infinity],
            [800, null as unknown as number],
          ],
        },
      ],
    });
    expect(svg.match(/<circle/g)).toHaveLength(2);
    expect(svg).not.toMatch(/NaN|Infinity/);
    // The y axis reaches the largest finite latency, not past it.
    expect(svg).toContain(">2000<");
    expect(svg).not.toContain(">5000<");
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
