// POST /api/operator/rejected-messages/{id}/resubmit { reason, order }: the operator's corrected
// order, paid with the card token stored at rejection time, through the same intake as
// orders-inbound and keyed by the original message id, so resubmitting twice is one order.
// Still invalid → 400 with the reasons (nothing written); no stored token, or discarded → 409.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { getSettings } from "../config";
import { isUuid, validateResubmit } from "../domain/validation";
import { readJsonBody } from "../http/body";
import { guardRoute } from "../http/guard";
import { problems } from "../http/problem";
import { json, statusUrl } from "../http/responses";
import { acceptOrder } from "../intake/acceptOrder";
import { actorOf, audit } from "../operator/audit";

export async function resubmitRejectedMessage(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "POST /operator/rejected-messages/{id}/resubmit";
  return guardRoute(request, context, route, RIGHTS.operate, async ({ caller }) => {
    const id = request.params.id ?? "";
    const services = getServices();
    const record = isUuid(id) ? await services.rejectedMessages.get(id.toLowerCase()) : undefined;
    if (!record) return problems.notFound(`No rejected message has the id ${id}.`);
    const body = await readJsonBody(request);
    if (!body.ok) return body.response;
    const parsed = validateResubmit(body.value);
    if (!parsed.ok) return problems.invalid(parsed.errors);
    if (record.state === "discarded") {
      return problems.conflict(
        `Rejected message ${record.id} was discarded; it cannot be resubmitted.`,
      );
    }
    if (!record.card) {
      return problems.conflict(
        `Rejected message ${record.id} has no valid card (nothing was tokenised); it can only be discarded.`,
      );
    }
    const result = await acceptOrder(
      parsed.value.order,
      { kind: "servicebus", messageId: record.messageId ?? record.id, payment: record.card },
      {
        client,
        orders: services.orders,
        gateway: services.gateway,
        settings: getSettings(),
        context,
      },
    );
    if (result.kind === "invalid") {
      // The pointers name fields of `order` in this body.
      return problems.invalid(
        result.errors.map((e) => ({ pointer: `/order${e.pointer}`, detail: e.detail })),
        "The corrected order is still invalid; see errors. Nothing was created.",
      );
    }
    if (result.kind === "conflict") {
      return problems.conflict(
        `This message's order id already belongs to order ${result.order.id} with different contents.`,
      );
    }
    const orderId = result.order.id;
    const at = new Date();
    if (record.state !== "resubmitted") {
      await services.rejectedMessages.resolve(record.id, "resubmitted", {
        by: actorOf(caller),
        at: at.toISOString(),
        reason: parsed.value.reason,
        orderId,
      });
    }
    await audit(
      caller,
      "resubmit",
      { kind: "rejected-message", id: record.id },
      parsed.value.reason,
      { orderId, outcome: result.kind },
      at,
    );
    return json(result.kind === "created" ? 201 : 200, {
      orderId,
      statusQueryUri: statusUrl(request, orderId),
    });
  });
}

df.app.client.http("resubmitRejectedMessage", {
  methods: ["POST"],
  route: "operator/rejected-messages/{id}/resubmit",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: resubmitRejectedMessage,
});
