// Response helpers shared by the HTTP functions: JSON bodies, the status URL clients poll, and
// the 202 "accepted, poll here" response. Only OUR URLs are ever handed to clients: the Durable
// management URLs carry the task hub's system key (`code=`) and stay with operators.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";

/** host.json extensions.http.routePrefix */
export const ROUTE_PREFIX = "api";

/**
 * Seconds a client should wait before polling again. Processing: 1, the smallest whole second
 * (Retry-After has no fractions): `npm run bench` measures accept→terminal p99 well under a
 * second at 50 orders/s, so one wait finds almost every order done; 0 would invite hot polling
 * that costs status reads and gains nothing a second later. Approval waits on a person: 30.
 */
export const RETRY_AFTER_SECONDS = { processing: 1, awaitingApproval: 30 } as const;

export function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HttpResponseInit {
  return {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

/** Absolute URL of GET /api/orders/{orderId}/status on the host that received `request`. */
export function statusUrl(request: HttpRequest, orderId: string): string {
  return new URL(`/${ROUTE_PREFIX}/orders/${encodeURIComponent(orderId)}/status`, request.url).href;
}

/** 202 with Location + Retry-After pointing at the status endpoint. */
export function accepted(
  request: HttpRequest,
  orderId: string,
  body: Record<string, unknown>,
  retryAfterSeconds: number = RETRY_AFTER_SECONDS.processing,
): HttpResponseInit {
  const location = statusUrl(request, orderId);
  return json(
    202,
    { ...body, statusQueryGetUri: location },
    { Location: location, "Retry-After": String(retryAfterSeconds) },
  );
}
