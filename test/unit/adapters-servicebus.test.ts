import type { ServiceBusClient, ServiceBusMessage } from "@azure/service-bus";
import { createServiceBusClient, QUEUES } from "../../src/adapters/servicebus/client";
import { ServiceBusNotificationQueue } from "../../src/adapters/servicebus/notificationQueue";
import path from "node:path";
import {
  startServiceBusEmulator,
  type ServiceBusEmulator,
} from "../../servicebus-emulator/src/index";

describe("Service Bus adapters", () => {
  it("sends one message per notification with messageId = notificationId, on one sender", async () => {
    const sent: ServiceBusMessage[] = [];
    const queues: string[] = [];
    const client = {
      createSender: (queue: string) => {
        queues.push(queue);
        return { sendMessages: async (m: ServiceBusMessage) => void sent.push(m) };
      },
    } as unknown as ServiceBusClient;
    const queue = new ServiceBusNotificationQueue(() => client);
    for (const channel of ["email", "sms"] as const) {
      await queue.enqueue({
        notificationId: `o-1:${channel}`,
        orderId: "o-1",
        customerId: "c-1",
        channel,
        template: "order-completed",
        data: { total: 10 },
      });
    }
    expect(queues).toEqual([QUEUES.notifications]);
    expect(sent.map((m) => [m.messageId, m.correlationId, m.subject, m.contentType])).toEqual([
      ["o-1:email", "o-1", "email", "application/json"],
      ["o-1:sms", "o-1", "sms", "application/json"],
    ]);
    expect(sent[0]!.body).toMatchObject({ orderId: "o-1", channel: "email", data: { total: 10 } });
  });

  it("builds a client from a connection string or from a namespace and credential", async () => {
    const local = createServiceBusClient({
      kind: "connectionString",
      connectionString:
        "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;",
    });
    expect(local.fullyQualifiedNamespace).toBe("localhost");
    const azure = createServiceBusClient({
      kind: "identity",
      fullyQualifiedNamespace: "ns.servicebus.windows.net",
      credential: "managedidentity",
    });
    expect(azure.fullyQualifiedNamespace).toBe("ns.servicebus.windows.net");
    await Promise.all([local.close(), azure.close()]);
  });
});

describe("notifications queue against the project's Service Bus emulator", () => {
  let emulator: ServiceBusEmulator;
  let client: ServiceBusClient;
  beforeAll(async () => {
    emulator = await startServiceBusEmulator({
      port: 0,
      config: path.join(__dirname, "../../servicebus-emulator/config/Config.json"),
    });
    client = createServiceBusClient({
      kind: "connectionString",
      connectionString: emulator.connectionString,
    });
  });
  afterAll(async () => {
    await client?.close();
    await emulator?.close();
  });

  it("delivers the enqueued message with its id, body and properties; the health probe passes", async () => {
    const queue = new ServiceBusNotificationQueue(() => client);
    await expect(queue.check()).resolves.toBeUndefined();
    await queue.enqueue({
      notificationId: "o-9:push",
      orderId: "o-9",
      customerId: "c-9",
      channel: "push",
      template: "order-completed",
      data: { total: 42 },
    });
    const receiver = client.createReceiver(QUEUES.notifications);
    try {
      const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
      expect(message).toBeDefined();
      expect(message!.messageId).toBe("o-9:push");
      expect(message!.correlationId).toBe("o-9");
      expect(message!.subject).toBe("push");
      expect(message!.body).toEqual({
        notificationId: "o-9:push",
        orderId: "o-9",
        customerId: "c-9",
        channel: "push",
        template: "order-completed",
        data: { total: 42 },
      });
      await receiver.completeMessage(message!);
    } finally {
      await receiver.close();
    }
  });

  it("enqueues a batch in one send, each message with its own id", async () => {
    const queue = new ServiceBusNotificationQueue(() => client);
    const messages = (["email", "sms", "push"] as const).map((channel) => ({
      notificationId: `o-10:${channel}`,
      orderId: "o-10",
      customerId: "c-10",
      channel,
      template: "order-completed" as const,
      data: { total: 7 },
    }));
    const send = jest.spyOn(queue.sender, "sendMessages");
    await queue.enqueueBatch(messages);
    expect(send).toHaveBeenCalledTimes(1);
    const receiver = client.createReceiver(QUEUES.notifications);
    try {
      const got = await receiver.receiveMessages(3, { maxWaitTimeInMs: 3000 });
      expect(got.map((m) => [m.messageId, m.subject, m.correlationId])).toEqual(
        messages.map((m) => [m.notificationId, m.channel, "o-10"]),
      );
      expect(got[1]!.body).toEqual(messages[1]);
      for (const m of got) await receiver.completeMessage(m);
    } finally {
      await receiver.close();
    }
  });
});
