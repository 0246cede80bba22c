// Paged lists: `limit` (1..100) and an opaque `continuationToken`. The store's token is wrapped in
// a small envelope and base64url-encoded, so clients treat it as opaque, can put it in a query
// string as is, and a token we did not issue is a 400 before it reaches the store.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import type { ParameterError } from "../domain/validation";
import { problems } from "./problem";

export const encodeToken = (token: string) =>
  Buffer.from(JSON.stringify({ v: 1, c: token }), "utf8").toString("base64url");

export function decodeToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  try {
    const envelope = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    const { v, c } = (envelope ?? {}) as { v?: unknown; c?: unknown };
    return v === 1 && typeof c === "string" && c.length > 0 ? c : undefined;
  } catch {
    return undefined;
  }
}

export const badToken = () =>
  problems.invalid([
    { parameter: "continuationToken", detail: "is not a token returned by this API" },
  ]);

export const PAGE_LIMIT = { min: 1, max: 100, default: 50 } as const;

/** `limit` and the decoded `continuationToken` of an operator list, or the 400 to send. */
export function readPaging(
  request: HttpRequest,
): { ok: true; limit: number; token?: string } | { ok: false; response: HttpResponseInit } {
  const errors: ParameterError[] = [];
  let limit: number = PAGE_LIMIT.default;
  const text = request.query.get("limit");
  if (text !== null) {
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < PAGE_LIMIT.min || n > PAGE_LIMIT.max) {
      errors.push({
        parameter: "limit",
        detail: `must be a whole number from ${PAGE_LIMIT.min} to ${PAGE_LIMIT.max}`,
      });
    } else limit = n;
  }
  if (errors.length) return { ok: false, response: problems.invalid(errors) };
  const raw = request.query.get("continuationToken");
  if (raw === null || raw === "") return { ok: true, limit };
  const token = decodeToken(raw);
  return token === undefined ? { ok: false, response: badToken() } : { ok: true, limit, token };
}

/**
 * Runs a store query that resumes from `token`: a token that decodes but that the store refuses
 * (Cosmos answers 400) is the caller's bad input, a 400 naming the parameter, not a 500.
 */
export async function fetchPage<T>(
  token: string | undefined,
  query: () => Promise<T>,
): Promise<{ ok: true; page: T } | { ok: false; response: HttpResponseInit }> {
  try {
    return { ok: true, page: await query() };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (token !== undefined && (code === 400 || /continuation/i.test(String(err)))) {
      return { ok: false, response: badToken() };
    }
    throw err;
  }
}

/** The JSON body of one page. */
export function pageBody<T>(items: T[], storeToken: string | undefined) {
  return { items, continuationToken: storeToken ? encodeToken(storeToken) : null };
}
