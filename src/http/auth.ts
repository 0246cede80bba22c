// Bearer tokens on the HTTP API (RFC 6750). Only the Authorization header counts: a client-sent
// x-ms-client-principal (App Service authentication's header) is never read, and neither is a
// token in the query string. Answers: no credentials → 401 `WWW-Authenticate: Bearer`; a bad
// token → 401 `error="invalid_token"`; a good token without the right → 403
// `error="insufficient_scope"`. Every body is problem+json naming what is missing; none echoes
// the token or carries order data.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { callerOf, needed, type Caller, type Right } from "../auth/rights";
import { InvalidTokenError, IssuerUnavailableError, TokenValidator } from "../auth/token";
import { readAuthConfig } from "../config";
import { problem, problems } from "./problem";

let validator: TokenValidator | undefined;

function getValidator(): TokenValidator {
  validator ??= new TokenValidator(readAuthConfig());
  return validator;
}

/** Forgets the validator and its caches (tests change AUTH_* settings). */
export function resetAuth(): void {
  validator = undefined;
}

const quote = (value: string) => value.replace(/["\\]/g, "");

export function unauthorized(reason?: string): HttpResponseInit {
  const challenge = reason
    ? `Bearer error="invalid_token", error_description="${quote(reason)}"`
    : "Bearer";
  return problem(
    "unauthorized",
    401,
    reason
      ? `The access token is not valid: ${reason}.`
      : "Send an access token for this API: Authorization: Bearer <token>.",
    {
      errors: [{ header: "Authorization", detail: reason ?? "is required" }],
      headers: { "WWW-Authenticate": challenge },
    },
  );
}

/** 403 for `r`; `refusal` when the token has the right but not for this (e.g. another customer). */
export function forbidden(r: Right, refusal?: { detail: string; needs: string }): HttpResponseInit {
  const { scopes, roles } = needed(r);
  const wanted =
    refusal?.needs ??
    [...scopes.map((s) => `the ${s} scope`), ...roles.map((role) => `the ${role} role`)].join(
      " or ",
    );
  const detail = refusal?.detail;
  const challenge = [
    `Bearer error="insufficient_scope"`,
    ...(scopes.length ? [`scope="${scopes.join(" ")}"`] : []),
  ].join(", ");
  return problem("forbidden", 403, detail ?? `To ${r.name} the token needs ${wanted}.`, {
    errors: [{ header: "Authorization", detail: `needs ${wanted}` }],
    headers: { "WWW-Authenticate": challenge },
  });
}

export type Authenticated =
  { ok: true; caller: Caller } | { ok: false; response: HttpResponseInit };

/** The caller named by the request's bearer token, or the 401/503 to answer. */
export async function authenticate(request: HttpRequest): Promise<Authenticated> {
  const header = request.headers.get("authorization");
  if (!header) return { ok: false, response: unauthorized() };
  const match = /^Bearer[ ]+([^ ]+)[ ]*$/i.exec(header);
  if (!match) {
    // Another scheme (Basic, a bare token): no credentials this API understands.
    return /^Bearer\b/i.test(header)
      ? { ok: false, response: unauthorized("the token is malformed") }
      : { ok: false, response: unauthorized() };
  }
  try {
    const claims = await getValidator().validate(match[1]!);
    return { ok: true, caller: callerOf(claims) };
  } catch (err) {
    if (err instanceof InvalidTokenError) return { ok: false, response: unauthorized(err.reason) };
    if (err instanceof IssuerUnavailableError) {
      return { ok: false, response: problems.unavailable(err.retryAfterSeconds) };
    }
    throw err;
  }
}
