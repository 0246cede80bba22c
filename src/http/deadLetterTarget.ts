// The dead letter an operator call names ({queue}/{sequenceNumber} in the route) and the problems
// for one that does not exist, shared by the list, resubmit and discard routes.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { DEAD_LETTER_QUEUES } from "../operator/deadLetters";
import { readReason } from "./operatorBody";
import { problems } from "./problem";

export const unknownQueue = (queue: string) =>
  problems.notFound(
    `No dead-letter queue ${JSON.stringify(queue)}: it is one of ${DEAD_LETTER_QUEUES.join(", ")}.`,
  );

export const noMessage = (queue: string, sequenceNumber: string) =>
  problems.notFound(
    `No message ${sequenceNumber} in the dead-letter queue of ${queue} (already resubmitted or discarded?).`,
  );

/** The queue, sequence number and reason of a resubmit or discard, or the problem to send. */
export async function readDeadLetterAction(
  request: HttpRequest,
): Promise<
  | { ok: true; queue: string; sequenceNumber: string; reason: string }
  | { ok: false; response: HttpResponseInit }
> {
  const { queue = "", sequenceNumber = "" } = request.params;
  if (!DEAD_LETTER_QUEUES.includes(queue)) return { ok: false, response: unknownQueue(queue) };
  if (!/^\d{1,19}$/.test(sequenceNumber))
    return { ok: false, response: noMessage(queue, sequenceNumber) };
  const body = await readReason(request);
  if (!body.ok) return body;
  return { ok: true, queue, sequenceNumber, reason: body.reason };
}
