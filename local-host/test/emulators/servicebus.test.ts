import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ServiceBusClient } from "@azure/service-bus";
import { startEmulators, type RunningEmulators } from "../../src/emulators";

const config = path.join(__dirname, "fixtures", "servicebus.json");

function startServiceBusOnly(dataDir?: string): Promise<RunningEmulators> {
  return startEmulators({
    ports: "free",
    dataDir,
    serviceBusConfig: config,
    which: { azurite: false, cosmos: false },
  });
}

async function send(connectionString: string, body: string): Promise<void> {
  const client = new ServiceBusClient(connectionString);
  try {
    const sender = client.createSender("jobs");
    await sender.sendMessages({ body, messageId: body });
  } finally {
    await client.close();
  }
}

async function receiveOne(connectionString: string): Promise<unknown[]> {
  const client = new ServiceBusClient(connectionString);
  try {
    const receiver = client.createReceiver("jobs");
    const messages = await receiver.receiveMessages(1, { maxWaitTimeInMs: 3000 });
    for (const m of messages) await receiver.completeMessage(m);
    return messages.map((m) => m.body as unknown);
  } finally {
    await client.close();
  }
}

describe("Service Bus emulator through startEmulators", () => {
  it("sends and receives a message on a free port", async () => {
    const emulators = await startServiceBusOnly();
    try {
      expect(emulators.ports.serviceBus).toBeGreaterThan(0);
      expect(emulators.serviceBusConnectionString).toContain(
        `Endpoint=sb://localhost:${emulators.ports.serviceBus};`,
      );
      expect(emulators.serviceBusConnectionString).toContain("UseDevelopmentEmulator=true");
      await send(emulators.serviceBusConnectionString!, "hello");
      expect(await receiveOne(emulators.serviceBusConnectionString!)).toEqual(["hello"]);
    } finally {
      await emulators.close();
    }
  });

  it("keeps a queued message under DATA_DIR/servicebus across a restart", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), "sb-data-"));
    try {
      const first = await startServiceBusOnly(dataDir);
      await send(first.serviceBusConnectionString!, "kept");
      await first.close();
      expect((await readdir(path.join(dataDir, "servicebus"))).length).toBeGreaterThan(0);
      const second = await startServiceBusOnly(dataDir);
      try {
        expect(await receiveOne(second.serviceBusConnectionString!)).toEqual(["kept"]);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

describe("Service Bus emulator without a config file", () => {
  it("starts with an empty namespace, so sending to an unknown queue fails clearly", async () => {
    const emulators = await startEmulators({
      ports: "free",
      which: { azurite: false, cosmos: false },
    });
    try {
      await expect(send(emulators.serviceBusConnectionString!, "x")).rejects.toThrow(/jobs/);
    } finally {
      await emulators.close();
    }
  });
});
