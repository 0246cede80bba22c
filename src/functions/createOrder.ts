// POST /api/orders: accept an order, write it, start its workflow, answer 202 + where to poll.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { getSettings } from "../config";
import { validateIdempotencyKey } from "../domain/validation";
import { readJsonBody } from "../http/body";
import { guard } from "../http/guard";
import { problem, problems } from "../http/problem";
import { accepted, json, statusUrl } from "../http/responses";
import { acceptOrder } from "../intake/acceptOrder";

export async function createOrder(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guard(context, { route: "POST /orders" }, async () => {
    const key = request.headers.get("idempotency-key") ?? undefined;
    const keyError = key === undefined ? undefined : validateIdempotencyKey(key);
    if (keyError) {
      return problem("invalidRequest", 400, `The Idempotency-Key header ${keyError}.`, {
        errors: [{ header: "Idempotency-Key", detail: keyError }],
      });
    }
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;

    const services = getServices();
    const result = await acceptOrder(
      body.value,
      { kind: "http", idempotencyKey: key },
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
  authLevel: "function",
  handler: createOrder,
});
