// POST /api/orders/{orderId}/approval { approved, approver, reason }: the human decision for an
// order at or above the approval threshold.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { APPROVAL_EVENT } from "../domain/order";
import { validateApproval } from "../domain/validation";
import { readJsonBody } from "../http/body";
import { guardOrder } from "../http/guard";
import { problems } from "../http/problem";
import { raiseOrderEvent } from "../http/raiseOrderEvent";

export async function approveOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guardOrder(request, context, "POST /orders/{id}/approval", async (orderId) => {
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;
    const decision = validateApproval(body.value);
    if (!decision.ok) return problems.invalid(decision.errors);
    return raiseOrderEvent(request, client, context, orderId, {
      name: APPROVAL_EVENT,
      data: decision.value,
      action: decision.value.approved ? "approved" : "rejected",
    });
  });
}

df.app.client.http("approveOrder", {
  methods: ["POST"],
  route: "orders/{orderId}/approval",
  authLevel: "function",
  handler: approveOrder,
});
