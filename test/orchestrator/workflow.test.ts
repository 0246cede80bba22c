// The registered orchestrator and the registered activities together, over the in-memory
// services with the real simulated gateway: each magic card runs through the whole workflow.
import { APPROVAL_EVENT } from "../../src/domain/order";
import { priceOrder } from "../../src/domain/pricing";
import { resetServices } from "../../src/adapters/services";
import { OrchestrationRun, drive, event, logs } from "../harness/orchestration";
import { installFakeServices, sampleOrder, type Fakes } from "../fakes";
import { orderInput } from "./fixtures";

let fakes: Fakes;
beforeEach(() => {
  fakes = installFakeServices();
  logs.length = 0;
});
afterEach(() => resetServices());

async function run(
  card: string,
  total = 3998,
  approve?: { approved: boolean; approver: string },
  version = "",
) {
  const orderId = `9a000000-0000-4000-8000-${card.slice(-12)}`;
  const payment = await fakes.gateway.tokenize(card);
  const priced = priceOrder([{ sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: total }]);
  await fakes.orders.create(
    sampleOrder({ id: orderId, payment, lines: priced.lines, totals: priced.totals }),
  );
  const instance = new OrchestrationRun(orderInput({ orderId, total, payment }), {
    instanceId: orderId,
    tickMs: 0,
    version,
  });
  await instance.start();
  let result = await drive(instance);
  if (approve) {
    await instance.apply(event(APPROVAL_EVENT, approve));
    result = await drive(instance);
  }
  return {
    orderId,
    result,
    order: await fakes.orders.get(orderId),
    ledger: await fakes.ledger.list(orderId),
  };
}

describe("processOrder with the real activities and the simulated gateway", () => {
  it("4242424242424242: Completed, one charge, three notifications queued", async () => {
    const { orderId, result, order, ledger } = await run("4242424242424242");
    expect(result.output).toEqual({ status: "Completed", chargeId: `ch_sim_approve_${orderId}` });
    expect(order).toMatchObject({ status: "Completed", outcome: result.output });
    expect(ledger.map((e) => e.kind)).toEqual(["charge"]);
    expect(fakes.queue.sent.map((m) => m.notificationId)).toEqual(
      ["email", "sms", "push"].map((c) => `${orderId}:${c}`),
    );
  });

  it.each([
    ["4000000000000002", "card_declined"],
    ["4000000000009995", "insufficient_funds"],
  ])("%s: PaymentDeclined (%s), nothing captured", async (card, reason) => {
    const { result, order, ledger } = await run(card);
    expect(result.output).toEqual({ status: "PaymentDeclined", reason });
    expect(order?.status).toBe("PaymentDeclined");
    expect(ledger.map((e) => e.kind)).toEqual(["decline"]);
    expect(fakes.queue.sent).toEqual([]);
  });

  it("4000000000000119: two transient failures are retried, then Completed with one charge", async () => {
    const { result, order, ledger } = await run("4000000000000119");
    expect(result.output).toMatchObject({ status: "Completed" });
    expect(order?.status).toBe("Completed");
    expect(ledger.map((e) => e.kind)).toEqual(["charge"]);
    expect(result.history.filter((e) => e.EventType === 6 /* TaskFailed */)).toHaveLength(2);
  });

  it("4000000000000259: capture fails for good, the charge is refunded, order Failed", async () => {
    const { orderId, result, order, ledger } = await run("4000000000000259");
    expect(result.output).toMatchObject({ status: "Failed", refundId: `re_sim_${orderId}` });
    expect(order).toMatchObject({ status: "Failed", outcome: { status: "Failed" } });
    expect(ledger.map((e) => [e.kind, e.amount])).toEqual([
      ["charge", 3998],
      ["refund", 3998],
    ]);
  });

  it("a large order waits for approval, then completes once approved", async () => {
    const { result, order } = await run("4242424242424242", 250000, {
      approved: true,
      approver: "amy",
    });
    expect(result.output).toMatchObject({ status: "Completed", approvedBy: "amy" });
    expect(order?.status).toBe("Completed");
  });

  it("no card number reaches the history, output, order, ledger, queue or logs; every log line names the order", async () => {
    const cards = ["4242424242424242", "4000000000000002", "4000000000000119", "4000000000000259"];
    const artefacts: unknown[] = [];
    for (const card of cards) {
      const { result } = await run(card);
      artefacts.push(result.history, result.states, result.output);
    }
    artefacts.push(fakes.orders.all(), fakes.ledger.entries, fakes.queue.sent, logs);
    const text = JSON.stringify(artefacts);
    for (const card of cards) expect(text).not.toContain(card);
    const userLogs = logs.filter((l) => l.category === "user").map((l) => JSON.parse(l.message));
    expect(userLogs.length).toBeGreaterThan(20);
    for (const line of userLogs) {
      expect(line.orderId).toMatch(/^9a000000-/);
      expect(line.instanceId).toBe(line.orderId);
    }
  });
});

describe("workflow version 3 with the real activities: the store still shows every stage", () => {
  const statuses = (orderId: string) =>
    fakes.orders.changes.filter((c) => c.orderId === orderId).map((c) => c.status);
  const executions = (history: { EventType: number }[]) =>
    history.filter((e) => e.EventType === 4 /* TaskScheduled */).length;

  it("a small order: 3 activities, stored Charging → Paid → Notifying → Completed, one batch", async () => {
    const { orderId, result, order, ledger } = await run(
      "4242424242424242",
      3998,
      undefined,
      "3.0",
    );
    expect(result.output).toEqual({ status: "Completed", chargeId: `ch_sim_approve_${orderId}` });
    expect(order).toMatchObject({ status: "Completed", outcome: result.output });
    expect(statuses(orderId)).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
    expect(executions(result.history)).toBe(3);
    expect(ledger.map((e) => e.kind)).toEqual(["charge"]);
    expect(fakes.queue.sends).toEqual([3]);
  });

  it("a large order approved: 4 activities, the approver stored with Approved", async () => {
    const { orderId, result, order } = await run(
      "4242424242424242",
      250000,
      { approved: true, approver: "amy" },
      "3.0",
    );
    expect(result.output).toMatchObject({ status: "Completed", approvedBy: "amy" });
    expect(order?.outcome).toEqual(result.output);
    expect(statuses(orderId)).toEqual([
      "AwaitingApproval",
      "Approved",
      "Charging",
      "Paid",
      "Notifying",
      "Completed",
    ]);
    expect(executions(result.history)).toBe(4);
  });

  it("transient failures: each retried charge finds Charging written, one charge in the end", async () => {
    const { orderId, result, ledger } = await run("4000000000000119", 3998, undefined, "3.0");
    expect(result.output).toMatchObject({ status: "Completed" });
    expect(statuses(orderId)).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
    expect(ledger.map((e) => e.kind)).toEqual(["charge"]);
  });

  it("a decline: Charging, then PaymentDeclined", async () => {
    const { orderId, result } = await run("4000000000000002", 3998, undefined, "3.0");
    expect(result.output).toEqual({ status: "PaymentDeclined", reason: "card_declined" });
    expect(statuses(orderId)).toEqual(["Charging", "PaymentDeclined"]);
    expect(fakes.queue.sent).toEqual([]);
  });

  it("capture refused: refunded, Failed, nothing sent", async () => {
    const { orderId, result, ledger } = await run("4000000000000259", 3998, undefined, "3.0");
    expect(result.output).toMatchObject({ status: "Failed", refundId: `re_sim_${orderId}` });
    expect(statuses(orderId)).toEqual(["Charging", "Failed"]);
    expect(ledger.map((e) => e.kind)).toEqual(["charge", "refund"]);
    expect(fakes.queue.sent).toEqual([]);
  });
});
