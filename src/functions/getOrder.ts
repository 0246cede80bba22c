// GET /api/orders/{orderId}: the stored order plus the workflow's runtime and custom status.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { RIGHTS } from "../auth/rights";
import { guardOrder } from "../http/guard";
import { json } from "../http/responses";
import { orderView } from "../http/views";
import { getInstance } from "../intake/instances";

export async function getOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guardOrder(request, context, "GET /orders/{id}", RIGHTS.readOrder, async (order) => {
    const instance = await getInstance(client, order.id);
    return json(200, {
      ...orderView(order),
      runtimeStatus: instance ? String(instance.runtimeStatus) : null,
      customStatus: instance?.customStatus ?? null,
    });
  });
}

df.app.client.http("getOrder", {
  methods: ["GET"],
  route: "orders/{orderId}",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: getOrder,
});
