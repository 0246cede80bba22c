import { APPROVAL_EVENT, CANCEL_EVENT } from "../../src/domain/order";
import {
  ActionType,
  EventType,
  OrchestrationRun,
  completed,
  event,
  failed,
  replay,
  timerFired,
  type Step,
} from "../harness/orchestration";
import {
  APPROVED_CHARGE,
  CHARGE_ID,
  ORDER_ID,
  activityCalls,
  leaves,
  orderInput,
  stages,
} from "./fixtures";

/** STEP_RETRY's attempts (src/orchestrators/processOrder.ts) before a step fails for good. */
const STEP_ATTEMPTS = 5;

const status = (s: string) => completed("setOrderStatus", { status: s });
const notificationsSent: Step[] = ["email", "sms", "push"].map((c) =>
  completed("sendNotification", { notificationId: `${ORDER_ID}:${c}` }),
);
/** Everything after an approved charge, up to Completed. */
const captureToCompleted: Step[] = [
  completed("capturePayment", { captured: true }),
  status("Paid"),
  status("Notifying"),
  ...notificationsSent,
  status("Completed"),
];

describe("processOrder: below the approval threshold", () => {
  it("charges, captures, records Paid, notifies every channel in parallel, completes", async () => {
    const result = await replay(orderInput(), [
      status("Charging"),
      completed("chargePayment", APPROVED_CHARGE),
      ...captureToCompleted,
    ]);
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "Completed", chargeId: CHARGE_ID });
    expect(activityCalls(result)).toEqual([
      "setOrderStatus:Charging",
      "chargePayment",
      "capturePayment",
      "setOrderStatus:Paid",
      "setOrderStatus:Notifying",
      "sendNotification",
      "sendNotification",
      "sendNotification",
      "setOrderStatus:Completed",
    ]);
    expect(stages(result)).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
    // No approval wait for a small order.
    expect(
      leaves(result.actions).some((a) => a.actionType === ActionType.WaitForExternalEvent),
    ).toBe(false);
  });

  it("passes the token and server total to the charge and fans notifications out in one Task.all", async () => {
    const run = new OrchestrationRun(orderInput());
    await run.start();
    const afterStatus = await run.apply(status("Charging"));
    const charge = afterStatus.actions[0]![1]!;
    expect(charge).toEqual({
      actionType: ActionType.CallActivityWithRetry,
      functionName: "chargePayment",
      input: {
        orderId: ORDER_ID,
        token: orderInput().payment.token,
        amount: 3998,
        currency: "USD",
      },
      retryOptions: {
        firstRetryIntervalInMilliseconds: 1000,
        maxNumberOfAttempts: 5,
        backoffCoefficient: 2,
        maxRetryIntervalInMilliseconds: 30000,
      },
    });
    for (const step of [
      completed("chargePayment", APPROVED_CHARGE),
      ...captureToCompleted.slice(0, 3),
    ]) {
      await run.apply(step);
    }
    const fanOut = run.result().actions.at(-1)!;
    expect(fanOut.actionType).toBe(ActionType.WhenAll);
    expect(fanOut.compoundActions!.map((a) => (a.input as { channel: string }).channel)).toEqual([
      "email",
      "sms",
      "push",
    ]);
    expect(fanOut.compoundActions![0]!.input).toEqual({
      orderId: ORDER_ID,
      customerId: "c-1",
      channel: "email",
      template: "order-completed",
      data: { total: 3998, currency: "USD", last4: "4242" },
    });
    // Completing the notifications in any order finishes the fan-in.
    await run.apply(completed("sendNotification", null));
    expect(run.result().isDone).toBe(false);
  });

  it("publishes the durable clock in the custom status, never the wall clock", async () => {
    const start = new Date("2030-01-02T03:04:05.000Z");
    const result = await replay(orderInput(), [status("Charging")], { start, tickMs: 1000 });
    expect(result.states[0]!.customStatus).toEqual({
      stage: "Charging",
      updatedAt: start.toISOString(),
    });
  });
});

describe("processOrder: approval", () => {
  const big = orderInput({ total: 150000 });
  const bigCharge = { ...APPROVED_CHARGE, amount: 150000 };

  async function awaitingApproval(): Promise<OrchestrationRun> {
    const run = new OrchestrationRun(big, {
      start: new Date("2024-06-01T10:00:00.000Z"),
      tickMs: 500,
    });
    const first = await run.start();
    expect(first.customStatus).toMatchObject({ stage: "AwaitingApproval" });
    expect(first.actions[0]!.map((a) => a.functionName)).toEqual(["setOrderStatus"]);
    const waiting = await run.apply(status("AwaitingApproval"));
    const any = waiting.actions[0]!.at(-1)!;
    expect(any.actionType).toBe(ActionType.WhenAny);
    expect(any.compoundActions).toEqual([
      {
        actionType: ActionType.WaitForExternalEvent,
        externalEventName: APPROVAL_EVENT,
        reason: "ExternalEvent",
      },
      {
        actionType: ActionType.WaitForExternalEvent,
        externalEventName: CANCEL_EVENT,
        reason: "ExternalEvent",
      },
      // The deadline is the orchestration clock (the episode's start) + APPROVAL_TIMEOUT.
      { actionType: ActionType.CreateTimer, fireAt: "2024-06-02T10:00:00.500Z", isCanceled: false },
    ]);
    return run;
  }

  function timerAction(run: OrchestrationRun) {
    return leaves(run.result().actions).find((a) => a.actionType === ActionType.CreateTimer)!;
  }

  it("threshold is inclusive: a total equal to it waits for approval", async () => {
    const result = await replay(orderInput({ total: 100000 }), []);
    expect(result.customStatus).toMatchObject({ stage: "AwaitingApproval" });
  });

  it("approved: cancels the timer, records Approved, then charges and completes", async () => {
    const run = await awaitingApproval();
    await run.apply(event(APPROVAL_EVENT, { approved: true, approver: "amy", reason: "ok" }));
    expect(timerAction(run).isCanceled).toBe(true);
    expect(run.result().customStatus).toMatchObject({
      stage: "Approved",
      detail: "approved by amy",
    });
    for (const step of [
      status("Approved"),
      status("Charging"),
      completed("chargePayment", bigCharge),
      ...captureToCompleted,
    ]) {
      await run.apply(step);
    }
    const result = run.result();
    expect(result.output).toEqual({ status: "Completed", chargeId: CHARGE_ID, approvedBy: "amy" });
    expect(stages(result)).toEqual([
      "AwaitingApproval",
      "Approved",
      "Charging",
      "Paid",
      "Notifying",
      "Completed",
    ]);
  });

  it("rejected: cancels the timer and ends Rejected with the reason, without charging", async () => {
    const run = await awaitingApproval();
    await run.apply(
      event(APPROVAL_EVENT, { approved: false, approver: "bob", reason: "Too large" }),
    );
    expect(timerAction(run).isCanceled).toBe(true);
    await run.apply(status("Rejected"));
    const result = run.result();
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "Rejected", reason: "Too large" });
    expect(activityCalls(result)).toEqual([
      "setOrderStatus:AwaitingApproval",
      "setOrderStatus:Rejected",
    ]);
    expect(
      leaves(result.actions).find(
        (a) =>
          a.functionName === "setOrderStatus" &&
          (a.input as { status: string }).status === "Rejected",
      )!.input,
    ).toEqual({
      orderId: ORDER_ID,
      status: "Rejected",
      outcome: { status: "Rejected", reason: "Too large" },
    });
  });

  it("a malformed decision is not an approval", async () => {
    const run = await awaitingApproval();
    await run.apply(event(APPROVAL_EVENT, { approved: "yes" }));
    await run.apply(status("Rejected"));
    expect(run.result().output).toEqual({ status: "Rejected", reason: "Rejected by unknown" });
  });

  it("timed out: the timer fires first and the order is Rejected", async () => {
    const run = await awaitingApproval();
    await run.apply(timerFired());
    expect(run.result().customStatus).toEqual({
      stage: "Rejected",
      updatedAt: "2024-06-02T10:00:00.500Z",
      detail: "No decision within PT24H",
    });
    await run.apply(status("Rejected"));
    expect(run.result().output).toEqual({ status: "Rejected", reason: "No decision within PT24H" });
    expect(activityCalls(run.result())).not.toContain("chargePayment");
  });

  it("an approval arriving after the timeout changes nothing", async () => {
    const run = await awaitingApproval();
    await run.apply(timerFired());
    await run.apply(event(APPROVAL_EVENT, { approved: true, approver: "late" }));
    await run.apply(status("Rejected"));
    expect(run.result().output).toMatchObject({ status: "Rejected" });
  });

  it("cancelled: the cancel event wins, the timer is cancelled, the order is Cancelled", async () => {
    const run = await awaitingApproval();
    await run.apply(event(CANCEL_EVENT, { reason: "changed my mind" }));
    expect(timerAction(run).isCanceled).toBe(true);
    await run.apply(status("Cancelled"));
    const result = run.result();
    expect(result.output).toEqual({ status: "Cancelled", reason: "Cancelled before approval" });
    expect(stages(result)).toEqual(["AwaitingApproval", "Cancelled"]);
  });

  it("uses the timeout from the input (e.g. PT2S in tests)", async () => {
    const run = new OrchestrationRun(
      orderInput({ total: 150000, approval: { thresholdMinor: 1000, timeout: "PT2S" } }),
      {
        start: new Date("2024-06-01T10:00:00.000Z"),
        tickMs: 0,
      },
    );
    await run.start();
    await run.apply(status("AwaitingApproval"));
    expect(timerAction(run).fireAt).toBe("2024-06-01T10:00:02.000Z");
  });
});

describe("processOrder: payment outcomes", () => {
  it("decline: ends PaymentDeclined with the gateway's reason, no capture", async () => {
    const result = await replay(orderInput(), [
      status("Charging"),
      completed("chargePayment", { outcome: "declined", reason: "card_declined" }),
      status("PaymentDeclined"),
    ]);
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "PaymentDeclined", reason: "card_declined" });
    expect(activityCalls(result)).toEqual([
      "setOrderStatus:Charging",
      "chargePayment",
      "setOrderStatus:PaymentDeclined",
    ]);
    expect(stages(result)).toEqual(["Charging", "PaymentDeclined"]);
  });

  it("transient failure: retry timers with exponential backoff, then success", async () => {
    const run = new OrchestrationRun(orderInput(), { tickMs: 0 });
    await run.start();
    for (const step of [status("Charging"), failed("chargePayment"), failed("chargePayment")])
      await run.apply(step);
    await run.apply(completed("chargePayment", APPROVED_CHARGE));
    const result = run.result();
    expect(result.actions.at(-1)).toMatchObject({ functionName: "capturePayment" });
    const chargeScheduled = result.history
      .filter((e) => e.EventType === EventType.TaskScheduled && e.Name === "chargePayment")
      .map((e) => e.EventId);
    const timers = result.history.filter((e) => e.EventType === EventType.TimerCreated);
    // Task ids: status 0, charge 1, retry timer 2, charge 3, retry timer 4, charge 5.
    expect(chargeScheduled).toEqual([1, 3, 5]);
    expect(timers.map((t) => t.EventId)).toEqual([2, 4]);
    const failedAt = result.history
      .filter((e) => e.EventType === EventType.TaskFailed)
      .map((e) => Date.parse(e.Timestamp));
    expect(timers.map((t, i) => Date.parse(t.FireAt as string) - failedAt[i]!)).toEqual([
      1000, 2000,
    ]);
    // The retry is invisible to the workflow: one charge action, still Charging.
    expect(activityCalls(result).filter((c) => c === "chargePayment")).toHaveLength(1);
    expect(result.customStatus).toMatchObject({ stage: "Charging" });
  });

  it("retries exhausted: after 5 failed attempts the order ends PaymentFailed", async () => {
    const result = await replay(
      orderInput(),
      [
        status("Charging"),
        ...Array.from({ length: 5 }, () => failed("chargePayment", "gateway timeout")),
        status("PaymentFailed"),
      ],
      { tickMs: 0 },
    );
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({
      status: "PaymentFailed",
      reason: "Payment gateway failed 5 times",
    });
    const timers = result.history.filter((e) => e.EventType === EventType.TimerCreated);
    const failedAt = result.history
      .filter((e) => e.EventType === EventType.TaskFailed)
      .map((e) => Date.parse(e.Timestamp));
    expect(timers.map((t, i) => Date.parse(t.FireAt as string) - failedAt[i]!)).toEqual([
      1000, 2000, 4000, 8000, 16000,
    ]);
    expect(activityCalls(result)).not.toContain("capturePayment");
  });

  it("capture refused: refunds the charge (compensation) and ends Failed", async () => {
    const result = await replay(orderInput(), [
      status("Charging"),
      completed("chargePayment", APPROVED_CHARGE),
      completed("capturePayment", { captured: false, reason: "Capture refused" }),
      completed("refundPayment", { refundId: `re_sim_${ORDER_ID}` }),
      status("Failed"),
    ]);
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({
      status: "Failed",
      reason: "Capture refused",
      chargeId: CHARGE_ID,
      refundId: `re_sim_${ORDER_ID}`,
    });
    const refund = leaves(result.actions).find((a) => a.functionName === "refundPayment")!;
    expect(refund.input).toEqual({
      orderId: ORDER_ID,
      chargeId: CHARGE_ID,
      amount: 3998,
      currency: "USD",
      reason: "Capture refused",
    });
    expect(activityCalls(result)).toEqual([
      "setOrderStatus:Charging",
      "chargePayment",
      "capturePayment",
      "refundPayment",
      "setOrderStatus:Failed",
    ]);
    expect(stages(result)).toEqual(["Charging", "Failed"]);
  });

  it("capture failing for good (retries exhausted) also refunds", async () => {
    const result = await replay(
      orderInput(),
      [
        status("Charging"),
        completed("chargePayment", APPROVED_CHARGE),
        ...Array.from({ length: STEP_ATTEMPTS }, () => failed("capturePayment", "gateway 503")),
        completed("refundPayment", { refundId: "re_1" }),
        status("Failed"),
      ],
      { tickMs: 0 },
    );
    expect(result.output).toMatchObject({
      status: "Failed",
      refundId: "re_1",
      reason: expect.stringContaining("gateway 503"),
    });
  });

  it("a notification failing for good after Paid refunds too", async () => {
    const result = await replay(
      orderInput({ channels: ["email"] }),
      [
        status("Charging"),
        completed("chargePayment", APPROVED_CHARGE),
        completed("capturePayment", { captured: true }),
        status("Paid"),
        status("Notifying"),
        ...Array.from({ length: STEP_ATTEMPTS }, () => failed("sendNotification", "queue down")),
        completed("refundPayment", { refundId: "re_2" }),
        status("Failed"),
      ],
      { tickMs: 0 },
    );
    expect(result.output).toMatchObject({
      status: "Failed",
      chargeId: CHARGE_ID,
      refundId: "re_2",
    });
    expect(stages(result)).toEqual(["Charging", "Paid", "Notifying", "Failed"]);
  });

  it("a refund that fails for good records Failed on the order and fails the instance", async () => {
    const result = await replay(
      orderInput(),
      [
        status("Charging"),
        completed("chargePayment", APPROVED_CHARGE),
        completed("capturePayment", { captured: false, reason: "Capture refused" }),
        ...Array.from({ length: STEP_ATTEMPTS }, () => failed("refundPayment", "gateway down")),
        status("Failed"),
      ],
      { tickMs: 0 },
    );
    expect(result.isDone).toBe(false);
    expect(result.error).toContain("gateway down");
    const last = leaves(result.actions).at(-1)!;
    expect(last.input).toEqual({
      orderId: ORDER_ID,
      status: "Failed",
      outcome: { status: "Failed", reason: "Capture refused; refund failed", chargeId: CHARGE_ID },
    });
  });

  it("an unexpected failure before money moves fails the orchestration itself", async () => {
    const result = await replay(
      orderInput(),
      Array.from({ length: STEP_ATTEMPTS }, () => failed("setOrderStatus", "cosmos down")),
      { tickMs: 0 },
    );
    expect(result.isDone).toBe(false);
    expect(result.error).toContain("cosmos down");
    expect(activityCalls(result)).toEqual(["setOrderStatus:Charging"]);
  });
});
