import { percentile, rate, round, steadyRate, summarise } from "../lib/stats";

describe("bench stats", () => {
  it("takes nearest-rank percentiles", () => {
    const s = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(s, 50)).toBe(50);
    expect(percentile(s, 95)).toBe(95);
    expect(percentile(s, 99)).toBe(99);
    expect(percentile(s, 100)).toBe(100);
    expect(percentile(s, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });

  it("summarises unsorted samples without changing them", () => {
    const samples = [5, 1, 4, 2, 3];
    const d = summarise(samples);
    expect(d).toEqual({ n: 5, p50: 3, p95: 5, p99: 5, max: 5 });
    expect(samples).toEqual([5, 1, 4, 2, 3]);
    expect(summarise([]).n).toBe(0);
  });

  it("computes rates and the steady rate after the warm-up share", () => {
    expect(rate(50, 1000)).toBe(50);
    expect(rate(1, 0)).toBeNaN();
    // A slow start (two completions over 1 s) then one completion every 10 ms.
    const times = [0, 1000, ...Array.from({ length: 8 }, (_, i) => 1010 + i * 10)];
    expect(steadyRate(times, 0.2)).toBeCloseTo(100, 5);
    expect(steadyRate(times, 0)).toBeLessThan(10);
    expect(steadyRate([1], 0)).toBeNaN();
  });

  it("rounds to 3 significant digits below 100 and to integers above", () => {
    expect(round(12.345)).toBe(12.3);
    expect(round(0.012345)).toBe(0.0123);
    expect(round(1234.5)).toBe(1235);
    expect(round(NaN)).toBeNaN();
  });
});
