// POST /api/operator/rejected-messages/{id}/discard { reason }: the message stays, marked
// discarded with who and why; a redelivery of it no longer reopens it.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { isUuid } from "../domain/validation";
import { guardRoute } from "../http/guard";
import { readReason } from "../http/operatorBody";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { actorOf, audit } from "../operator/audit";
import { rejectedMessageView } from "../operator/views";

export async function discardRejectedMessage(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "POST /operator/rejected-messages/{id}/discard";
  return guardRoute(request, context, route, RIGHTS.operate, async ({ caller }) => {
    const id = request.params.id ?? "";
    const services = getServices();
    const record = isUuid(id) ? await services.rejectedMessages.get(id.toLowerCase()) : undefined;
    if (!record) return problems.notFound(`No rejected message has the id ${id}.`);
    const body = await readReason(request);
    if (!body.ok) return body.response;
    if (record.state === "resubmitted") {
      return problems.conflict(
        `Rejected message ${record.id} was resubmitted as order ${record.resolution?.orderId}; it cannot be discarded.`,
      );
    }
    if (record.state === "discarded") return json(200, rejectedMessageView(record));
    const at = new Date();
    const resolved = await services.rejectedMessages.resolve(record.id, "discarded", {
      by: actorOf(caller),
      at: at.toISOString(),
      reason: body.reason,
    });
    await audit(
      caller,
      "discard",
      { kind: "rejected-message", id: record.id },
      body.reason,
      undefined,
      at,
    );
    return json(200, rejectedMessageView(resolved));
  });
}

app.http("discardRejectedMessage", {
  methods: ["POST"],
  route: "operator/rejected-messages/{id}/discard",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: discardRejectedMessage,
});
