// GET /api/operator/orders/{orderId}/history: the orchestration history (stages, activity results
// and failures with retries, timers, events), payment tokens removed. Operators, and approvers for
// the orders they may see.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { RIGHTS } from "../auth/rights";
import { guardOrder } from "../http/guard";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { getInstance } from "../intake/instances";
import { historyView } from "../operator/history";

export async function getOrderHistory(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "GET /operator/orders/{orderId}/history";
  return guardOrder(request, context, route, RIGHTS.readHistory, async (order) => {
    if (!(await getInstance(client, order.id))) {
      return problems.notFound(
        `Order ${order.id} has no orchestration history (not started, or purged after it finished).`,
      );
    }
    const status = await client.getStatus(order.id, {
      showHistory: true,
      showHistoryOutput: true,
      showInput: false,
    });
    return json(200, historyView(status));
  });
}

df.app.client.http("getOrderHistory", {
  methods: ["GET"],
  route: "operator/orders/{orderId}/history",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: getOrderHistory,
});
