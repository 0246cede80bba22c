import { FunctionsCore } from "../../src/worker/functionsCore";

const mockCore = new FunctionsCore();
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { handleManagementRequest } from "../../src/durable";
import { fullDisk } from "../../../durable-log/test/enospc";
import { startHarness, until, waitDone, type Harness } from "./harness";

df.app.orchestration("waiter", function* (ctx: OrchestrationContext) {
  const data: unknown = yield ctx.df.waitForExternalEvent("go");
  return { input: ctx.df.getInput(), data };
});
df.app.orchestration("quick", function* (ctx: OrchestrationContext) {
  yield ctx.df.callActivity("echo", ctx.df.getInput());
  return ctx.df.getInput() ?? "none";
});
df.app.activity("echo", { handler: (x: unknown) => x });
const failures: Record<string, number> = {};
df.app.activity("failOnce", {
  handler: (key: string) => {
    failures[key] = (failures[key] ?? 0) + 1;
    if (failures[key] === 1) throw new Error(`first attempt of ${key} fails`);
    return `${key} ok`;
  },
});
df.app.orchestration("rewindable", function* (ctx: OrchestrationContext) {
  const a: string = yield ctx.df.callActivity("echo", "a");
  const b: string = yield ctx.df.callActivity("failOnce", ctx.df.getInput<string>());
  return [a, b];
});

const WEBHOOK = "/runtime/webhooks/durabletask";
let h: Harness;
beforeAll(async () => {
  h = await startHarness(mockCore);
});
afterAll(async () => {
  await h.close();
});

describe("management HTTP API", () => {
  it("answers 503 with Retry-After while the log cannot write, and serves again by itself", async () => {
    const disk = await fullDisk();
    try {
      disk.full = true;
      const refused = await h.request("POST", `${WEBHOOK}/orchestrators/quick/full1`, 5);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("1");
      // Nothing is read either: the state in memory is ahead of the disk.
      const read = await h.request("GET", `${WEBHOOK}/instances/full1`);
      expect(read.status).toBe(503);
      expect(read.headers.get("retry-after")).toBe("1");
      expect(h.engine.persistenceStalled).toMatchObject({ code: "ENOSPC" });
      disk.full = false;
      await until(() => h.engine.persistenceStalled === undefined, 5000, "the log to catch up");
      // The refused start was kept and written once space returned: a retry finds it, no restart.
      const retried = await h.request("POST", `${WEBHOOK}/orchestrators/quick/full1`, 5);
      expect([202, 409]).toContain(retried.status);
      expect((await waitDone(h, "full1")).output).toBe(5);
    } finally {
      disk.restore();
    }
  });

  it("starts through the webhook with 202, Location and Retry-After, and validates input", async () => {
    const res = await h.request("POST", `${WEBHOOK}/orchestrators/quick/q1`, { n: 1 });
    expect(res.status).toBe(202);
    const body = res.body as Record<string, string>;
    expect(body.id).toBe("q1");
    expect(res.headers.get("location")).toBe(body.statusQueryGetUri);
    expect(res.headers.get("retry-after")).toBe("10");
    expect(body.statusQueryGetUri).toBe(
      `${h.baseUrl}${WEBHOOK}/instances/q1?taskHub=TestHub&connection=Storage`,
    );
    expect(body.sendEventPostUri).toContain("/instances/q1/raiseEvent/{eventName}?");
    expect(Object.keys(body).sort()).toEqual(
      [
        "id",
        "purgeHistoryDeleteUri",
        "restartPostUri",
        "resumePostUri",
        "sendEventPostUri",
        "statusQueryGetUri",
        "suspendPostUri",
        "terminatePostUri",
      ].sort(),
    );
    await waitDone(h, "q1");
    const bad = await h.request("POST", `${WEBHOOK}/orchestrators/quick`, "{not json");
    expect(bad.status).toBe(400);
    const unknown = await h.request("POST", `${WEBHOOK}/orchestrators/nope`, {});
    expect(unknown.status).toBe(400);
    expect(JSON.stringify(unknown.body)).toMatch(/doesn't exist/);
  });

  it("polls status: 202 while running, 200 when done, 404 unknown, history on request", async () => {
    const id = await h.client.startNew("waiter", { instanceId: "w1", input: { a: 1 } });
    await until(() => h.engine.getInstance(id)?.status === "Running", 5000, "running");
    const running = await h.request("GET", `${WEBHOOK}/instances/w1`);
    expect(running.status).toBe(202);
    expect(running.headers.get("retry-after")).toBe("5");
    expect(running.headers.get("location")).toBe(`${h.baseUrl}${WEBHOOK}/instances/w1`);
    expect(running.body).toMatchObject({
      name: "waiter",
      instanceId: "w1",
      runtimeStatus: "Running",
      input: { a: 1 },
      output: null,
    });
    expect((running.body as { createdTime: string }).createdTime).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
    );
    await h.client.raiseEvent(id, "go", 42);
    await waitDone(h, id);
    const done = await h.request(
      "GET",
      `${WEBHOOK}/instances/w1?showHistory=true&showHistoryOutput=true&showInput=false`,
    );
    expect(done.status).toBe(200);
    const body = done.body as Record<string, unknown>;
    expect(body).toMatchObject({
      runtimeStatus: "Completed",
      input: null,
      output: { input: { a: 1 }, data: 42 },
    });
    expect(body.history).toEqual(body.historyEvents);
    const types = (body.historyEvents as { EventType: string }[]).map((e) => e.EventType);
    expect(types).toEqual(["ExecutionStarted", "EventRaised", "ExecutionCompleted"]);
    expect((await h.request("GET", `${WEBHOOK}/instances/unknown-id`)).status).toBe(404);
    const viaClient = await h.client.getStatus(id, { showHistory: true });
    expect(viaClient.history).toHaveLength(3);
  });

  it("serves a status read of an unchanged instance again and rebuilds it after every change", async () => {
    const id = await h.client.startNew("waiter", { instanceId: "w2", input: { b: 2 } });
    await until(() => h.engine.getInstance(id)?.status === "Running", 5000, "running");
    const first = await h.request("GET", `/durabletask/instances/w2`);
    const again = await h.request("GET", `/durabletask/instances/w2`);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    const noInput = await h.request("GET", `/durabletask/instances/w2?showInput=false`);
    expect(noInput.body).toMatchObject({ runtimeStatus: "Running", input: null });
    await h.client.raiseEvent(id, "go", 7);
    await waitDone(h, id);
    const done = await h.request("GET", `/durabletask/instances/w2`);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({
      runtimeStatus: "Completed",
      input: { b: 2 },
      output: { input: { b: 2 }, data: 7 },
    });
    expect((done.body as { lastUpdatedTime: string }).lastUpdatedTime).not.toBeUndefined();
  });

  it("startNew on an existing id: 409 while running, replaces a finished instance", async () => {
    await h.client.startNew("waiter", { instanceId: "dup" });
    const conflict = await h.request("POST", `/durabletask/orchestrators/waiter/dup`, "");
    expect(conflict.status).toBe(409);
    await expect(h.client.startNew("waiter", { instanceId: "dup" })).rejects.toThrow(/409/);
    await h.client.raiseEvent("dup", "go", "first");
    expect((await waitDone(h, "dup")).output).toMatchObject({ data: "first" });
    await h.client.startNew("waiter", { instanceId: "dup", input: "second run" });
    await until(() => h.engine.getInstance("dup")?.status === "Running", 5000, "restarted");
    await h.client.raiseEvent("dup", "go", "second");
    expect((await waitDone(h, "dup")).output).toEqual({ input: "second run", data: "second" });
  });

  it("raiseEvent: 404 unknown, 410 finished, 400 for non-JSON content", async () => {
    const path = (id: string) => `${WEBHOOK}/instances/${id}/raiseEvent/go`;
    expect((await h.request("POST", path("missing"), 1)).status).toBe(404);
    expect((await h.request("POST", path("q1"), 1)).status).toBe(410);
    await h.client.startNew("waiter", { instanceId: "ev" });
    const text = await h.request("POST", path("ev"), "hi", { "content-type": "text/plain" });
    expect(text.status).toBe(400);
    expect((await h.request("POST", path("ev"), { ok: true })).status).toBe(202);
    expect((await waitDone(h, "ev")).output).toMatchObject({ data: { ok: true } });
  });

  it("terminates, suspends and resumes with the extension's status codes", async () => {
    await h.client.startNew("waiter", { instanceId: "t1" });
    expect(
      (await h.request("POST", `${WEBHOOK}/instances/t1/terminate?reason=stop%20it`)).status,
    ).toBe(202);
    const t = await waitDone(h, "t1");
    expect(t.runtimeStatus).toBe("Terminated");
    expect(t.output).toBe("stop it");
    expect((await h.request("POST", `${WEBHOOK}/instances/t1/terminate`)).status).toBe(410);
    expect((await h.request("POST", `${WEBHOOK}/instances/none/terminate`)).status).toBe(404);

    await h.client.startNew("waiter", { instanceId: "s1" });
    await h.client.suspend("s1", "pause");
    await until(() => h.engine.getInstance("s1")?.status === "Suspended", 5000, "suspended");
    await h.client.raiseEvent("s1", "go", "held");
    await new Promise((r) => setTimeout(r, 100));
    expect(h.engine.getInstance("s1")?.status).toBe("Suspended");
    const suspended = await h.request("GET", `${WEBHOOK}/instances/s1`);
    expect(suspended.status).toBe(202);
    await h.client.resume("s1", "go on");
    expect((await waitDone(h, "s1")).output).toMatchObject({ data: "held" });
  });

  it("restarts an instance with a new id or the same id", async () => {
    const res = await h.request("POST", `${WEBHOOK}/instances/q1/restart`);
    expect(res.status).toBe(202);
    const newId = (res.body as { id: string }).id;
    expect(newId).not.toBe("q1");
    expect((await waitDone(h, newId)).output).toEqual({ n: 1 });
    const same = await h.request(
      "POST",
      `${WEBHOOK}/instances/q1/restart?restartWithNewInstanceId=false`,
    );
    expect(same.status).toBe(202);
    expect((same.body as { id: string }).id).toBe("q1");
    expect((await waitDone(h, "q1")).output).toEqual({ n: 1 });
    expect((await h.request("POST", `${WEBHOOK}/instances/missing/restart`)).status).toBe(400);
  });

  it("rewinds a failed instance so the failed activity runs again", async () => {
    const id = await h.client.startNew("rewindable", { input: "rw" });
    const failed = await waitDone(h, id);
    expect(failed.runtimeStatus).toBe("Failed");
    expect(String(failed.output)).toContain("first attempt of rw fails");
    expect((await h.request("POST", `${WEBHOOK}/instances/q1/rewind`)).status).toBe(412);
    await h.client.rewind(id, "try again");
    const status = await waitDone(h, id);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual(["a", "rw ok"]);
  });

  it("lists with filters and continuation tokens, and purges", async () => {
    const from = new Date(Date.now() - 1000);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(await h.client.startNew("quick", { instanceId: `page-${i}`, input: i }));
    for (const id of ids) await waitDone(h, id);
    const first = await h.request("GET", `/durabletask/instances/?instanceIdPrefix=page-&top=2`);
    expect(first.status).toBe(200);
    expect((first.body as unknown[]).length).toBe(2);
    const token = first.headers.get("x-ms-continuation-token");
    expect(token).toBeTruthy();
    const second = await h.request(
      "GET",
      `/durabletask/instances/?instanceIdPrefix=page-&top=2`,
      undefined,
      {
        "x-ms-continuation-token": token!,
      },
    );
    const third = await h.request(
      "GET",
      `/durabletask/instances/?instanceIdPrefix=page-&top=2`,
      undefined,
      {
        "x-ms-continuation-token": second.headers.get("x-ms-continuation-token")!,
      },
    );
    expect(third.headers.get("x-ms-continuation-token")).toBeNull();
    const seen = [first, second, third].flatMap((r) =>
      (r.body as { instanceId: string }[]).map((x) => x.instanceId),
    );
    expect(seen.sort()).toEqual(ids.sort());

    const all = await h.client.getStatusBy({
      createdTimeFrom: from,
      runtimeStatus: [df.OrchestrationRuntimeStatus.Completed],
    });
    expect(all.map((s) => s.instanceId)).toEqual(expect.arrayContaining(ids));
    const none = await h.client.getStatusBy({ createdTimeTo: new Date(from.getTime() - 60_000) });
    expect(none).toEqual([]);

    await h.client.startNew("waiter", { instanceId: "busy" });
    expect((await h.request("DELETE", `${WEBHOOK}/instances/busy`)).status).toBe(412);
    expect(await h.client.purgeInstanceHistory("page-0")).toEqual({ instancesDeleted: 1 });
    expect((await h.request("DELETE", `${WEBHOOK}/instances/page-0`)).status).toBe(404);
    expect((await h.request("DELETE", `${WEBHOOK}/instances/`)).status).toBe(400);
    const purged = await h.client.purgeInstanceHistoryBy({
      createdTimeFrom: from,
      runtimeStatus: [df.OrchestrationRuntimeStatus.Completed],
    });
    expect(purged.instancesDeleted).toBeGreaterThanOrEqual(4);
    expect(h.engine.getInstance("page-4")).toBeUndefined();
    expect(h.engine.getInstance("busy")?.status).not.toBe("Completed");
    const again = await h.request(
      "DELETE",
      `${WEBHOOK}/instances/?createdTimeFrom=${encodeURIComponent(from.toISOString())}&runtimeStatus=Completed`,
    );
    expect(again.status).toBe(404);
  });

  it("entity routes: signal 202, read 200/404", async () => {
    expect((await h.request("POST", `${WEBHOOK}/entities/box/k1?op=set`, { v: 1 })).status).toBe(
      202,
    );
    expect((await h.request("GET", `${WEBHOOK}/entities/box/none`)).status).toBe(404);
  });

  it("returns undefined for paths outside the durable bases", async () => {
    const out = await handleManagementRequest(
      h.engine,
      {
        method: "GET",
        url: new URL(`${h.baseUrl}/api/orders`),
        headers: {},
        body: Buffer.alloc(0),
      },
      "webhook",
    );
    expect(out).toBeUndefined();
  });
});

describe("system key", () => {
  let k: Harness;
  beforeAll(async () => {
    k = await startHarness(mockCore, { systemKey: "sys-key-1" });
  });
  afterAll(async () => {
    await k.close();
  });

  it("requires the key on webhook routes, puts it in URLs, and leaves the rpc base open", async () => {
    expect((await k.request("POST", `${WEBHOOK}/orchestrators/quick`, 1)).status).toBe(401);
    expect((await k.request("POST", `${WEBHOOK}/orchestrators/quick?code=wrong`, 1)).status).toBe(
      401,
    );
    const ok = await k.request("POST", `${WEBHOOK}/orchestrators/quick?code=sys-key-1`, 1);
    expect(ok.status).toBe(202);
    const statusUri = (ok.body as { statusQueryGetUri: string }).statusQueryGetUri;
    expect(statusUri).toMatch(/taskHub=TestHub&connection=Storage&code=sys-key-1$/);
    await until(
      () => k.engine.getInstance((ok.body as { id: string }).id)?.status === "Completed",
      5000,
      "done",
    );
    expect((await k.request("GET", statusUri)).status).toBe(200);
    expect(
      (
        await k.request("GET", `${WEBHOOK}/instances/x`, undefined, {
          "x-functions-key": "sys-key-1",
        })
      ).status,
    ).toBe(404);
    expect((await k.request("POST", `/durabletask/orchestrators/quick`, 2)).status).toBe(202);
    const data = k.engine.clientBindingData();
    expect(data.requiredQueryStringParameters).toBe("code=sys-key-1");
    expect(data.rpcBaseUrl).toBe(`${k.baseUrl}/durabletask/`);
    expect((data.managementUrls as Record<string, string>).statusQueryGetUri).toContain(
      "code=sys-key-1",
    );
  });
});
