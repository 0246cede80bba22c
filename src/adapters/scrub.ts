// Masks card-number-like values anywhere in an untrusted payload before it is stored (a rejected
// inbound message may well carry a full card number in `payment.cardNumber`).
import { redact } from "../observability/log";

export function scrubCardNumbers(value: unknown): unknown {
  if (typeof value === "string") return redact(value);
  if (typeof value === "number" && Number.isInteger(value) && Math.abs(value) >= 1e11) {
    return redact(String(value));
  }
  if (Array.isArray(value)) return value.map(scrubCardNumbers);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, inner]) => [key, scrubCardNumbers(inner)]),
    );
  }
  return value;
}
