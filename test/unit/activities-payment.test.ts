import { invokeActivity, logs } from "../harness/orchestration";
import { resetServices } from "../../src/adapters/services";
import { installFakeServices, type Fakes } from "../fakes";

const ORDER = "7a1b2c3d-0000-4000-8000-000000000001";
let fakes: Fakes;

beforeEach(() => {
  fakes = installFakeServices();
  logs.length = 0;
});
afterEach(() => resetServices());

async function tokenFor(card: string): Promise<string> {
  return (await fakes.gateway.tokenize(card)).token;
}

function userLogs(): Record<string, unknown>[] {
  return logs.filter((l) => l.category === "user").map((l) => JSON.parse(l.message));
}

describe("chargePayment activity", () => {
  it("charges once per order and returns the approval", async () => {
    const input = {
      orderId: ORDER,
      token: await tokenFor("4242424242424242"),
      amount: 3998,
      currency: "USD",
    };
    const first = await invokeActivity("chargePayment", input);
    const again = await invokeActivity("chargePayment", input);
    expect(first).toEqual({
      outcome: "approved",
      chargeId: `ch_sim_approve_${ORDER}`,
      amount: 3998,
      currency: "USD",
    });
    expect(again).toEqual(first);
    expect(fakes.ledger.entries.filter((e) => e.kind === "charge")).toHaveLength(1);
    expect(userLogs()).toContainEqual(
      expect.objectContaining({ event: "payment.charged", orderId: ORDER, instanceId: ORDER }),
    );
  });

  it("returns a decline as a result instead of throwing", async () => {
    const input = {
      orderId: ORDER,
      token: await tokenFor("4000000000009995"),
      amount: 100,
      currency: "USD",
    };
    await expect(invokeActivity("chargePayment", input)).resolves.toEqual({
      outcome: "declined",
      reason: "insufficient_funds",
    });
  });

  it("throws on a transient gateway error (so the orchestrator's retry applies)", async () => {
    const input = {
      orderId: ORDER,
      token: await tokenFor("4000000000000119"),
      amount: 100,
      currency: "USD",
    };
    await expect(invokeActivity("chargePayment", input)).rejects.toThrow(/Gateway timeout/);
    await expect(invokeActivity("chargePayment", input)).rejects.toThrow(/Gateway timeout/);
    await expect(invokeActivity("chargePayment", input)).resolves.toMatchObject({
      outcome: "approved",
    });
    expect(userLogs().filter((l) => l.event === "payment.charge.transientFailure")).toHaveLength(2);
  });

  it("throws when the ledger is unavailable (nothing charged), and charges once on the retry", async () => {
    fakes.ledger.failures.failNext("record", new Error("cosmos 503"));
    const input = {
      orderId: ORDER,
      token: await tokenFor("4242424242424242"),
      amount: 1,
      currency: "USD",
    };
    await expect(invokeActivity("chargePayment", input)).rejects.toThrow("cosmos 503");
    expect(fakes.ledger.entries).toEqual([]);
    await invokeActivity("chargePayment", input);
    await invokeActivity("chargePayment", input);
    expect(fakes.ledger.entries.filter((e) => e.kind === "charge")).toHaveLength(1);
  });

  it("a transient scenario looks for an earlier attempt's result first: the ledger failing then throws", async () => {
    fakes.ledger.failures.failNext("get", new Error("cosmos 503"));
    const input = {
      orderId: ORDER,
      token: await tokenFor("4000000000000119"),
      amount: 1,
      currency: "USD",
    };
    await expect(invokeActivity("chargePayment", input)).rejects.toThrow("cosmos 503");
  });
});

describe("capturePayment activity", () => {
  async function charged(card: string): Promise<string> {
    const result = await fakes.gateway.charge({
      idempotencyKey: ORDER,
      token: await tokenFor(card),
      amount: 500,
      currency: "USD",
    });
    if (result.outcome !== "approved") throw new Error("expected approval");
    return result.chargeId;
  }

  it("captures an approved charge", async () => {
    const chargeId = await charged("4242424242424242");
    await expect(invokeActivity("capturePayment", { orderId: ORDER, chargeId })).resolves.toEqual({
      captured: true,
    });
  });

  it("returns a refused capture as a result (4000000000000259)", async () => {
    const chargeId = await charged("4000000000000259");
    await expect(invokeActivity("capturePayment", { orderId: ORDER, chargeId })).resolves.toEqual({
      captured: false,
      reason: expect.stringContaining("refused"),
    });
  });

  it("throws other failures so they are retried", async () => {
    const chargeId = await charged("4242424242424242");
    fakes.ledger.failures.failNext("get", new Error("timeout"));
    await expect(invokeActivity("capturePayment", { orderId: ORDER, chargeId })).rejects.toThrow(
      "timeout",
    );
  });
});

describe("refundPayment activity", () => {
  it("refunds once, however often it runs", async () => {
    const charge = await fakes.gateway.charge({
      idempotencyKey: ORDER,
      token: await tokenFor("4242424242424242"),
      amount: 700,
      currency: "EUR",
    });
    if (charge.outcome !== "approved") throw new Error("expected approval");
    const input = {
      orderId: ORDER,
      chargeId: charge.chargeId,
      amount: 700,
      currency: "EUR",
      reason: "capture refused",
    };
    const first = await invokeActivity("refundPayment", input);
    expect(await invokeActivity("refundPayment", input)).toEqual(first);
    expect(first).toEqual({ refundId: `re_sim_${ORDER}` });
    expect(fakes.ledger.entries.map((e) => e.kind)).toEqual(["charge", "refund"]);
    expect(userLogs()).toContainEqual(
      expect.objectContaining({ event: "payment.refunded", orderId: ORDER }),
    );
  });

  it("throws when there is nothing to refund", async () => {
    await expect(
      invokeActivity("refundPayment", {
        orderId: ORDER,
        chargeId: "ch_x",
        amount: 1,
        currency: "USD",
        reason: "r",
      }),
    ).rejects.toThrow(/No charge/);
    expect(userLogs()).toContainEqual(
      expect.objectContaining({ event: "payment.refund.failed", orderId: ORDER }),
    );
  });
});
