import type { ServiceBusClient, ServiceBusMessage } from "@azure/service-bus";
import { createServiceBusClient, QUEUES } from "../../src/adapters/servicebus/client";
import { ServiceBusNotificationQueue } from "../../src/adapters/servicebus/notificationQueue";

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
