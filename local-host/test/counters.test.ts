import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { addCounterSource, count, countInvocation, counters } from "../src/counters";

describe("bench counters", () => {
  it("counts by name, by trigger, and merges other sources and the durable-log totals", () => {
    const before = counters();
    count("cosmos.requests");
    count("cosmos.requests", 2);
    countInvocation({ bindings: { input: { type: "activityTrigger", direction: "in" } } });
    countInvocation({
      bindings: {
        ctx: { type: "orchestrationTrigger", direction: "in" },
        out: { type: "http", direction: "out" },
      },
    });
    countInvocation(undefined);
    addCounterSource(() => ({ "serviceBus.received": 5 }));
    const after = counters();
    const diff = (k: string) => (after[k] ?? 0) - (before[k] ?? 0);
    expect(diff("cosmos.requests")).toBe(3);
    expect(diff("invocations.activityTrigger")).toBe(1);
    expect(diff("invocations.orchestrationTrigger")).toBe(1);
    expect(diff("invocations.other")).toBe(1);
    expect(after["serviceBus.received"]).toBe(5);
    expect(typeof after.fsyncs).toBe("number");
    expect(typeof after.logAppends).toBe("number");
  });

  it("writes the counts to LOCALHOST_COUNTERS_DIR only when it is set", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "counters-"));
    try {
      jest.isolateModules(() => {
        const previous = process.env.LOCALHOST_COUNTERS_DIR;
        delete process.env.LOCALHOST_COUNTERS_DIR;
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const fresh = require("../src/counters") as typeof import("../src/counters");
        fresh.dumpCountersPeriodically("host");
        expect(fs.readdirSync(dir)).toEqual([]);
        process.env.LOCALHOST_COUNTERS_DIR = dir;
        fresh.count("durable.statusReads");
        fresh.dumpCountersPeriodically("host");
        if (previous === undefined) delete process.env.LOCALHOST_COUNTERS_DIR;
        else process.env.LOCALHOST_COUNTERS_DIR = previous;
      });
      const [file] = fs.readdirSync(dir);
      expect(file).toBe(`host-${process.pid}.json`);
      const written = JSON.parse(fs.readFileSync(path.join(dir, file), "utf8")) as {
        role: string;
        counters: Record<string, number>;
      };
      expect(written.role).toBe("host");
      expect(written.counters["durable.statusReads"]).toBe(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
