// POST /api/orders/{orderId}/approval { approved, reason }: the human decision for an order at or
// above the approval threshold, attributed to the caller (decidedBy). The body's `approver` is
// deprecated and ignored. Nobody decides an order they placed.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { APPROVAL_EVENT } from "../domain/order";
import { RIGHTS, decidedBy, placedBy } from "../auth/rights";
import { validateApproval } from "../domain/validation";
import { forbidden } from "../http/auth";
import { readJsonBody } from "../http/body";
import { guardOrder } from "../http/guard";
import { problems } from "../http/problem";
import { raiseOrderEvent } from "../http/raiseOrderEvent";
import { audit, reasonOrNone } from "../operator/audit";

export async function approveOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const right = RIGHTS.decideOrder;
  return guardOrder(request, context, "POST /orders/{id}/approval", right, async (order, auth) => {
    if (placedBy(auth.caller, order)) {
      return forbidden(right, {
        detail: "Nobody approves or rejects an order they placed.",
        needs: "another approver",
      });
    }
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;
    const decision = validateApproval(body.value);
    if (!decision.ok) return problems.invalid(decision.errors);
    const by = decidedBy(auth.caller, new Date());
    const response = await raiseOrderEvent(request, client, context, order, {
      name: APPROVAL_EVENT,
      data: { ...decision.value, approver: by.name, decidedBy: by },
      action: decision.value.approved ? "approved" : "rejected",
    });
    if (response.status === 202) {
      const action = decision.value.approved ? "approve" : "reject";
      await audit(
        auth.caller,
        action,
        { kind: "order", id: order.id },
        reasonOrNone(decision.value.reason),
      );
    }
    return response;
  });
}

df.app.client.http("approveOrder", {
  methods: ["POST"],
  route: "orders/{orderId}/approval",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: approveOrder,
});
