// Delivered notifications (container `notifications`, pk /orderId), id = notificationId, so a
// redelivered Service Bus message finds its first delivery instead of recording a second one.
import type { Container } from "@azure/cosmos";
import type { NotificationDeliveries, NotificationDelivery } from "../ports";
import { cosmosStatus, withoutSystemProperties } from "./errors";

export class CosmosNotificationDeliveries implements NotificationDeliveries {
  constructor(private readonly container: Container) {}

  async record(
    delivery: NotificationDelivery,
  ): Promise<{ created: boolean; delivery: NotificationDelivery }> {
    try {
      const { resource } = await this.container.items.create<NotificationDelivery>(delivery);
      return { created: true, delivery: withoutSystemProperties(resource ?? delivery) };
    } catch (err) {
      if (cosmosStatus(err) !== 409) throw err;
      const { resource } = await this.container
        .item(delivery.id, delivery.orderId)
        .read<NotificationDelivery>();
      if (!resource) throw err;
      return { created: false, delivery: withoutSystemProperties(resource) };
    }
  }

  async list(orderId: string): Promise<NotificationDelivery[]> {
    const { resources } = await this.container.items
      .query<NotificationDelivery>(
        {
          query: "SELECT * FROM c WHERE c.orderId = @orderId ORDER BY c.deliveredAt ASC",
          parameters: [{ name: "@orderId", value: orderId }],
        },
        { partitionKey: orderId },
      )
      .fetchAll();
    return resources.map((doc) => withoutSystemProperties(doc));
  }
}
