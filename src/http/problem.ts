// RFC 9457 problem details: every error response of the API has this shape and the
// application/problem+json media type, so clients handle failures one way. `errors` names each
// field at fault: `pointer` (a JSON pointer into the body, "" = the body itself) or `parameter`
// (a query parameter) or `header`.
import type { HttpResponseInit } from "@azure/functions";
import type { FieldError, ParameterError } from "../domain/validation";

export const PROBLEM_CONTENT_TYPE = "application/problem+json";

export type ProblemError = FieldError | ParameterError | { header: string; detail: string };

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: ProblemError[];
}

// Problem types are stable URNs: clients may switch on them; titles stay the same per type.
export const PROBLEM_TYPES = {
  invalidRequest: { type: "urn:orders:problem:invalid-request", title: "The request is invalid" },
  malformedJson: { type: "urn:orders:problem:malformed-json", title: "The body is not valid JSON" },
  unsupportedMediaType: {
    type: "urn:orders:problem:unsupported-media-type",
    title: "The body must be JSON",
  },
  payloadTooLarge: { type: "urn:orders:problem:payload-too-large", title: "The body is too large" },
  unauthorized: {
    type: "urn:orders:problem:unauthorized",
    title: "A valid access token is required",
  },
  forbidden: { type: "urn:orders:problem:forbidden", title: "The token does not grant this" },
  notFound: { type: "urn:orders:problem:not-found", title: "Not found" },
  conflict: {
    type: "urn:orders:problem:conflict",
    title: "The order is not in a state that allows this",
  },
  idempotencyKeyReused: {
    type: "urn:orders:problem:idempotency-key-reused",
    title: "The Idempotency-Key was already used with a different request",
  },
  unavailable: { type: "urn:orders:problem:unavailable", title: "A dependency is unavailable" },
  internal: { type: "urn:orders:problem:internal", title: "Internal error" },
} as const;

export type ProblemKind = keyof typeof PROBLEM_TYPES;

export function problem(
  kind: ProblemKind,
  status: number,
  detail: string,
  extra: { errors?: ProblemError[]; instance?: string; headers?: Record<string, string> } = {},
): HttpResponseInit {
  const body: Problem = { ...PROBLEM_TYPES[kind], status, detail };
  if (extra.instance) body.instance = extra.instance;
  if (extra.errors && extra.errors.length > 0) body.errors = extra.errors;
  return {
    status,
    headers: { "Content-Type": PROBLEM_CONTENT_TYPE, ...extra.headers },
    body: JSON.stringify(body),
  };
}

export const problems = {
  invalid: (errors: ProblemError[], detail = "One or more fields are invalid; see errors.") =>
    problem("invalidRequest", 400, detail, { errors }),
  notFound: (detail: string) => problem("notFound", 404, detail),
  conflict: (detail: string) => problem("conflict", 409, detail),
  idempotencyKeyReused: () =>
    problem(
      "idempotencyKeyReused",
      422,
      "This Idempotency-Key was already used for a different request. Use a new key for a new order.",
      { errors: [{ header: "Idempotency-Key", detail: "already used for a different request" }] },
    ),
  unavailable: (retryAfterSeconds: number) =>
    problem(
      "unavailable",
      503,
      `A service the API depends on is unavailable or busy. It is safe to retry with the same Idempotency-Key after ${retryAfterSeconds} s.`,
      { headers: { "Retry-After": String(retryAfterSeconds) } },
    ),
  internal: () =>
    problem("internal", 500, "The request could not be completed. It is safe to retry."),
};
