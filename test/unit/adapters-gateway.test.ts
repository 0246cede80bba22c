import {
  CaptureFailedError,
  InvalidCardError,
  MAGIC_CARDS,
  SimulatedGateway,
  TransientGatewayError,
  scenarioOfToken,
} from "../../src/adapters/payment/simulatedGateway";
import { luhnValid, cardBrand } from "../../src/adapters/payment/cards";
import { InMemoryPaymentsLedger } from "../fakes";

const ORDER = "6f1c2a9e-1111-4222-8333-444455556666";

function setup() {
  const ledger = new InMemoryPaymentsLedger();
  const gateway = new SimulatedGateway({ ledger, now: () => new Date("2024-01-01T00:00:00Z") });
  const charge = async (card: string, orderId = ORDER, amount = 3998) => {
    const ref = await gateway.tokenize(card);
    return {
      ref,
      result: await gateway.charge({
        idempotencyKey: orderId,
        token: ref.token,
        amount,
        currency: "USD",
      }),
    };
  };
  return { ledger, gateway, charge };
}

describe("card helpers", () => {
  it.each(Object.keys(MAGIC_CARDS))("magic card %s is Luhn-valid", (card) =>
    expect(luhnValid(card)).toBe(true),
  );
  it.each(["4242424242424241", "1234", "42424242424242424242", "4242x42424242424"])(
    "%s is not a valid card number",
    (card) => expect(luhnValid(card)).toBe(false),
  );
  it.each([
    ["4242424242424242", "visa"],
    ["5555555555554444", "mastercard"],
    ["2223003122003222", "mastercard"],
    ["378282246310005", "amex"],
    ["6011111111111117", "discover"],
    ["3056930009020004", "unknown"],
  ])("%s is %s", (card, brand) => expect(cardBrand(card)).toBe(brand));
});

describe("SimulatedGateway", () => {
  it("tokenizes without keeping the number: scenario token, brand, last4, stable fingerprint", async () => {
    const { gateway } = setup();
    const a = await gateway.tokenize("4242 4242 4242 4242");
    const b = await gateway.tokenize("4242424242424242");
    const other = await gateway.tokenize("5555555555554444");
    expect(a).toMatchObject({ brand: "visa", last4: "4242" });
    expect(a.token).toMatch(/^tok_sim_approve_[0-9a-f]{32}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(other.fingerprint).not.toBe(a.fingerprint);
    expect(JSON.stringify([a, b])).not.toContain("4242424242424242");
    await expect(gateway.tokenize("4242424242424241")).rejects.toThrow(InvalidCardError);
  });

  it("approves 4242… once, however often it is asked, with one ledger entry", async () => {
    const { ledger, gateway, charge } = setup();
    const { ref, result } = await charge("4242424242424242");
    expect(result).toEqual({
      outcome: "approved",
      chargeId: `ch_sim_approve_${ORDER}`,
      amount: 3998,
      currency: "USD",
    });
    const again = await gateway.charge({
      idempotencyKey: ORDER,
      token: ref.token,
      amount: 3998,
      currency: "USD",
    });
    expect(again).toEqual(result);
    expect(await ledger.list(ORDER)).toEqual([
      {
        id: `charge:${ORDER}`,
        orderId: ORDER,
        kind: "charge",
        amount: 3998,
        currency: "USD",
        reference: result.outcome === "approved" ? result.chargeId : "",
        createdAt: "2024-01-01T00:00:00.000Z",
      },
    ]);
  });

  it.each([
    ["4000000000000002", "card_declined"],
    ["4000000000009995", "insufficient_funds"],
  ])("declines %s with %s and records the decline", async (card, reason) => {
    const { ledger, charge } = setup();
    expect((await charge(card)).result).toEqual({ outcome: "declined", reason });
    expect((await ledger.list(ORDER)).map((e) => [e.id, e.kind, e.reference])).toEqual([
      [`decline:${ORDER}`, "decline", reason],
    ]);
  });

  it("fails 4000000000000119 transiently twice per order, then approves", async () => {
    const { gateway, ledger } = setup();
    const ref = await gateway.tokenize("4000000000000119");
    const req = { idempotencyKey: ORDER, token: ref.token, amount: 100, currency: "EUR" };
    await expect(gateway.charge(req)).rejects.toThrow(TransientGatewayError);
    await expect(gateway.charge(req)).rejects.toThrow(TransientGatewayError);
    expect(await ledger.list(ORDER)).toEqual([]);
    expect(await gateway.charge(req)).toMatchObject({ outcome: "approved" });
    const other = { ...req, idempotencyKey: "other-order" };
    await expect(gateway.charge(other)).rejects.toThrow(TransientGatewayError);
  });

  it("fails every charge for 4000000000000341 transiently and writes nothing", async () => {
    const { gateway, ledger } = setup();
    const ref = await gateway.tokenize("4000000000000341");
    const req = { idempotencyKey: ORDER, token: ref.token, amount: 100, currency: "EUR" };
    for (let attempt = 0; attempt < 6; attempt++) {
      await expect(gateway.charge(req)).rejects.toThrow(TransientGatewayError);
    }
    expect(await ledger.list(ORDER)).toEqual([]);
  });

  it("captures normal charges, refuses capture for 4000000000000259, and refunds idempotently", async () => {
    const { gateway, ledger, charge } = setup();
    const ok = await charge("4242424242424242", "order-ok");
    if (ok.result.outcome !== "approved") throw new Error("expected approval");
    await expect(
      gateway.capture({ chargeId: ok.result.chargeId, idempotencyKey: "order-ok" }),
    ).resolves.toBeUndefined();

    const bad = await charge("4000000000000259", "order-bad", 5000);
    if (bad.result.outcome !== "approved") throw new Error("expected approval");
    await expect(
      gateway.capture({ chargeId: bad.result.chargeId, idempotencyKey: "order-bad" }),
    ).rejects.toThrow(CaptureFailedError);

    const refundReq = {
      idempotencyKey: "order-bad",
      chargeId: bad.result.chargeId,
      amount: 5000,
      currency: "USD",
      reason: "capture failed",
    };
    const first = await gateway.refund(refundReq);
    const second = await gateway.refund(refundReq);
    expect(second).toEqual(first);
    expect((await ledger.list("order-bad")).map((e) => e.kind)).toEqual(["charge", "refund"]);
    expect(ledger.conflicts).toBe(1);
  });

  it("refuses to refund what was never charged or more than was charged", async () => {
    const { gateway, charge } = setup();
    await expect(
      gateway.refund({
        idempotencyKey: "nope",
        chargeId: "ch_x",
        amount: 1,
        currency: "USD",
        reason: "r",
      }),
    ).rejects.toThrow(/No charge/);
    const { result } = await charge("4242424242424242", "o2", 100);
    if (result.outcome !== "approved") throw new Error("expected approval");
    await expect(
      gateway.refund({
        idempotencyKey: "o2",
        chargeId: result.chargeId,
        amount: 101,
        currency: "USD",
        reason: "r",
      }),
    ).rejects.toThrow(/does not match/);
  });

  it("declines an unknown token instead of charging it", async () => {
    const { gateway } = setup();
    expect(scenarioOfToken("tok_live_abc")).toBeUndefined();
    expect(
      await gateway.charge({
        idempotencyKey: ORDER,
        token: "tok_live_abc",
        amount: 1,
        currency: "USD",
      }),
    ).toEqual({ outcome: "declined", reason: "invalid_token" });
  });
});
