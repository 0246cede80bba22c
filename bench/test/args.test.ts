import { parseArgs } from "../lib/args";

describe("bench command line", () => {
  it("separates names, flags and options with values", () => {
    expect(parseArgs(["orders", "--quick", "peer", "--minutes", "5", "--engines=local"])).toEqual({
      names: ["orders", "peer"],
      quick: true,
      write: true,
      values: { minutes: "5", engines: "local" },
      flags: [],
    });
  });

  it("defaults to the full default set, writing results", () => {
    expect(parseArgs([])).toEqual({ names: [], quick: false, write: true, values: {}, flags: [] });
  });

  it("keeps unknown flags for the benchmark that reads them and honours --no-write", () => {
    const a = parseArgs(["soak", "--no-write", "--verbose"]);
    expect(a.names).toEqual(["soak"]);
    expect(a.write).toBe(false);
    expect(a.flags).toEqual(["verbose"]);
  });

  it("rejects an option that needs a value without one", () => {
    expect(() => parseArgs(["chaos", "--minutes"])).toThrow("--minutes needs a value");
    expect(() => parseArgs(["chaos", "--minutes", "--quick"])).toThrow("--minutes needs a value");
  });
});
