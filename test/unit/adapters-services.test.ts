// The real wiring: getServices() built from the documented settings against the in-process
// Cosmos server and the project's Service Bus emulator.
import path from "node:path";
import { resetSettings } from "../../src/config";
import { getCosmosClient, resetCosmosClient } from "../../src/adapters/cosmos/client";
import { getServiceBusClient, resetServiceBusClient } from "../../src/adapters/servicebus/client";
import { getServices, resetServices } from "../../src/adapters/services";
import {
  startServiceBusEmulator,
  type ServiceBusEmulator,
} from "../../servicebus-emulator/src/index";
import { sampleOrder } from "../fakes";
import { startTestCosmos, type TestCosmos } from "../helpers/cosmosServer";

const SETTINGS = [
  "CosmosDBConnection",
  "COSMOS_ALLOW_SELF_SIGNED",
  "ServiceBusConnection",
  "COSMOS_DATABASE_NAME",
];
let cosmos: TestCosmos;
let serviceBus: ServiceBusEmulator;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  for (const name of SETTINGS) saved[name] = process.env[name];
  cosmos = await startTestCosmos("orders-wiring");
  serviceBus = await startServiceBusEmulator({
    port: 0,
    config: path.join(__dirname, "../../servicebus-emulator/config/Config.json"),
  });
  process.env.CosmosDBConnection = cosmos.connectionString;
  process.env.COSMOS_ALLOW_SELF_SIGNED = "true";
  process.env.COSMOS_DATABASE_NAME = "orders-wiring";
  process.env.ServiceBusConnection = serviceBus.connectionString;
  resetSettings();
  resetServices();
});

afterAll(async () => {
  resetServices();
  resetCosmosClient();
  await resetServiceBusClient();
  await cosmos?.close();
  await serviceBus?.close();
  for (const name of SETTINGS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
  resetSettings();
});

describe("getServices() with real settings", () => {
  it("creates each SDK client once per process and reuses the services", () => {
    expect(getCosmosClient()).toBe(getCosmosClient());
    expect(getServiceBusClient()).toBe(getServiceBusClient());
    expect(getServices().orders).toBe(getServices().orders);
    expect(getServices().gateway).toBe(getServices().gateway);
  });

  it("stores orders in the configured database and reports both dependencies healthy", async () => {
    const order = sampleOrder({ id: "f0000000-0000-4000-8000-000000000001" });
    await getServices().orders.create(order);
    const { resource } = await cosmos.database.container("orders").item(order.id, order.id).read();
    expect(resource).toMatchObject({ id: order.id, status: "Received" });
    await expect(getServices().health.cosmos()).resolves.toBeUndefined();
    await expect(getServices().health.serviceBus()).resolves.toBeUndefined();
  });

  it("charges through the gateway into the Cosmos ledger and lists it", async () => {
    const { gateway, payments } = getServices();
    const ref = await gateway.tokenize("4242424242424242");
    const orderId = "f0000000-0000-4000-8000-000000000002";
    await gateway.charge({
      idempotencyKey: orderId,
      token: ref.token,
      amount: 10,
      currency: "USD",
    });
    expect((await payments.list(orderId)).map((e) => e.kind)).toEqual(["charge"]);
  });

  it("health reports a Cosmos outage", async () => {
    const healthy = getServices().health;
    resetServices();
    resetCosmosClient();
    process.env.COSMOS_DATABASE_NAME = "does-not-exist";
    resetSettings();
    try {
      await expect(getServices().health.cosmos()).rejects.toThrow();
    } finally {
      process.env.COSMOS_DATABASE_NAME = "orders-wiring";
      resetSettings();
      resetServices();
      resetCosmosClient();
    }
    expect(healthy).toBeDefined();
  });
});
