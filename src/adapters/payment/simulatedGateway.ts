// The built-in simulated payment gateway. Magic cards pick the scenario:
//   4242424242424242 approves            4000000000000002 declines (card_declined)
//   4000000000009995 insufficient_funds  4000000000000119 fails transiently twice per order, then approves
//   4000000000000259 charge approves but capture fails for good (exercises the refund)
//   4000000000000341 the gateway is unavailable for this card: every charge fails transiently
//                    (exercises retries exhausted → PaymentFailed)
// Any other Luhn-valid card approves. The token carries the scenario (`tok_sim_<scenario>_<hex>`),
// so the card number is dropped at tokenisation and never stored. Charges, declines and refunds
// are written to the payments ledger under deterministic ids (`charge:<orderId>` ...), which makes
// every call idempotent per order across retries and crashes, and a double charge visible.
import { createHmac, randomBytes } from "node:crypto";
import type { PaymentMethodRef } from "../../domain/order";
import type { ChargeResult, LedgerEntry, PaymentGateway, PaymentsLedger } from "../ports";
import { CaptureFailedError, TransientGatewayError } from "../errors";
import { cardBrand, luhnValid } from "./cards";

export { CaptureFailedError, TransientGatewayError };

export const SCENARIOS = [
  "approve",
  "decline",
  "insufficient-funds",
  "transient",
  "capture-fails",
  "unavailable",
] as const;
export type Scenario = (typeof SCENARIOS)[number];

export const MAGIC_CARDS: Record<string, Scenario> = {
  "4242424242424242": "approve",
  "4000000000000002": "decline",
  "4000000000009995": "insufficient-funds",
  "4000000000000119": "transient",
  "4000000000000259": "capture-fails",
  "4000000000000341": "unavailable",
};

/** How many attempts per order fail transiently for the `transient` card. */
export const TRANSIENT_FAILURES = 2;

export class InvalidCardError extends Error {
  constructor() {
    super("The card number is not valid");
    this.name = "InvalidCardError";
  }
}

// A real gateway keys its fingerprints with its own secret. The simulation only ever sees test
// cards, so a fixed key is enough to make the fingerprint stable across processes.
const FINGERPRINT_KEY = "simulated-gateway-fingerprint-v1";

const TOKEN = /^tok_sim_([a-z-]+)_[0-9a-f]{32}$/;
const CHARGE_ID = /^ch_sim_([a-z-]+)_(.+)$/;

export function scenarioOfToken(token: string): Scenario | undefined {
  const scenario = TOKEN.exec(token)?.[1];
  return (SCENARIOS as readonly string[]).includes(scenario ?? "")
    ? (scenario as Scenario)
    : undefined;
}

export interface SimulatedGatewayOptions {
  ledger: PaymentsLedger;
  now?: () => Date;
}

export class SimulatedGateway implements PaymentGateway {
  readonly #ledger: PaymentsLedger;
  readonly #now: () => Date;
  /** Transient attempts seen per order (per process: enough for a simulation). */
  readonly #attempts = new Map<string, number>();

  constructor(options: SimulatedGatewayOptions) {
    this.#ledger = options.ledger;
    this.#now = options.now ?? (() => new Date());
  }

  async tokenize(cardNumber: string): Promise<PaymentMethodRef> {
    const digits = cardNumber.replace(/[ -]/g, "");
    if (!luhnValid(digits)) throw new InvalidCardError();
    const scenario = MAGIC_CARDS[digits] ?? "approve";
    return {
      token: `tok_sim_${scenario}_${randomBytes(16).toString("hex")}`,
      brand: cardBrand(digits),
      last4: digits.slice(-4),
      fingerprint: `fp_sim_${createHmac("sha256", FINGERPRINT_KEY).update(digits).digest("base64url").slice(0, 32)}`,
    };
  }

  async charge(req: {
    idempotencyKey: string;
    token: string;
    amount: number;
    currency: string;
  }): Promise<ChargeResult> {
    const orderId = req.idempotencyKey;
    const scenario = scenarioOfToken(req.token);
    // Every other outcome follows from the order's own token and amount, and its ledger write is
    // a create keyed by the order that answers a repeat with the first entry. Only the scenarios
    // that fail some attempts must look for an earlier attempt's result first.
    if (scenario === "transient" || scenario === "unavailable") {
      const previous = await this.#previousCharge(orderId);
      if (previous) return previous;
    }

    if (!scenario) return this.#decline(orderId, req, "invalid_token");
    if (!Number.isSafeInteger(req.amount) || req.amount <= 0) {
      return this.#decline(orderId, req, "invalid_amount");
    }
    if (scenario === "decline") return this.#decline(orderId, req, "card_declined");
    if (scenario === "insufficient-funds") return this.#decline(orderId, req, "insufficient_funds");
    if (scenario === "unavailable") {
      throw new TransientGatewayError("Gateway unavailable (simulated)");
    }
    if (scenario === "transient") {
      const attempt = (this.#attempts.get(orderId) ?? 0) + 1;
      this.#attempts.set(orderId, attempt);
      if (attempt <= TRANSIENT_FAILURES) {
        throw new TransientGatewayError(`Gateway timeout (simulated, attempt ${attempt})`);
      }
    }
    const chargeId = `ch_sim_${scenario}_${orderId}`;
    const { entry } = await this.#ledger.record(
      this.#entry(`charge:${orderId}`, orderId, "charge", req.amount, req.currency, chargeId),
    );
    // A concurrent attempt may have written first: the ledger's entry is the answer.
    return this.#resultOf(entry) as ChargeResult;
  }

  async capture(req: { chargeId: string; idempotencyKey: string }): Promise<void> {
    const charge = await this.#ledger.get(req.idempotencyKey, `charge:${req.idempotencyKey}`);
    if (!charge || charge.reference !== req.chargeId) {
      throw new CaptureFailedError(req.chargeId);
    }
    if (CHARGE_ID.exec(req.chargeId)?.[1] === "capture-fails") {
      throw new CaptureFailedError(req.chargeId);
    }
  }

  async refund(req: {
    idempotencyKey: string;
    chargeId: string;
    amount: number;
    currency: string;
    reason: string;
  }): Promise<{ refundId: string }> {
    const orderId = req.idempotencyKey;
    const charge = await this.#ledger.get(orderId, `charge:${orderId}`);
    if (!charge || charge.reference !== req.chargeId) {
      throw new Error(`No charge ${req.chargeId} to refund for order ${orderId}`);
    }
    if (req.amount > charge.amount || req.amount <= 0 || req.currency !== charge.currency) {
      throw new Error(`Refund of ${req.amount} ${req.currency} does not match charge ${charge.id}`);
    }
    const { entry } = await this.#ledger.record(
      this.#entry(
        `refund:${orderId}`,
        orderId,
        "refund",
        req.amount,
        req.currency,
        `re_sim_${orderId}`,
      ),
    );
    return { refundId: entry.reference };
  }

  async #previousCharge(orderId: string): Promise<ChargeResult | undefined> {
    const charge = await this.#ledger.get(orderId, `charge:${orderId}`);
    if (charge) return this.#resultOf(charge);
    const decline = await this.#ledger.get(orderId, `decline:${orderId}`);
    return decline ? this.#resultOf(decline) : undefined;
  }

  async #decline(
    orderId: string,
    req: { amount: number; currency: string },
    reason: string,
  ): Promise<ChargeResult> {
    const { entry } = await this.#ledger.record(
      this.#entry(`decline:${orderId}`, orderId, "decline", req.amount, req.currency, reason),
    );
    return this.#resultOf(entry) as ChargeResult;
  }

  #resultOf(entry: LedgerEntry): ChargeResult | undefined {
    if (entry.kind === "charge") {
      return {
        outcome: "approved",
        chargeId: entry.reference,
        amount: entry.amount,
        currency: entry.currency,
      };
    }
    if (entry.kind === "decline") return { outcome: "declined", reason: entry.reference };
    return undefined;
  }

  #entry(
    id: string,
    orderId: string,
    kind: LedgerEntry["kind"],
    amount: number,
    currency: string,
    reference: string,
  ): LedgerEntry {
    return { id, orderId, kind, amount, currency, reference, createdAt: this.#now().toISOString() };
  }
}
