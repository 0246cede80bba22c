// One ServiceBusClient per process (one AMQP connection shared by every sender), created on
// first use from ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace.
import { ServiceBusClient } from "@azure/service-bus";
import { readServiceBusConnection, type ServiceBusConnection } from "../../config";
import { credentialFor } from "../credential";

export const QUEUES = { ordersInbound: "orders-inbound", notifications: "notifications" } as const;

export function createServiceBusClient(connection: ServiceBusConnection): ServiceBusClient {
  return connection.kind === "connectionString"
    ? new ServiceBusClient(connection.connectionString)
    : new ServiceBusClient(connection.fullyQualifiedNamespace, credentialFor(connection));
}

let client: ServiceBusClient | undefined;

export function getServiceBusClient(): ServiceBusClient {
  client ??= createServiceBusClient(readServiceBusConnection());
  return client;
}

export async function resetServiceBusClient(): Promise<void> {
  const current = client;
  client = undefined;
  await current?.close();
}
