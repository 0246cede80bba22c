// POST /api/orders/{orderId}/cancel (optional body { reason }): cancels an order that is still
// awaiting approval. Later the payment is under way and cancelling is a refund, not this.
// An operator's cancel is audited (a customer cancelling their own order is not an operator action).
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { CANCEL_EVENT } from "../domain/order";
import { RIGHTS, audited, decidedBy } from "../auth/rights";
import { validateCancel } from "../domain/validation";
import { readJsonBody } from "../http/body";
import { guardOrder } from "../http/guard";
import { problems } from "../http/problem";
import { raiseOrderEvent } from "../http/raiseOrderEvent";
import { audit, reasonOrNone } from "../operator/audit";

export async function cancelOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guardOrder(
    request,
    context,
    "POST /orders/{id}/cancel",
    RIGHTS.cancelOrder,
    async (order, auth) => {
      const body = await readJsonBody(request, { optional: true, emptyValue: {} });
      if (!body.ok) return body.response;
      const cancel = validateCancel(body.value);
      if (!cancel.ok) return problems.invalid(cancel.errors);
      const response = await raiseOrderEvent(request, client, context, order, {
        name: CANCEL_EVENT,
        data: { ...cancel.value, decidedBy: decidedBy(auth.caller, new Date()) },
        action: "cancelled",
      });
      if (response.status === 202 && audited(auth.grants)) {
        await audit(
          auth.caller,
          "cancel",
          { kind: "order", id: order.id },
          reasonOrNone(cancel.value.reason),
        );
      }
      return response;
    },
  );
}

df.app.client.http("cancelOrder", {
  methods: ["POST"],
  route: "orders/{orderId}/cancel",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: cancelOrder,
});
