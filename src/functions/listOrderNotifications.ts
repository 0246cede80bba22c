// GET /api/orders/{orderId}/notifications: the notifications delivered for the order.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { guard, orderIdParam, orderNotFound } from "../http/guard";
import { json } from "../http/responses";

export async function listOrderNotifications(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const orderId = orderIdParam(request);
  return guard(
    context,
    { route: "GET /orders/{id}/notifications", orderId, instanceId: orderId },
    async () => {
      if (!orderId) return orderNotFound(undefined);
      const services = getServices();
      if (!(await services.orders.get(orderId))) return orderNotFound(orderId);
      const items = await services.notifications.list(orderId);
      items.sort(
        (a, b) => a.deliveredAt.localeCompare(b.deliveredAt) || a.channel.localeCompare(b.channel),
      );
      return json(200, { orderId, items });
    },
  );
}

app.http("listOrderNotifications", {
  methods: ["GET"],
  route: "orders/{orderId}/notifications",
  authLevel: "function",
  handler: listOrderNotifications,
});
