// The built-in notification provider: instead of sending e-mail/SMS/push it records the delivery
// in the `notifications` container, once per notificationId (redelivery returns the first
// record). A real provider would implement the same Notifier interface.
import type {
  NotificationDeliveries,
  NotificationDelivery,
  NotificationMessage,
  Notifier,
} from "../ports";

export class BuiltInNotifier implements Notifier {
  constructor(
    private readonly deliveries: NotificationDeliveries,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async deliver(message: NotificationMessage): Promise<NotificationDelivery> {
    const { delivery } = await this.deliveries.record({
      id: message.notificationId,
      orderId: message.orderId,
      channel: message.channel,
      notificationId: message.notificationId,
      deliveredAt: this.now().toISOString(),
    });
    return delivery;
  }
}
