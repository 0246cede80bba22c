// GET /api/operator/order-stats?from=&to=: counts per status, outcomes per minute and
// accept→finish latency per minute for orders created in [from, to) (default: the last hour;
// at most 24 hours).
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import type { ParameterError } from "../domain/validation";
import { guardRoute } from "../http/guard";
import { problems } from "../http/problem";
import { json } from "../http/responses";
import { orderStats } from "../operator/orderStats";

const HOUR_MS = 60 * 60 * 1000;
const MAX_RANGE_MS = 24 * HOUR_MS;

export async function getOrderStats(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const route = "GET /operator/order-stats";
  return guardRoute(request, context, route, RIGHTS.readOrderStats, async () => {
    const errors: ParameterError[] = [];
    const time = (name: string, fallback: number) => {
      const text = request.query.get(name);
      if (text === null || text === "") return fallback;
      const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
      if (Number.isNaN(ms))
        errors.push({ parameter: name, detail: "must be an ISO 8601 date-time" });
      return ms;
    };
    const to = time("to", Date.now());
    const from = time("from", to - HOUR_MS);
    if (!errors.length && !(from < to && to - from <= MAX_RANGE_MS)) {
      errors.push({ parameter: "from", detail: "must be before to, at most 24 hours earlier" });
    }
    if (errors.length) return problems.invalid(errors);
    const rows = await getServices().orders.listCreated({
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
    });
    return json(200, {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      ...orderStats(rows),
    });
  });
}

app.http("getOrderStats", {
  methods: ["GET"],
  route: "operator/order-stats",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: getOrderStats,
});
