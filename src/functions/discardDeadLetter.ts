// POST /api/operator/dead-letters/{queue}/{sequenceNumber}/discard { reason }: removes the
// dead-lettered message; the audit entry keeps who, why and the (card-masked) body.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { scrubCardNumbers } from "../adapters/scrub";
import { RIGHTS } from "../auth/rights";
import { guardRoute } from "../http/guard";
import { noMessage, readDeadLetterAction } from "../http/deadLetterTarget";
import { json } from "../http/responses";
import { audit } from "../operator/audit";

export async function discardDeadLetter(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "POST /operator/dead-letters/{queue}/{sequenceNumber}/discard";
  return guardRoute(request, context, route, RIGHTS.operate, async ({ caller }) => {
    const target = await readDeadLetterAction(request);
    if (!target.ok) return target.response;
    const { queue, sequenceNumber, reason } = target;
    const settled = await getServices().deadLetters.settle(queue, sequenceNumber, async (m) => m);
    if (!settled) return noMessage(queue, sequenceNumber);
    const message = settled.result;
    await audit(
      caller,
      "discard",
      { kind: "dead-letter", id: `${queue}/${sequenceNumber}` },
      reason,
      {
        queue,
        ...(message.messageId ? { messageId: message.messageId } : {}),
        ...(message.deadLetterReason ? { deadLetterReason: message.deadLetterReason } : {}),
        body: scrubCardNumbers(message.body),
      },
    );
    return json(200, {
      queue,
      sequenceNumber,
      ...(message.messageId ? { messageId: message.messageId } : {}),
    });
  });
}

app.http("discardDeadLetter", {
  methods: ["POST"],
  route: "operator/dead-letters/{queue}/{sequenceNumber}/discard",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: discardDeadLetter,
});
