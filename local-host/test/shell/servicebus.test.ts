/* eslint-disable @typescript-eslint/no-explicit-any -- received items are JSON from the fixture */
// Service Bus triggers against the embedded emulator: body and metadata as the extension gives
// them, complete on success, abandon (redeliver, then dead-letter) on failure, sessions in order.
import fs from "node:fs";
import path from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { ensureBuilt, startHost, type StartedHost } from "../support/host";

const appDir = path.join(__dirname, "..", "fixtures", "http-app");
let host: StartedHost;
let client: ServiceBusClient;

beforeAll(async () => {
  ensureBuilt();
  host = await startHost({
    appDir,
    args: [
      "--servicebus-config",
      path.join(appDir, "servicebus-config.json"),
      "--cosmos-config",
      path.join(appDir, "cosmos.json"),
    ],
  });
  client = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString));
}, 120000);

afterAll(async () => {
  await client?.close();
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

async function received(): Promise<any[]> {
  const res = await fetch(`${host.endpoints.apiBaseUrl}/received`);
  return (await res.json()) as any[];
}

async function waitFor(predicate: (items: any[]) => boolean, timeoutMs = 15000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await received();
    if (predicate(items)) return items;
    if (Date.now() > deadline) throw new Error(`Timed out; received: ${JSON.stringify(items)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const byId = (items: any[], id: string) => items.filter((i) => i.meta.messageId === id);

it("passes the endpoints it uses in endpoints.json and to the app", () => {
  expect(host.endpoints.serviceBusConnectionString).toMatch(/^Endpoint=sb:\/\/localhost:\d+;/);
  expect(String(host.endpoints.storageConnectionString)).toContain("devstoreaccount1");
  expect(host.endpoints.cosmos).toBeDefined();
  expect(host.logs()).not.toContain("function is in error");
});

it("hands the body and the extension's metadata to the function and completes the message", async () => {
  const sender = client.createSender("fixture-queue");
  await sender.sendMessages({
    body: { hello: "world" },
    messageId: "json-1",
    correlationId: "corr-1",
    contentType: "application/json",
    applicationProperties: { Kind: "test", n: 5 },
  });
  await sender.sendMessages({ body: "plain text", messageId: "text-1" });
  await sender.sendMessages({ body: Buffer.from([0xff, 0x00, 0xfe]), messageId: "bytes-1" });
  await sender.close();
  const items = await waitFor((i) =>
    ["json-1", "text-1", "bytes-1"].every((id) => byId(i, id).length > 0),
  );
  const [json] = byId(items, "json-1");
  expect(json.message).toEqual({ hello: "world" });
  expect(json.meta).toMatchObject({
    messageId: "json-1",
    deliveryCount: 1,
    correlationId: "corr-1",
    contentType: "application/json",
    applicationProperties: { kind: "test", n: 5 },
    userProperties: { kind: "test", n: 5 },
    sequenceNumber: expect.any(Number),
    lockToken: expect.any(String),
  });
  expect(Date.parse(json.meta.enqueuedTimeUtc)).toBeGreaterThan(Date.now() - 60000);
  expect(json.meta.expiresAtUtc).toBe("9999-12-31T23:59:59.999Z");
  expect(byId(items, "text-1")[0].message).toBe("plain text");
  // Non-UTF-8 bytes arrive as a Buffer (JSON-serialized by the fixture's HTTP response).
  expect(byId(items, "bytes-1")[0].message).toEqual({ type: "Buffer", data: [255, 0, 254] });

  // Completed: nothing is left on the queue.
  const receiver = client.createReceiver("fixture-queue");
  expect(await receiver.peekMessages(10)).toHaveLength(0);
  await receiver.close();
});

it("abandons on failure: redelivered with a higher delivery count, dead-lettered after the maximum", async () => {
  const sender = client.createSender("fixture-queue");
  await sender.sendMessages({ body: { failTimes: 1 }, messageId: "flaky-1" });
  await sender.sendMessages({ body: { failTimes: 99 }, messageId: "broken-1" });
  await sender.close();
  const items = await waitFor(
    (i) => byId(i, "flaky-1").length >= 2 && byId(i, "broken-1").length >= 3,
  );
  expect(byId(items, "flaky-1").map((i) => i.meta.deliveryCount)).toEqual([1, 2]);
  expect(byId(items, "broken-1").map((i) => i.meta.deliveryCount)).toEqual([1, 2, 3]);
  const dlq = client.createReceiver("fixture-queue", { subQueueType: "deadLetter" });
  const dead = await dlq.receiveMessages(5, { maxWaitTimeInMs: 3000 });
  expect(dead.map((m) => m.messageId)).toEqual(["broken-1"]);
  await dlq.completeMessage(dead[0]);
  await dlq.close();
  expect(host.logs()).toContain("Error: asked to fail");
});

it("runs session-enabled queues with session receivers, in order within a session", async () => {
  const sender = client.createSender("fixture-sessions");
  await sender.sendMessages(
    [1, 2, 3, 4].map((n) => ({ body: `a${n}`, sessionId: "session-a", messageId: `a${n}` })),
  );
  await sender.sendMessages({ body: "b1", sessionId: "session-b", messageId: "b1" });
  await sender.close();
  const items = await waitFor((i) => i.filter((x) => x.function === "sbSessions").length >= 5);
  const sessionA = items.filter((x) => x.meta.sessionId === "session-a").map((x) => x.message);
  expect(sessionA).toEqual(["a1", "a2", "a3", "a4"]);
  expect(items.find((x) => x.meta.sessionId === "session-b")?.message).toBe("b1");
});
