// GET /api/orders/{orderId}/payments: the order's ledger entries (charges, declines, refunds), so
// a double charge would be visible to clients and tests.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { listForOrder } from "../http/guard";

export async function listOrderPayments(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return listForOrder(
    request,
    context,
    "GET /orders/{id}/payments",
    RIGHTS.readLedger,
    (orderId) => getServices().payments.list(orderId),
    (a, b) => a.createdAt.localeCompare(b.createdAt),
  );
}

app.http("listOrderPayments", {
  methods: ["GET"],
  route: "orders/{orderId}/payments",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listOrderPayments,
});
