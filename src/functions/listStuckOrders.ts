// GET /api/operator/stuck-orders?limit=&continuationToken=: orders held in a stage longer than
// its threshold (or Failed with the money not given back), the longest-held first, each with the
// actions the table (src/operator/actionTable.ts) allows now.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { RIGHTS } from "../auth/rights";
import { getSettings } from "../config";
import { guardRoute } from "../http/guard";
import { badToken, pageBody, readPaging } from "../http/paging";
import { json } from "../http/responses";
import { listStuck } from "../operator/stuckOrders";

export async function listStuckOrders(
  request: HttpRequest,
  client: df.DurableClient,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "GET /operator/stuck-orders";
  return guardRoute(request, context, route, RIGHTS.readFailures, async () => {
    const paging = readPaging(request);
    if (!paging.ok) return paging.response;
    if (paging.token !== undefined && Number.isNaN(Date.parse(paging.token))) return badToken();
    const page = await listStuck(client, getSettings(), {
      limit: paging.limit,
      ...(paging.token ? { after: paging.token } : {}),
    });
    return json(200, pageBody(page.items, page.next));
  });
}

df.app.client.http("listStuckOrders", {
  methods: ["GET"],
  route: "operator/stuck-orders",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listStuckOrders,
});
