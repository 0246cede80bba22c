import * as path from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { loadConfig, parseDuration, startServiceBusEmulator } from "../src";

const sample = path.join(__dirname, "fixtures", "microsoft-sample-Config.json");
const appConfig = path.join(__dirname, "..", "config", "Config.json");

test("Microsoft's published sample Config.json (with comments) loads unchanged and serves its entities", async () => {
  const cfg = loadConfig(sample);
  expect(cfg.namespace).toBe("sbemulatorns");
  expect(cfg.queues.map((q) => q.name)).toEqual(["queue.1"]);
  expect(cfg.queues[0]).toMatchObject({
    lockDurationMs: 60_000,
    maxDeliveryCount: 3,
    defaultTtlMs: 3_600_000,
  });
  expect(cfg.topics[0].subscriptions.map((s) => s.name)).toEqual([
    "subscription.1",
    "subscription.2",
    "subscription.3",
    "subscription.4",
  ]);

  const emu = await startServiceBusEmulator({ port: 0, config: sample });
  const client = new ServiceBusClient(emu.connectionString);
  try {
    await client.createSender("queue.1").sendMessages({ body: "q" });
    const qr = client.createReceiver("queue.1");
    const [qm] = await qr.receiveMessages(1, { maxWaitTimeInMs: 1000 });
    expect(qm.body).toBe("q");
    await qr.completeMessage(qm);

    await client.createSender("topic.1").sendMessages([
      { body: "json", contentType: "application/json" },
      { body: "prop", applicationProperties: { prop1: "value1" } },
      { body: "sql", messageId: "123456", applicationProperties: { userProp1: "value1" } },
    ]);
    const expected: Record<string, string[]> = {
      "subscription.1": ["json"],
      "subscription.2": ["prop"],
      "subscription.3": ["json", "prop", "sql"],
      "subscription.4": ["sql"],
    };
    for (const [sub, bodies] of Object.entries(expected)) {
      const r = client.createReceiver("topic.1", sub, { receiveMode: "receiveAndDelete" });
      const got = await r.receiveMessages(10, { maxWaitTimeInMs: 700 });
      expect([sub, got.map((m) => m.body)]).toEqual([sub, bodies]);
      await r.close();
    }
  } finally {
    await client.close();
    await emu.close();
  }
});

test("the app's Config.json declares the two queues with the values the infra uses", () => {
  const cfg = loadConfig(appConfig);
  expect(cfg.namespace).toBe("sbemulatorns");
  expect(cfg.topics).toEqual([]);
  expect(cfg.queues).toEqual([
    {
      name: "orders-inbound",
      lockDurationMs: 60_000,
      maxDeliveryCount: 10,
      defaultTtlMs: 14 * 86_400_000,
      deadLetterOnExpiration: true,
      requiresSession: false,
      requiresDuplicateDetection: true,
      duplicateWindowMs: 600_000,
    },
    {
      name: "notifications",
      lockDurationMs: 30_000,
      maxDeliveryCount: 5,
      defaultTtlMs: 86_400_000,
      deadLetterOnExpiration: true,
      requiresSession: false,
      requiresDuplicateDetection: false,
      duplicateWindowMs: 20_000,
    },
  ]);
});

test("bad configs are refused with a clear message", () => {
  expect(() => loadConfig({})).toThrow(/Invalid Service Bus config: UserConfig/);
  expect(() =>
    loadConfig({
      UserConfig: {
        Namespaces: [
          { Name: "n", Queues: [{ Name: "q", Properties: { LockDuration: "1 minute" } }] },
        ],
      },
    }),
  ).toThrow(/LockDuration: must be an ISO 8601 duration/);
  expect(() =>
    loadConfig({
      UserConfig: { Namespaces: [{ Name: "n", Queues: [{ Name: "q" }, { Name: "Q" }] }] },
    }),
  ).toThrow(/defined twice/);
  expect(() => loadConfig("/nonexistent/Config.json")).toThrow(/Cannot read Service Bus config/);
  expect(() => parseDuration("P")).toThrow(/ISO 8601/);
  expect(parseDuration("PT1.5S")).toBe(1500);
  expect(parseDuration("P1DT2H")).toBe(26 * 3_600_000);
});

test("a SQL filter outside the supported subset is refused at startup", async () => {
  const config = {
    UserConfig: {
      Namespaces: [
        {
          Name: "sbemulatorns",
          Topics: [
            {
              Name: "t",
              Subscriptions: [
                {
                  Name: "s",
                  Rules: [
                    {
                      Name: "r",
                      Properties: { FilterType: "Sql", SqlFilter: { SqlExpression: "a = @p" } },
                    },
                  ],
                },
              ],
            },
          ],
        },
      ],
    },
  };
  await expect(startServiceBusEmulator({ port: 0, config })).rejects.toThrow(
    /rule "t\/subscriptions\/s\/r".*unsupported character '@'/,
  );
});

test("the port in use gives a clear error", async () => {
  const a = await startServiceBusEmulator({ port: 0, config: appConfig });
  try {
    await expect(startServiceBusEmulator({ port: a.port, config: appConfig })).rejects.toThrow(
      /cannot listen/,
    );
  } finally {
    await a.close();
  }
});
