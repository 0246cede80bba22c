// At rejection time: if the message's card number is valid, tokenise it with the gateway so an
// operator can resubmit the corrected order later without the card; only the token, brand and
// last four (and the gateway's non-reversible fingerprint, for the idempotency hash) are kept.
import type { PaymentGateway } from "../adapters/ports";
import type { PaymentMethodRef } from "../domain/order";
import { luhnValid } from "../domain/validation";

export async function tokeniseRejectedCard(
  body: unknown,
  gateway: PaymentGateway,
): Promise<PaymentMethodRef | undefined> {
  const payment = (body as { payment?: unknown } | null | undefined)?.payment;
  const raw = (payment as { cardNumber?: unknown } | null | undefined)?.cardNumber;
  if (typeof raw !== "string") return undefined;
  const digits = raw.replace(/[ -]/g, "");
  if (!/^\d{12,19}$/.test(digits) || !luhnValid(digits)) return undefined;
  return gateway.tokenize(digits);
}
