// POST /api/orders: accept an order, write it, start its workflow, answer 202 + where to poll.
// A customer orders for themselves only; an application with Orders.Submit for any customer. The
// creator is recorded on the order, and a replay of its Idempotency-Key by anyone else is a 422.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { RIGHTS, creatorFor } from "../auth/rights";
import { getSettings } from "../config";
import { validateIdempotencyKey } from "../domain/validation";
import { readJsonBody } from "../http/body";
import { forbidden } from "../http/auth";
import { guardRoute } from "../http/guard";
import { problem, problems } from "../http/problem";
import { accepted, json, statusUrl } from "../http/responses";
import { acceptOrder } from "../intake/acceptOrder";

export async function createOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const right = RIGHTS.createOrder;
  return guardRoute(request, context, "POST /orders", right, async ({ caller }) => {
    const key = request.headers.get("idempotency-key") ?? undefined;
    const keyError = key === undefined ? undefined : validateIdempotencyKey(key);
    if (keyError) {
      return problem("invalidRequest", 400, `The Idempotency-Key header ${keyError}.`, {
        errors: [{ header: "Idempotency-Key", detail: keyError }],
      });
    }
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;

    // Who creates it depends on the body's customerId (validated with the rest by acceptOrder).
    const customerId = (body.value as { customerId?: unknown } | null)?.customerId;
    const creator = typeof customerId === "string" ? creatorFor(caller, customerId) : undefined;
    if (creator && !creator.ok) return forbidden(right, creator);

    const services = getServices();
    const result = await acceptOrder(
      body.value,
      { kind: "http", idempotencyKey: key, createdBy: creator?.createdBy },
      {
        client,
        orders: services.orders,
        gateway: services.gateway,
        settings: getSettings(),
        context,
      },
    );
    switch (result.kind) {
      case "invalid":
        return problems.invalid(result.errors);
      case "conflict":
        return problems.idempotencyKeyReused();
      case "created":
        return accepted(request, result.order.id, {
          orderId: result.order.id,
          status: result.order.status,
        });
      case "existing": {
        // A replay of an accepted request: same order, 200, and still where to poll.
        const location = statusUrl(request, result.order.id);
        return json(
          200,
          { orderId: result.order.id, status: result.order.status, statusQueryGetUri: location },
          { Location: location },
        );
      }
    }
  });
}

df.app.client.http("createOrder", {
  methods: ["POST"],
  route: "orders",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: createOrder,
});
