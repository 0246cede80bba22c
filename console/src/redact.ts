// Last line of defence before anything from the API is put on screen: values under keys that
// name tokens, card numbers, keys or secrets are replaced, and digit runs as long as a card
// number are masked. (The API already leaves these out; a console must not rely on that.)
const SECRET_KEY =
  /token|card(number)?$|cvv|cvc|pan$|secret|password|key$|fingerprint|authorization/i;
const CARD_DIGITS = /\b(?:\d[ -]?){12,19}\b/g;

export const HIDDEN = "[hidden]";

export function redact(value: unknown, depth = 0): unknown {
  if (depth > 20) return HIDDEN;
  if (typeof value === "string")
    return value.replace(CARD_DIGITS, (m) => `••••${m.replace(/\D/g, "").slice(-4)}`);
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([k, v]) => [
        k,
        SECRET_KEY.test(k) && k !== "last4" && k !== "brand" ? HIDDEN : redact(v, depth + 1),
      ]),
    );
  }
  return value;
}

export const pretty = (value: unknown): string => JSON.stringify(redact(value), null, 2);
