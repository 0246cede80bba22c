// The last line of every HTTP handler: an error becomes a logged problem response instead of the
// host's empty 500. A dependency that is down or throttling is 503 with Retry-After (clients and
// gateways back off); anything else is 500. Both are safe to retry: every write is idempotent.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { dependencyUnavailable } from "../adapters/errors";
import { getServices } from "../adapters/services";
import { canSee, grantsFor, type Caller, type Grant, type Right } from "../auth/rights";
import type { Order } from "../domain/order";
import { isUuid } from "../domain/validation";
import { logError, logInfo, type LogFields } from "../observability/log";
import { authenticate, forbidden } from "./auth";
import { problems } from "./problem";
import { json } from "./responses";

export async function guard(
  context: InvocationContext,
  fields: LogFields,
  work: () => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  try {
    const response = await work();
    logInfo(context, "http.response", { ...fields, status: response.status });
    return response;
  } catch (err) {
    const unavailable = dependencyUnavailable(err);
    if (unavailable) {
      logError(context, "http.dependency_unavailable", err, fields);
      return problems.unavailable(unavailable.retryAfterSeconds);
    }
    logError(context, "http.unhandled", err, fields);
    return problems.internal();
  }
}

/** The {orderId} route parameter when it can name an order (a UUID), lower-cased. */
function orderIdParam(request: HttpRequest): string | undefined {
  const id = request.params.orderId;
  return id && isUuid(id) ? id.toLowerCase() : undefined;
}

export const orderNotFound = (orderId: string | undefined) =>
  problems.notFound(
    orderId ? `Order ${orderId} does not exist.` : "No order has this id (order ids are UUIDs).",
  );

/** The caller and the grants that count for the route's right. */
export interface Authorized {
  caller: Caller;
  grants: ReadonlySet<Grant>;
}

/**
 * guard() for a route that needs `right`: the bearer token is checked first (before the body is
 * read), then whether it grants the right at all (403 otherwise); `work` gets the caller.
 */
export function guardRoute(
  request: HttpRequest,
  context: InvocationContext,
  route: string,
  right: Right,
  work: (auth: Authorized) => Promise<HttpResponseInit>,
  fields: LogFields = {},
): Promise<HttpResponseInit> {
  return guard(context, { route, ...fields }, async () => {
    const auth = await authenticate(request);
    if (!auth.ok) return auth.response;
    const grants = grantsFor(auth.caller, right);
    if (grants.size === 0) return forbidden(right);
    return work({ caller: auth.caller, grants });
  });
}

/**
 * guardRoute() for a route on one order (`{orderId}` in the path): an id that cannot name an
 * order, an unknown order and an order the caller may not see are all the same 404; otherwise
 * `work` gets the stored order, and every log entry carries its id.
 */
export function guardOrder(
  request: HttpRequest,
  context: InvocationContext,
  route: string,
  right: Right,
  work: (order: Order, auth: Authorized) => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  const orderId = orderIdParam(request);
  return guardRoute(
    request,
    context,
    route,
    right,
    async (auth) => {
      if (!orderId) return orderNotFound(undefined);
      const order = await getServices().orders.get(orderId);
      if (!order || !canSee(auth.caller, auth.grants, order)) return orderNotFound(orderId);
      return work(order, auth);
    },
    { orderId, instanceId: orderId },
  );
}

/**
 * GET of a list that belongs to one order (its payments, its deliveries): 404 unless the order
 * exists and the caller may see it, else `{ orderId, items }` in the order `compare` gives.
 */
export async function listForOrder<T>(
  request: HttpRequest,
  context: InvocationContext,
  route: string,
  right: Right,
  load: (orderId: string) => Promise<T[]>,
  compare: (a: T, b: T) => number,
): Promise<HttpResponseInit> {
  return guardOrder(request, context, route, right, async (order) => {
    const items = await load(order.id);
    return json(200, { orderId: order.id, items: items.sort(compare) });
  });
}
