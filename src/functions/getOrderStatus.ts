// GET /api/orders/{orderId}/status: what clients poll after a 202 (see src/http/orderStatus.ts).
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { RIGHTS } from "../auth/rights";
import { guardOrder } from "../http/guard";
import { statusAnswer } from "../http/orderStatus";
import { json, statusUrl } from "../http/responses";
import { getInstance } from "../intake/instances";

export async function getOrderStatus(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guardOrder(
    request,
    context,
    "GET /orders/{id}/status",
    RIGHTS.readOrder,
    async (order) => {
      const orderId = order.id;
      const answer = statusAnswer(order, await getInstance(client, orderId));
      if (answer.done) return json(200, answer.body);
      const location = statusUrl(request, orderId);
      return json(
        202,
        { ...answer.body, statusQueryGetUri: location },
        { Location: location, "Retry-After": String(answer.retryAfterSeconds) },
      );
    },
  );
}

df.app.client.http("getOrderStatus", {
  methods: ["GET"],
  route: "orders/{orderId}/status",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: getOrderStatus,
});
