// GET /api/operator/orders/{orderId}/trace: the order's spans from the local host's OTLP receiver,
// or (in Azure) the Application Insights transaction-search link for its operation id.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { RIGHTS } from "../auth/rights";
import { guardOrder } from "../http/guard";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { orderTrace } from "../operator/trace";

export async function getOrderTrace(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "GET /operator/orders/{orderId}/trace";
  return guardOrder(request, context, route, RIGHTS.readHistory, async (order) => {
    const answer = await orderTrace(order);
    if (!answer) return problems.notFound(`No trace was recorded for order ${order.id}.`);
    return json(200, answer);
  });
}

app.http("getOrderTrace", {
  methods: ["GET"],
  route: "operator/orders/{orderId}/trace",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: getOrderTrace,
});
