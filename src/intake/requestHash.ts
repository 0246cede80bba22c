// The idempotency fingerprint of an order request: SHA-256 over canonical JSON (keys sorted at
// every level, arrays in order) of the validated request with the card number replaced by the
// gateway's card fingerprint. Same key + same hash = the same order; same key + other hash = 422.
import { createHash } from "node:crypto";
import type { NewOrderRequest } from "../domain/order";

/** JSON with object keys sorted recursively (RFC 8785 ordering for the values we hash). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export function requestHash(
  request: NewOrderRequest | Omit<NewOrderRequest, "payment">,
  cardFingerprint: string,
): string {
  const { payment: _card, ...rest } = request as Partial<NewOrderRequest>;
  const canonical = canonicalJson({ ...rest, payment: { fingerprint: cardFingerprint } });
  return createHash("sha256").update(canonical, "utf8").digest("hex");
}
