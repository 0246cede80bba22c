// GET /api/orders/{orderId}/payments: the order's ledger entries (charges, declines, refunds), so
// a double charge would be visible to clients and tests.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { guard, orderIdParam, orderNotFound } from "../http/guard";
import { json } from "../http/responses";

export async function listOrderPayments(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const orderId = orderIdParam(request);
  return guard(
    context,
    { route: "GET /orders/{id}/payments", orderId, instanceId: orderId },
    async () => {
      if (!orderId) return orderNotFound(undefined);
      const services = getServices();
      if (!(await services.orders.get(orderId))) return orderNotFound(orderId);
      const items = await services.payments.list(orderId);
      items.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
      return json(200, { orderId, items });
    },
  );
}

app.http("listOrderPayments", {
  methods: ["GET"],
  route: "orders/{orderId}/payments",
  authLevel: "function",
  handler: listOrderPayments,
});
