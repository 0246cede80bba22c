// POST /api/operator/orders/{orderId}/actions/{action} { reason }: start, resume, rewind, cancel
// or refund a stuck order, if the action table allows it at the order's stage and runtime status
// now (409 naming both otherwise). The reason is recorded on the order and in the audit log.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { RIGHTS } from "../auth/rights";
import { getSettings } from "../config";
import { guardOrder } from "../http/guard";
import { readReason } from "../http/operatorBody";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { STUCK_ACTIONS, type StuckAction } from "../operator/actionTable";
import { actorOf, audit } from "../operator/audit";
import { ActionRefused, takeAction } from "../operator/stuckOrders";

export async function actOnOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "POST /operator/orders/{orderId}/actions/{action}";
  return guardOrder(request, context, route, RIGHTS.operate, async (order, { caller }) => {
    const action = request.params.action ?? "";
    if (!(STUCK_ACTIONS as readonly string[]).includes(action)) {
      return problems.notFound(
        `No action ${JSON.stringify(action)}: it is one of ${STUCK_ACTIONS.join(", ")}.`,
      );
    }
    const body = await readReason(request);
    if (!body.ok) return body.response;
    const now = new Date();
    let result;
    try {
      result = await takeAction(
        client,
        getSettings(),
        order,
        action as StuckAction,
        actorOf(caller),
        body.reason,
        now,
      );
    } catch (err) {
      if (err instanceof ActionRefused) return problems.conflict(err.message);
      throw err;
    }
    await audit(
      caller,
      action,
      { kind: "order", id: order.id },
      body.reason,
      {
        stage: order.status,
        status: result.status,
        ...(result.refundId ? { refundId: result.refundId } : {}),
      },
      now,
    );
    return json(200, { orderId: result.orderId, action: result.action, status: result.status });
  });
}

df.app.client.http("actOnOrder", {
  methods: ["POST"],
  route: "operator/orders/{orderId}/actions/{action}",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: actOnOrder,
});
