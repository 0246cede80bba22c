// GET /api/orders/{orderId}/notifications: the notifications delivered for the order.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { listForOrder } from "../http/guard";

export async function listOrderNotifications(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return listForOrder(
    request,
    context,
    "GET /orders/{id}/notifications",
    RIGHTS.readLedger,
    (orderId) => getServices().notifications.list(orderId),
    (a, b) => a.deliveredAt.localeCompare(b.deliveredAt) || a.channel.localeCompare(b.channel),
  );
}

app.http("listOrderNotifications", {
  methods: ["GET"],
  route: "orders/{orderId}/notifications",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listOrderNotifications,
});
