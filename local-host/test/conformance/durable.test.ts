/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Durable conformance: every durable-js samples-ts pattern on a fixture app, against a real host
// process, driven only through HTTP (the fixture's starters, the 202 management URLs) and the real
// DurableClient from durable-functions.
import fs from "node:fs";
import path from "node:path";
import * as df from "durable-functions";
import { ensureBuilt, startHost, type StartedHost } from "../support/host";

const appDir = path.join(__dirname, "..", "fixtures", "conformance-app");
let host: StartedHost;
let api: string;

async function startHostForSuite(dataDir?: string): Promise<StartedHost> {
  return startHost({ appDir, dataDir, args: ["--external-emulators"] });
}

beforeAll(async () => {
  ensureBuilt();
  host = await startHostForSuite();
  api = `${host.baseUrl}/api`;
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

async function call(
  url: string,
  init?: RequestInit,
): Promise<{ status: number; body: any; headers: Headers }> {
  const res = await fetch(url, init);
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  return { status: res.status, body, headers: res.headers };
}

async function start(name: string, input?: unknown, instanceId?: string): Promise<any> {
  const q = instanceId ? `?instanceId=${encodeURIComponent(instanceId)}` : "";
  const res = await call(`${api}/orchestrators/${name}${q}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: input === undefined ? "" : JSON.stringify(input),
  });
  expect(res.status).toBe(202);
  expect(res.headers.get("location")).toBe(res.body.statusQueryGetUri);
  return res.body;
}

/** Follows statusQueryGetUri (202 while running) until the instance is done. */
async function poll(statusUri: string, timeoutMs = 20000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(statusUri);
    if (res.status !== 202) {
      expect(res.status).toBe(200);
      return res.body;
    }
    expect(res.headers.get("retry-after")).toBe("5");
    if (Date.now() > deadline) throw new Error(`still running: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function waitForCustomStatus(statusUri: string, expected: unknown): Promise<void> {
  const deadline = Date.now() + 10000;
  for (;;) {
    const res = await call(statusUri);
    if (JSON.stringify(res.body?.customStatus) === JSON.stringify(expected)) return;
    if (Date.now() > deadline)
      throw new Error(`custom status never became ${JSON.stringify(expected)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The real DurableClient, configured from the webhook URLs the host hands out (no rpc base). */
function clientFrom(statusQueryGetUri: string): df.DurableClient {
  const url = new URL(statusQueryGetUri);
  const base = `${url.origin}/runtime/webhooks/durabletask`;
  const q = url.search.slice(1);
  const instance = `${base}/instances/INSTANCEID`;
  const data = {
    taskHubName: url.searchParams.get("taskHub"),
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}`,
    },
    managementUrls: {
      id: "INSTANCEID",
      statusQueryGetUri: `${instance}?${q}`,
      sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
      terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
      rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
      purgeHistoryDeleteUri: `${instance}?${q}`,
      restartPostUri: `${instance}/restart?${q}`,
      suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
      resumePostUri: `${instance}/resume?reason={text}&${q}`,
    },
    baseUrl: base,
    requiredQueryStringParameters: "",
  };
  process.env.WEBSITE_HOSTNAME = url.host;
  const input = df.input.durableClient();
  return df.getClient({
    options: { extraInputs: [input] },
    extraInputs: { get: () => data },
  } as never);
}

describe("durable-js samples on the local host", () => {
  it("function chaining", async () => {
    const started = await start("helloSequence");
    expect(started.statusQueryGetUri).toContain(
      `${host.baseUrl}/runtime/webhooks/durabletask/instances/${started.id}?`,
    );
    const status = await poll(started.statusQueryGetUri);
    expect(status).toMatchObject({
      name: "helloSequence",
      instanceId: started.id,
      runtimeStatus: "Completed",
      output: ["Hello Tokyo", "Hello Seattle", "Hello Cairo"],
    });
  });

  it("fan-out/fan-in (waitForCompletionOrCreateCheckStatusResponse)", async () => {
    const res = await call(`${api}/orchestrators/fanOutFanIn/wait`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "6",
    });
    expect(res.status).toBe(200);
    expect(res.body).toBe(1 + 4 + 9 + 16 + 25 + 36);
  });

  it("human interaction: approval raised through sendEventPostUri", async () => {
    const started = await start("approvalWorkflow", { item: "order-1", timeoutMs: 60000 });
    await waitForCustomStatus(started.statusQueryGetUri, "waiting for approval");
    const raise = await call(started.sendEventPostUri.replace("{eventName}", "ApprovalEvent"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ approved: true, by: "manager" }),
    });
    expect(raise.status).toBe(202);
    const status = await poll(started.statusQueryGetUri);
    expect(status.output).toEqual({ approved: true, by: "manager" });
    expect(status.customStatus).toBe("decided");
    const late = await call(started.sendEventPostUri.replace("{eventName}", "ApprovalEvent"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(late.status).toBe(410);
  });

  it("human interaction: the durable timer wins when nobody answers", async () => {
    const started = await start("approvalWorkflow", { item: "order-2", timeoutMs: 300 });
    const status = await poll(started.statusQueryGetUri);
    expect(status.output).toEqual({ approved: false, timedOut: true });
    expect(status.customStatus).toBe("timed out");
  });

  it("monitor: polls with timers until the job is done", async () => {
    const started = await start("monitorJob", {
      id: "job-1",
      readyAfter: 3,
      pollMs: 100,
      expiryMs: 20000,
    });
    const status = await poll(started.statusQueryGetUri);
    expect(status.output).toEqual({ alert: "job job-1 is Completed", checks: 3 });
  });

  it("retries: transient failures are retried, exhausted retries surface the error", async () => {
    const ok = await start("retryWorkflow", { key: "r1", failures: 2, maxAttempts: 3 });
    expect((await poll(ok.statusQueryGetUri)).output).toEqual({ key: "r1", attempts: 3 });
    const exhausted = await start("retryWorkflow", { key: "r2", failures: 5, maxAttempts: 2 });
    const status = await poll(exhausted.statusQueryGetUri);
    expect(status.output).toEqual({
      failed: true,
      message: "Activity function 'flakyActivity' failed: transient failure 2 for r2",
    });
  });

  it("sub-orchestrations, with a retried child", async () => {
    const started = await start("parentWorkflow", ["Ann", "Bob"]);
    const status = await poll(started.statusQueryGetUri);
    expect(status.output).toEqual({
      greetings: ["Hello Ann", "Hello Bob"],
      retried: "Hello Retry",
    });
  });

  it("entities: called from an orchestration, signalled and read through the client", async () => {
    const key = `c-${Date.now()}`;
    const started = await start("counterOrchestration", key);
    expect((await poll(started.statusQueryGetUri)).output).toBe(11);
    const signal = await call(`${api}/entities/Counter/${key}/add`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "5",
    });
    expect(signal.status).toBe(202);
    const deadline = Date.now() + 10000;
    let state: any;
    do {
      state = await call(`${api}/entities/Counter/${key}`);
      if (state.body === 16) break;
      await new Promise((r) => setTimeout(r, 50));
    } while (Date.now() < deadline);
    expect(state).toMatchObject({ status: 200, body: 16 });
    expect((await call(`${api}/entities/Counter/missing-key`)).status).toBe(404);
  });

  it("continue-as-new (eternal orchestration with a bound)", async () => {
    const started = await start("periodicCounter", { iteration: 0, until: 3 });
    const status = await poll(started.statusQueryGetUri);
    expect(status.output).toEqual({ done: 3 });
    expect(status.customStatus).toEqual({ iteration: 3 });
  });

  it("the in-worker client reads status with history", async () => {
    const started = await start("helloSequence");
    await poll(started.statusQueryGetUri);
    const res = await call(`${api}/status/${started.id}`);
    expect(res.status).toBe(200);
    expect(res.body.runtimeStatus).toBe("Completed");
    expect(res.body.history.map((e: any) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TaskCompleted",
      "TaskCompleted",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
  });

  it("the real DurableClient against the webhook API: start, events, terminate, query, purge", async () => {
    const seed = await start("helloSequence");
    await poll(seed.statusQueryGetUri);
    const client = clientFrom(seed.statusQueryGetUri);
    const id = await client.startNew("approvalWorkflow", {
      instanceId: `client-${Date.now()}`,
      input: { item: "x", timeoutMs: 60000 },
    });
    await expect(
      client.startNew("approvalWorkflow", { instanceId: id, input: { item: "x", timeoutMs: 1 } }),
    ).rejects.toThrow(/409/);
    await client.raiseEvent(id, "ApprovalEvent", { approved: true, by: "client" });
    const done = await client.waitForCompletionOrCreateCheckStatusResponse(
      { url: seed.statusQueryGetUri } as never,
      id,
      { timeoutInMilliseconds: 10000, retryIntervalInMilliseconds: 50 },
    );
    expect(done.status).toBe(200);

    const victim = await client.startNew("approvalWorkflow", {
      input: { item: "y", timeoutMs: 60000 },
    });
    await client.terminate(victim, "no longer needed");
    let status = await client.getStatus(victim);
    for (let i = 0; i < 100 && status.runtimeStatus !== "Terminated"; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = await client.getStatus(victim);
    }
    expect(status.runtimeStatus).toBe("Terminated");
    expect(status.output).toBe("no longer needed");

    const completed = await client.getStatusBy({
      runtimeStatus: [df.OrchestrationRuntimeStatus.Completed],
    });
    expect(completed.map((s) => s.instanceId)).toEqual(expect.arrayContaining([seed.id, id]));
    expect(await client.purgeInstanceHistory(victim)).toEqual({ instancesDeleted: 1 });
    await expect(client.getStatus(victim)).rejects.toThrow(/404/);
  });
});

describe("durability across host restarts", () => {
  it("a waiting instance survives SIGKILL of every host process and completes after restart", async () => {
    const started = await start("approvalWorkflow", { item: "crash", timeoutMs: 60000 });
    await waitForCustomStatus(started.statusQueryGetUri, "waiting for approval");
    const raise = await call(started.sendEventPostUri.replace("{eventName}", "ApprovalEvent"), {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ approved: true, by: "after-crash" }),
    });
    expect(raise.status).toBe(202);
    const dataDir = host.dataDir;
    await host.kill();
    host = await startHostForSuite(dataDir);
    api = `${host.baseUrl}/api`;
    const statusUri = `${host.baseUrl}/runtime/webhooks/durabletask/instances/${started.id}`;
    const status = await poll(statusUri);
    expect(status.runtimeStatus).toBe("Completed");
    expect(status.output).toEqual({ approved: true, by: "after-crash" });
  }, 120000);
});
