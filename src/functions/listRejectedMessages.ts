// GET /api/operator/rejected-messages?state=&limit=&continuationToken=: invalid orders-inbound
// messages, newest first, with their reasons and whether they can be resubmitted (card tokenised).
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import type { RejectedState } from "../adapters/ports";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { guardRoute } from "../http/guard";
import { fetchPage, pageBody, readPaging } from "../http/paging";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { rejectedMessageView } from "../operator/views";

const STATES: readonly RejectedState[] = ["rejected", "resubmitted", "discarded"];

export async function listRejectedMessages(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "GET /operator/rejected-messages";
  return guardRoute(request, context, route, RIGHTS.readFailures, async () => {
    const paging = readPaging(request);
    if (!paging.ok) return paging.response;
    const state = request.query.get("state");
    if (state !== null && !(STATES as readonly string[]).includes(state)) {
      return problems.invalid([
        { parameter: "state", detail: `must be one of ${STATES.join(", ")}` },
      ]);
    }
    const fetched = await fetchPage(paging.token, () =>
      getServices().rejectedMessages.list({
        limit: paging.limit,
        ...(state ? { state: state as RejectedState } : {}),
        ...(paging.token ? { continuationToken: paging.token } : {}),
      }),
    );
    if (!fetched.ok) return fetched.response;
    const page = fetched.page;
    return json(200, pageBody(page.items.map(rejectedMessageView), page.continuationToken));
  });
}

app.http("listRejectedMessages", {
  methods: ["GET"],
  route: "operator/rejected-messages",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listRejectedMessages,
});
