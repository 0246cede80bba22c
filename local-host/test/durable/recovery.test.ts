import { FunctionsCore } from "../../src/worker/functionsCore";

const mockCore = new FunctionsCore();
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { EventType } from "../../src/durable/types";
import { startHarness, until, waitDone, type Harness } from "./harness";

const runs: Record<string, number> = {};
let release: (() => void) | undefined;
let blockB = true;
df.app.activity("stepA", { handler: (x: string) => ((runs.A = (runs.A ?? 0) + 1), `A(${x})`) });
df.app.activity("stepB", {
  handler: async (x: string) => {
    runs.B = (runs.B ?? 0) + 1;
    if (blockB) await new Promise<void>((resolve) => (release = resolve));
    return `B(${x})`;
  },
});
df.app.activity("stepC", { handler: (x: string) => ((runs.C = (runs.C ?? 0) + 1), `C(${x})`) });
df.app.orchestration("pipeline", function* (ctx: OrchestrationContext) {
  const a: string = yield ctx.df.callActivity("stepA", ctx.df.getInput<string>());
  const b: string = yield ctx.df.callActivity("stepB", a);
  return yield ctx.df.callActivity("stepC", b);
});
df.app.orchestration("sleeper", function* (ctx: OrchestrationContext) {
  yield ctx.df.createTimer(new Date(ctx.df.currentUtcDateTime.getTime() + 300));
  return "woke";
});
df.app.orchestration("listener", function* (ctx: OrchestrationContext) {
  const v: unknown = yield ctx.df.waitForExternalEvent("ping");
  return v;
});
df.app.entity("tally", (ctx) => {
  ctx.df.setState(((ctx.df.getState(() => 0) as number) ?? 0) + (ctx.df.getInput() as number));
});

let h: Harness;
beforeEach(async () => {
  for (const k of Object.keys(runs)) delete runs[k];
  blockB = true;
  release = undefined;
  h = await startHarness(mockCore, { fsync: true });
});
afterEach(async () => {
  blockB = false;
  release?.();
  await h.close();
});

async function crashAndReopen(): Promise<void> {
  await h.engine.abandon();
  await h.reopen({ fsync: true });
}

describe("restart recovery (state under dataDir/durable, crash = abandon without draining)", () => {
  it("re-runs an activity whose result was not committed, not one whose result was", async () => {
    const id = await h.client.startNew("pipeline", { input: "x" });
    await until(() => release !== undefined, 5000, "stepB running");
    expect(runs).toEqual({ A: 1, B: 1 });
    blockB = false; // the re-run after the restart completes
    await crashAndReopen();
    const status = await waitDone(h, id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe("C(B(A(x)))");
    expect(runs).toEqual({ A: 1, B: 2, C: 1 });
    const scheduled = h.engine
      .getInstance(id)!
      .history.filter((e) => e.EventType === EventType.TaskScheduled);
    expect(scheduled.map((e) => e.EventId)).toEqual([0, 1, 2]);
  });

  it("re-arms durable timers", async () => {
    const id = await h.client.startNew("sleeper");
    await until(
      () =>
        h.engine.getInstance(id)?.history.some((e) => e.EventType === EventType.TimerCreated) ??
        false,
      5000,
      "timer created",
    );
    await crashAndReopen();
    const status = await waitDone(h, id);
    expect(status.output).toBe("woke");
  });

  it("keeps an instance whose start got a 202 and an event that got a 202", async () => {
    const res = await h.request("POST", "/durabletask/orchestrators/listener/l1", "");
    expect(res.status).toBe(202);
    const ev = await h.request("POST", "/durabletask/instances/l1/raiseEvent/ping", { n: 7 });
    expect(ev.status).toBe(202);
    await crashAndReopen();
    const status = await waitDone(h, "l1");
    expect(status.output).toEqual({ n: 7 });
  });

  it("keeps entity state and queued signals", async () => {
    const e = new df.EntityId("tally", "t");
    await h.client.signalEntity(e, "add", 2);
    await until(() => h.engine.getEntity("@tally@t")?.state === "2", 5000, "first signal");
    await h.client.signalEntity(e, "add", 3);
    await crashAndReopen();
    await until(
      () => h.engine.getEntity("@tally@t")?.state === "5",
      5000,
      "second signal after restart",
    );
    expect((await h.client.readEntityState<number>(e)).entityState).toBe(5);
  });

  it("recovers from a compacted snapshot after a clean stop", async () => {
    blockB = false;
    const id = await h.client.startNew("pipeline", { input: "s" });
    await waitDone(h, id);
    await h.engine.stop();
    await h.reopen({ fsync: true });
    expect(h.engine.getInstance(id)?.status).toBe("Completed");
    expect((await h.client.getStatus(id)).output).toBe("C(B(A(s)))");
  });
});
