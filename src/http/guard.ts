// The last line of every HTTP handler: an error becomes a logged problem response instead of the
// host's empty 500. A dependency that is down or throttling is 503 with Retry-After (clients and
// gateways back off); anything else is 500. Both are safe to retry: every write is idempotent.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { dependencyUnavailable } from "../adapters/errors";
import { getServices } from "../adapters/services";
import { isUuid } from "../domain/validation";
import { logError, logInfo, type LogFields } from "../observability/log";
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

/**
 * guard() for a route on one order (`{orderId}` in the path): an id that cannot name an order is
 * 404 at once; otherwise `work` gets the normalised id, and every log entry carries it.
 */
export function guardOrder(
  request: HttpRequest,
  context: InvocationContext,
  route: string,
  work: (orderId: string) => Promise<HttpResponseInit>,
): Promise<HttpResponseInit> {
  const orderId = orderIdParam(request);
  return guard(context, { route, orderId, instanceId: orderId }, async () =>
    orderId ? work(orderId) : orderNotFound(undefined),
  );
}

/**
 * GET of a list that belongs to one order (its payments, its deliveries): 404 unless the order
 * exists, else `{ orderId, items }` with the items in the order `compare` gives.
 */
export async function listForOrder<T>(
  request: HttpRequest,
  context: InvocationContext,
  route: string,
  load: (orderId: string) => Promise<T[]>,
  compare: (a: T, b: T) => number,
): Promise<HttpResponseInit> {
  return guardOrder(request, context, route, async (orderId) => {
    if (!(await getServices().orders.get(orderId))) return orderNotFound(orderId);
    const items = await load(orderId);
    return json(200, { orderId, items: items.sort(compare) });
  });
}
