// GET /api/orders?customerId=&status=&from=&to=&limit=&continuationToken=: one page of orders, newest first
// (from/to: created at or after from, before to).
// The store's continuation token is wrapped as src/http/paging.ts says. Callers see only what they may (src/auth/rights.ts listScope):
// a customer their own orders, with or without a filter; an operator everything.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS, listScope } from "../auth/rights";
import { validateListQuery } from "../domain/validation";
import { forbidden } from "../http/auth";
import { guardRoute } from "../http/guard";
import { badToken, decodeToken, encodeToken, fetchPage } from "../http/paging";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { orderView } from "../http/views";

export async function listOrders(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const right = RIGHTS.listOrders;
  return guardRoute(request, context, "GET /orders", right, async ({ caller, grants }) => {
    const query = validateListQuery(request.query);
    if (!query.ok) return problems.invalid(query.errors);
    const { continuationToken, ...filters } = query.value;
    const scope = listScope(caller, grants, filters.customerId);
    if (!scope.ok) return forbidden(right, scope);
    let storeToken: string | undefined;
    if (continuationToken !== undefined) {
      storeToken = decodeToken(continuationToken);
      if (storeToken === undefined) return badToken();
    }
    const fetched = await fetchPage(storeToken, () =>
      getServices().orders.list({
        ...filters,
        continuationToken: storeToken,
        ...(scope.visibleTo ? { visibleTo: scope.visibleTo } : {}),
      }),
    );
    if (!fetched.ok) return fetched.response;
    const page = fetched.page;
    return json(200, {
      items: page.items.map(orderView),
      continuationToken: page.continuationToken ? encodeToken(page.continuationToken) : null,
    });
  });
}

app.http("listOrders", {
  methods: ["GET"],
  route: "orders",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listOrders,
});
