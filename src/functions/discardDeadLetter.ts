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
import { readReason } from "../http/operatorBody";
import { json } from "../http/responses";
import { audit } from "../operator/audit";
import { DEAD_LETTER_QUEUES } from "../operator/deadLetters";
import { unknownQueue } from "./listDeadLetters";
import { noMessage } from "./resubmitDeadLetter";

export async function discardDeadLetter(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "POST /operator/dead-letters/{queue}/{sequenceNumber}/discard";
  return guardRoute(request, context, route, RIGHTS.operate, async ({ caller }) => {
    const { queue = "", sequenceNumber = "" } = request.params;
    if (!DEAD_LETTER_QUEUES.includes(queue)) return unknownQueue(queue);
    if (!/^\d{1,19}$/.test(sequenceNumber)) return noMessage(queue, sequenceNumber);
    const body = await readReason(request);
    if (!body.ok) return body.response;
    const settled = await getServices().deadLetters.settle(queue, sequenceNumber, async (m) => m);
    if (!settled) return noMessage(queue, sequenceNumber);
    const message = settled.result;
    await audit(
      caller,
      "discard",
      { kind: "dead-letter", id: `${queue}/${sequenceNumber}` },
      body.reason,
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
