// GET /api/operator/dead-letters/{queue}?limit=&continuationToken=: peeks (locks nothing) at the
// dead-letter subqueue of orders-inbound or notifications, oldest first, with the dead-letter
// reason and delivery count; bodies with card numbers masked.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { unknownQueue } from "../http/deadLetterTarget";
import { guardRoute } from "../http/guard";
import { pageBody, readPaging } from "../http/paging";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { DEAD_LETTER_QUEUES } from "../operator/deadLetters";
import { deadLetterView } from "../operator/views";

export async function listDeadLetters(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "GET /operator/dead-letters/{queue}";
  return guardRoute(request, context, route, RIGHTS.readFailures, async () => {
    const queue = request.params.queue ?? "";
    if (!DEAD_LETTER_QUEUES.includes(queue)) return unknownQueue(queue);
    const paging = readPaging(request);
    if (!paging.ok) return paging.response;
    if (paging.token !== undefined && !/^\d{1,19}$/.test(paging.token)) {
      return problems.invalid([
        { parameter: "continuationToken", detail: "is not a token returned by this API" },
      ]);
    }
    const page = await getServices().deadLetters.peek(queue, {
      limit: paging.limit,
      ...(paging.token ? { fromSequenceNumber: paging.token } : {}),
    });
    return json(200, pageBody(page.items.map(deadLetterView), page.continuationToken));
  });
}

app.http("listDeadLetters", {
  methods: ["GET"],
  route: "operator/dead-letters/{queue}",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listDeadLetters,
});
