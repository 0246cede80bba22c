// POST /api/operator/dead-letters/{queue}/{sequenceNumber}/resubmit { reason }: an inbound order
// goes through the intake with its original message id (one order however often); a notification
// goes back to its queue (delivered once per notificationId). The dead-lettered message is removed
// only when that succeeded; otherwise it stays (400 invalid, 409 not resubmittable).
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { guardRoute } from "../http/guard";
import { noMessage, readDeadLetterAction } from "../http/deadLetterTarget";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { audit } from "../operator/audit";
import { NotResubmitted, resubmitDeadLetter } from "../operator/deadLetters";

export async function resubmitDeadLetterMessage(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "POST /operator/dead-letters/{queue}/{sequenceNumber}/resubmit";
  return guardRoute(request, context, route, RIGHTS.operate, async ({ caller }) => {
    const target = await readDeadLetterAction(request);
    if (!target.ok) return target.response;
    const { queue, sequenceNumber, reason } = target;
    let settled;
    try {
      settled = await getServices().deadLetters.settle(queue, sequenceNumber, (message) =>
        resubmitDeadLetter(queue, message, { client, context }).then((outcome) => ({
          outcome,
          messageId: message.messageId,
        })),
      );
    } catch (err) {
      if (!(err instanceof NotResubmitted)) throw err;
      if (err.outcome.kind === "invalid") {
        return problems.invalid(
          err.outcome.errors,
          "The message is not a valid order; it can only be discarded.",
        );
      }
      return problems.conflict(err.outcome.detail);
    }
    if (!settled) return noMessage(queue, sequenceNumber);
    const { outcome, messageId } = settled.result;
    const orderId =
      outcome.kind === "order"
        ? outcome.order.id
        : outcome.kind === "notification"
          ? outcome.orderId
          : undefined;
    await audit(
      caller,
      "resubmit",
      { kind: "dead-letter", id: `${queue}/${sequenceNumber}` },
      reason,
      {
        queue,
        ...(messageId ? { messageId } : {}),
        ...(orderId ? { orderId } : {}),
      },
    );
    return json(200, {
      queue,
      sequenceNumber,
      ...(messageId ? { messageId } : {}),
      ...(orderId ? { orderId } : {}),
    });
  });
}

df.app.client.http("resubmitDeadLetter", {
  methods: ["POST"],
  route: "operator/dead-letters/{queue}/{sequenceNumber}/resubmit",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: resubmitDeadLetterMessage,
});
