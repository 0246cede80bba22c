import { FunctionsCore } from "../../src/worker/functionsCore";

const mockCore = new FunctionsCore();
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { EventType } from "../../src/durable/types";
import { startHarness, waitDone, until, type Harness } from "./harness";

const calls: Record<string, number> = {};
const count = (name: string) => (calls[name] = (calls[name] ?? 0) + 1);

df.app.activity("hello", { handler: (name: string) => (count("hello"), `Hello ${name}`) });
df.app.activity("double", { handler: (n: number) => n * 2 });
let flakyFailures = 0;
df.app.activity("flaky", {
  handler: (key: string) => {
    count(`flaky:${key}`);
    if ((calls[`flaky:${key}`] ?? 0) <= flakyFailures)
      throw new Error(`flaky failure ${calls[`flaky:${key}`]}`);
    return `ok:${key}`;
  },
});
df.app.activity("alwaysFails", {
  handler: () => {
    count("alwaysFails");
    throw new Error("nope");
  },
});

df.app.orchestration("chain", function* (ctx: OrchestrationContext) {
  const a: string = yield ctx.df.callActivity("hello", "Tokyo");
  const b: string = yield ctx.df.callActivity("hello", "Seattle");
  const c: string = yield ctx.df.callActivity("hello", "London");
  return [a, b, c];
});

df.app.orchestration("fanout", function* (ctx: OrchestrationContext) {
  const n = ctx.df.getInput<number>();
  const tasks = [];
  for (let i = 1; i <= n; i++) tasks.push(ctx.df.callActivity("double", i));
  const results: number[] = yield ctx.df.Task.all(tasks);
  return results.reduce((x, y) => x + y, 0);
});

df.app.orchestration("retrying", function* (ctx: OrchestrationContext) {
  const retry = new df.RetryOptions(10, 4);
  const [a, b]: string[] = yield ctx.df.Task.all([
    ctx.df.callActivityWithRetry("flaky", retry, "a"),
    ctx.df.callActivity("hello", "b"),
  ]);
  const c: string = yield ctx.df.callActivity("hello", "c");
  return [a, b, c];
});

df.app.orchestration("retryExhausted", function* (ctx: OrchestrationContext) {
  const retry = new df.RetryOptions(5, 2);
  try {
    yield ctx.df.callActivityWithRetry("alwaysFails", retry, null);
    return "unexpected";
  } catch (err) {
    return `caught: ${(err as Error).message.split("\n")[0]}`;
  }
});

df.app.orchestration("retryTimeout", function* (ctx: OrchestrationContext) {
  const retry = new df.RetryOptions(50, 10);
  retry.retryTimeoutInMilliseconds = 1;
  try {
    yield ctx.df.callActivityWithRetry("alwaysFails", retry, null);
    return "unexpected";
  } catch {
    return "gave up";
  }
});

df.app.orchestration("approval", function* (ctx: OrchestrationContext) {
  const deadline = new Date(ctx.df.currentUtcDateTime.getTime() + ctx.df.getInput<number>());
  const timer = ctx.df.createTimer(deadline);
  const approval = ctx.df.waitForExternalEvent("Approval");
  const winner: unknown = yield ctx.df.Task.any([approval, timer]);
  if (winner === approval) {
    timer.cancel();
    return { approved: approval.result };
  }
  return "timed out";
});

df.app.orchestration("eventsInOrder", function* (ctx: OrchestrationContext) {
  yield ctx.df.callActivity("hello", "first");
  const x: unknown = yield ctx.df.waitForExternalEvent("X");
  const y: unknown = yield ctx.df.waitForExternalEvent("Y");
  return [x, y];
});

df.app.orchestration("child", function* (ctx: OrchestrationContext) {
  const input = ctx.df.getInput<{ n: number; fail?: boolean }>();
  if (input.fail) {
    count("childFail");
    if ((calls.childFail ?? 0) < 3) throw new Error("child broke");
  }
  const v: number = yield ctx.df.callActivity("double", input.n);
  return v;
});

df.app.orchestration("parent", function* (ctx: OrchestrationContext) {
  const a: number = yield ctx.df.callSubOrchestrator("child", { n: 2 });
  const b: number = yield ctx.df.callSubOrchestratorWithRetry("child", new df.RetryOptions(10, 5), {
    n: 5,
    fail: true,
  });
  return a + b;
});

df.app.orchestration("counterLoop", function* (ctx: OrchestrationContext) {
  const n = ctx.df.getInput<number>();
  ctx.df.setCustomStatus({ at: n });
  if (n < 3) {
    yield ctx.df.callActivity("double", n);
    ctx.df.continueAsNew(n + 1);
    return undefined;
  }
  return `finished at ${n}`;
});

df.app.entity("counter", (ctx) => {
  const value = ctx.df.getState(() => 0) as number;
  switch (ctx.df.operationName) {
    case "add":
      ctx.df.setState(value + (ctx.df.getInput() as number));
      break;
    case "get":
      ctx.df.return(value);
      break;
    case "reset":
      ctx.df.setState(0);
      break;
    case "boom":
      throw new Error("entity boom");
  }
});

df.app.orchestration("useCounter", function* (ctx: OrchestrationContext) {
  const id = new df.EntityId("counter", ctx.df.getInput<string>());
  ctx.df.signalEntity(id, "add", 5);
  yield ctx.df.callEntity(id, "add", 10);
  const value: number = yield ctx.df.callEntity(id, "get");
  let error = "";
  try {
    yield ctx.df.callEntity(id, "boom");
  } catch {
    error = "boom caught";
  }
  return { value, error };
});

let variant = "A";
let gate: (() => void) | undefined;
df.app.activity("gated", {
  handler: async () => {
    await new Promise<void>((resolve) => (gate = resolve));
    return "gated";
  },
});
df.app.orchestration("changing", function* (ctx: OrchestrationContext) {
  yield ctx.df.callActivity(variant === "A" ? "hello" : "double", 1);
  yield ctx.df.callActivity("gated", null);
  return "done";
});

let h: Harness;
beforeAll(async () => {
  h = await startHarness(mockCore);
});
afterAll(async () => {
  await h.close();
});

function eventsOf(instanceId: string) {
  return h.engine.getInstance(instanceId)!.history;
}

describe("orchestrations through the real SDK", () => {
  it("runs a 3-activity chain and decodes double-encoded string inputs", async () => {
    const id = await h.client.startNew("chain");
    const status = await waitDone(h, id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["Hello Tokyo", "Hello Seattle", "Hello London"]);
    const scheduled = eventsOf(id).filter((e) => e.EventType === EventType.TaskScheduled);
    expect(scheduled.map((e) => [e.EventId, e.Name, e.Input])).toEqual([
      [0, "hello", '"Tokyo"'],
      [1, "hello", '"Seattle"'],
      [2, "hello", '"London"'],
    ]);
  });

  it("fans out and in with Task.all", async () => {
    const id = await h.client.startNew("fanout", { input: 10 });
    const status = await waitDone(h, id);
    expect(status.output).toBe(110);
    const ids = eventsOf(id)
      .filter((e) => e.EventType === EventType.TaskScheduled)
      .map((e) => e.EventId);
    expect(ids).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("folds the results of parallel activities that finish together into one episode", async () => {
    const id = await h.client.startNew("fanout", { input: 10 });
    expect((await waitDone(h, id)).output).toBe(110);
    // Each episode starts with OrchestratorStarted: one to fan out, one for all ten results
    // (they finish in the same turn), not one per result.
    const episodes = eventsOf(id).filter((e) => e.EventType === EventType.OrchestratorStarted);
    expect(episodes).toHaveLength(2);
    const completedIn = eventsOf(id).filter((e) => e.EventType === EventType.TaskCompleted);
    expect(completedIn).toHaveLength(10);
  });

  it("numbers retries like the extension: failure → timer id → new attempt id", async () => {
    flakyFailures = 2;
    const id = await h.client.startNew("retrying");
    const status = await waitDone(h, id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["ok:a", "Hello b", "Hello c"]);
    const seq = eventsOf(id)
      .filter((e) =>
        [
          EventType.TaskScheduled,
          EventType.TaskFailed,
          EventType.TimerCreated,
          EventType.TimerFired,
          EventType.TaskCompleted,
        ].includes(e.EventType as never),
      )
      .map((e) => {
        const ref = e.EventId >= 0 ? e.EventId : (e.TaskScheduledId ?? e.TimerId);
        return `${Object.entries(EventType).find(([, v]) => v === e.EventType)![0]}#${String(ref)}`;
      });
    // attempt 1 = #0, sibling = #1, retry timer #2, attempt 2 = #3, timer #4, attempt 3 = #5, then c = #6
    expect(seq.filter((s) => s.startsWith("TaskScheduled"))).toEqual([
      "TaskScheduled#0",
      "TaskScheduled#1",
      "TaskScheduled#3",
      "TaskScheduled#5",
      "TaskScheduled#6",
    ]);
    expect(seq.filter((s) => s.startsWith("TimerCreated"))).toEqual([
      "TimerCreated#2",
      "TimerCreated#4",
    ]);
    expect(seq).toContain("TaskFailed#0");
    expect(seq).toContain("TaskFailed#3");
    expect(seq).toContain("TaskCompleted#5");
    expect(calls["flaky:a"]).toBe(3);
  });

  it("gives up after maxNumberOfAttempts and surfaces the activity error", async () => {
    const before = calls.alwaysFails ?? 0;
    const id = await h.client.startNew("retryExhausted");
    const status = await waitDone(h, id);
    expect(status.output).toBe("caught: Activity function 'alwaysFails' failed: nope ");
    expect((calls.alwaysFails ?? 0) - before).toBe(2);
  });

  it("stops retrying once retryTimeout has passed", async () => {
    const before = calls.alwaysFails ?? 0;
    const id = await h.client.startNew("retryTimeout");
    const status = await waitDone(h, id);
    expect(status.output).toBe("gave up");
    // first attempt only: later attempts fail without running the activity
    expect((calls.alwaysFails ?? 0) - before).toBe(1);
  });

  it("Task.any between an event and a timer: the event wins", async () => {
    const id = await h.client.startNew("approval", { input: 60_000 });
    await until(
      () => eventsOf(id).some((e) => e.EventType === EventType.TimerCreated),
      5000,
      "timer",
    );
    await h.client.raiseEvent(id, "Approval", { by: "ann" });
    const status = await waitDone(h, id);
    expect(status.output).toEqual({ approved: { by: "ann" } });
  });

  it("Task.any between an event and a timer: the timer wins", async () => {
    const id = await h.client.startNew("approval", { input: 150 });
    const status = await waitDone(h, id);
    expect(status.output).toBe("timed out");
    const fired = eventsOf(id).find((e) => e.EventType === EventType.TimerFired);
    expect(fired?.TimerId).toBe(0);
  });

  it("keeps events raised before the orchestrator waits for them", async () => {
    const id = await h.client.startNew("eventsInOrder");
    // Raise Y then X right away: both arrive before either wait.
    await h.client.raiseEvent(id, "Y", "y-value");
    await h.client.raiseEvent(id, "X", "x-value");
    const status = await waitDone(h, id);
    expect(status.output).toEqual(["x-value", "y-value"]);
  });

  it("runs sub-orchestrations, retrying a failing one as new child instances", async () => {
    const id = await h.client.startNew("parent", { instanceId: "parent-1" });
    const status = await waitDone(h, id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toBe(14);
    const created = eventsOf(id)
      .filter((e) => e.EventType === EventType.SubOrchestrationInstanceCreated)
      .map((e) => [e.EventId, e.InstanceId]);
    // child #0, retry attempts #1, timer #2, #3, timer #4, #5
    expect(created).toEqual([
      [0, "parent-1:0"],
      [1, "parent-1:1"],
      [3, "parent-1:3"],
      [5, "parent-1:5"],
    ]);
    expect(h.engine.getInstance("parent-1:1")?.status).toBe("Failed");
    expect(h.engine.getInstance("parent-1:5")?.status).toBe("Completed");
  });

  it("continues as new with a fresh history and keeps custom status", async () => {
    const id = await h.client.startNew("counterLoop", { input: 0 });
    const status = await waitDone(h, id);
    expect(status.output).toBe("finished at 3");
    expect(status.customStatus).toEqual({ at: 3 });
    const history = eventsOf(id);
    expect(history[0].EventType).toBe(EventType.OrchestratorStarted);
    expect(history.filter((e) => e.EventType === EventType.ExecutionStarted)).toHaveLength(1);
    expect(history.find((e) => e.EventType === EventType.ExecutionStarted)?.Input).toBe("3");
  });

  it("signals and calls entities, including an operation that throws", async () => {
    const id = await h.client.startNew("useCounter", { input: "c1" });
    const status = await waitDone(h, id);
    expect(status.output).toEqual({ value: 15, error: "boom caught" });
    const state = await h.client.readEntityState<number>(new df.EntityId("counter", "c1"));
    expect(state).toMatchObject({ entityExists: true, entityState: 15 });
    await h.client.signalEntity(new df.EntityId("counter", "c1"), "add", 7);
    await until(() => h.engine.getEntity("@counter@c1")?.state === "22", 5000, "signal");
    const missing = await h.client.readEntityState(new df.EntityId("counter", "nope"));
    expect(missing.entityExists).toBe(false);
  });

  it("fails the instance with a clear message when the replay diverges (non-determinism)", async () => {
    variant = "A";
    const id = await h.client.startNew("changing");
    await until(() => gate !== undefined, 5000, "gated activity");
    variant = "B"; // the code now schedules 'double' where history recorded 'hello'
    gate!();
    gate = undefined;
    const status = await waitDone(h, id);
    variant = "A";
    expect(status.runtimeStatus).toBe("Failed");
    expect(String(status.output)).toMatch(/Non-deterministic workflow detected/);
    expect(String(status.output)).toMatch(
      /scheduled an activity task named 'hello' with sequence ID 0, but the current replay scheduled an activity task named 'double'/,
    );
  });
});
