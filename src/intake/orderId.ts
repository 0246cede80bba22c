// Order ids. With an idempotency key the id is derived from it, so the order document IS the
// idempotency record: a retry finds it with a point read (orders are partitioned by /id) and it
// lives as long as the order, well over the 24 h the API promises.
import { createHash, randomUUID } from "node:crypto";

/**
 * A UUID-formatted SHA-256 of `${scope}\n${key}`: the first 16 bytes with the RFC 9562 version 8
 * (custom) and variant bits set. `scope` is the customer id for the HTTP API (keys are
 * per-customer) and "servicebus" for queue messages keyed by messageId.
 */
export function deriveOrderId(scope: string, key: string): string {
  const bytes = createHash("sha256").update(`${scope}\n${key}`, "utf8").digest().subarray(0, 16);
  bytes[6] = (bytes[6] & 0x0f) | 0x80;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function newOrderId(): string {
  return randomUUID();
}
