// What the operator API shows of stored records: card numbers were masked when stored, and a
// payment token never leaves the server (a rejected message shows only the card's brand and last
// four; resubmission uses the stored token).
import type { DeadLetteredMessage, RejectedMessage } from "../adapters/ports";
import { scrubCardNumbers } from "../adapters/scrub";

export function rejectedMessageView(r: RejectedMessage) {
  return {
    id: r.id,
    messageId: r.messageId ?? null,
    rejectedAt: r.rejectedAt,
    reasons: r.reasons.map((x) => ({ field: x.pointer, detail: x.detail })),
    body: scrubCardNumbers(r.body),
    card: r.card ? { brand: r.card.brand, last4: r.card.last4 } : null,
    state: r.state ?? "rejected",
    ...(r.resolution ? { resolution: r.resolution } : {}),
  };
}

export function deadLetterView(m: DeadLetteredMessage) {
  return {
    sequenceNumber: m.sequenceNumber,
    messageId: m.messageId ?? null,
    deadLetterReason: m.deadLetterReason ?? null,
    deadLetterErrorDescription: m.deadLetterErrorDescription ?? null,
    deliveryCount: m.deliveryCount ?? null,
    enqueuedAt: m.enqueuedAt ?? null,
    body: scrubCardNumbers(m.body),
  };
}
