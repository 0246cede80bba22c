// processOrder under each workflow version: an instance runs the steps of the version it was
// started with (ExecutionStarted.Version), so histories written by versions 1 and 2 replay
// unchanged after version 3 ships.
import { APPROVAL_EVENT } from "../../src/domain/order";
import {
  ActionType,
  completed,
  event,
  failed,
  replay,
  type ReplayResult,
  type Step,
} from "../harness/orchestration";
// After the harness, which provides @azure/functions-core before the app registers.
import { STEP_RETRY, workflowVersion } from "../../src/orchestrators/processOrder";
import { APPROVED_CHARGE, CHARGE_ID, ORDER_ID, leaves, orderInput, stages } from "./fixtures";

const status = (s: string) => completed("setOrderStatus", { status: s });
const notified: Step[] = ["email", "sms", "push"].map((c) =>
  completed("sendNotification", { notificationId: `${ORDER_ID}:${c}` }),
);
const big = orderInput({ total: 150000 });
const bigCharge = { ...APPROVED_CHARGE, amount: 150000 };
const approved = event(APPROVAL_EVENT, { approved: true, approver: "amy" });

type StageInput = { status: string; via?: string };
const stageText = (s: StageInput) => (s.via ? `${s.via}→${s.status}` : s.status);

/**
 * Every activity asked for, in order; status changes as `status` or `via→status`, and the
 * stages an activity records itself in brackets: `chargePayment[Charging]`.
 */
function calls(result: ReplayResult): string[] {
  return leaves(result.actions)
    .filter(
      (a) =>
        a.actionType === ActionType.CallActivity ||
        a.actionType === ActionType.CallActivityWithRetry,
    )
    .map((a) => {
      const input = a.input as StageInput & { stage?: StageInput; outcome?: { status: string } };
      if (a.functionName === "setOrderStatus") return stageText(input);
      const recorded = [
        ...(input.stage ? [stageText(input.stage)] : []),
        ...(input.outcome ? [input.outcome.status] : []),
      ];
      return recorded.length ? `${a.functionName}[${recorded.join("→")}]` : a.functionName!;
    });
}

// Version 1 (and unversioned instances, started before versioning): one write per stage.
const v1 = {
  small: {
    history: [
      status("Charging"),
      completed("chargePayment", APPROVED_CHARGE),
      completed("capturePayment", { captured: true }),
      status("Paid"),
      status("Notifying"),
      ...notified,
      status("Completed"),
    ],
    calls: ["Charging", "chargePayment", "capturePayment", "Paid", "Notifying", ...tail()],
    stages: ["Charging", "Paid", "Notifying", "Completed"],
  },
  approved: {
    history: [
      status("AwaitingApproval"),
      approved,
      status("Approved"),
      status("Charging"),
      completed("chargePayment", bigCharge),
      completed("capturePayment", { captured: true }),
      status("Paid"),
      status("Notifying"),
      ...notified,
      status("Completed"),
    ],
    calls: [
      "AwaitingApproval",
      "Approved",
      "Charging",
      "chargePayment",
      "capturePayment",
      "Paid",
      "Notifying",
      ...tail(),
    ],
    stages: ["AwaitingApproval", "Approved", "Charging", "Paid", "Notifying", "Completed"],
  },
};

// Version 2: Approved is recorded with Charging and Paid with Notifying.
const v2 = {
  small: {
    history: [
      status("Charging"),
      completed("chargePayment", APPROVED_CHARGE),
      completed("capturePayment", { captured: true }),
      status("Notifying"),
      ...notified,
      status("Completed"),
    ],
    calls: ["Charging", "chargePayment", "capturePayment", "Paid→Notifying", ...tail()],
    stages: ["Charging", "Notifying", "Completed"],
  },
  approved: {
    history: [
      status("AwaitingApproval"),
      approved,
      status("Charging"),
      completed("chargePayment", bigCharge),
      completed("capturePayment", { captured: true }),
      status("Notifying"),
      ...notified,
      status("Completed"),
    ],
    calls: [
      "AwaitingApproval",
      "Approved→Charging",
      "chargePayment",
      "capturePayment",
      "Paid→Notifying",
      ...tail(),
    ],
    stages: ["AwaitingApproval", "Charging", "Notifying", "Completed"],
  },
};

// Version 3: the working activities record the stages; one batch for every channel.
const sent = completed("sendNotifications", {
  notificationIds: ["email", "sms", "push"].map((c) => `${ORDER_ID}:${c}`),
});
const v3 = {
  small: {
    history: [
      completed("chargePayment", APPROVED_CHARGE),
      completed("capturePayment", { captured: true }),
      sent,
    ],
    calls: [
      "chargePayment[Charging]",
      "capturePayment",
      "sendNotifications[Paid→Notifying→Completed]",
    ],
    stages: ["Charging", "Notifying", "Completed"],
  },
  approved: {
    history: [
      status("AwaitingApproval"),
      approved,
      completed("chargePayment", bigCharge),
      completed("capturePayment", { captured: true }),
      sent,
    ],
    calls: [
      "AwaitingApproval",
      "chargePayment[Approved→Charging]",
      "capturePayment",
      "sendNotifications[Paid→Notifying→Completed]",
    ],
    stages: ["AwaitingApproval", "Charging", "Notifying", "Completed"],
  },
};

function tail(): string[] {
  return ["sendNotification", "sendNotification", "sendNotification", "Completed"];
}

describe.each([
  ["unversioned (started before versioning)", "", v1],
  ["1.0", "1.0", v1],
  ["2.0", "2.0", v2],
  ["3.0", "3.0", v3],
  ["4.0 (newer than this code: the newest steps)", "4.0", v3],
])("processOrder at version %s", (_label, version, expected) => {
  it("a small order: charge, capture, notify, complete", async () => {
    const result = await replay(orderInput(), expected.small.history, { version });
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "Completed", chargeId: CHARGE_ID });
    expect(calls(result)).toEqual(expected.small.calls);
    expect(stages(result)).toEqual(expected.small.stages);
  });

  it("a large order approved while waiting", async () => {
    const result = await replay(big, expected.approved.history, { version });
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "Completed", chargeId: CHARGE_ID, approvedBy: "amy" });
    expect(calls(result)).toEqual(expected.approved.calls);
    expect(stages(result)).toEqual(expected.approved.stages);
  });
});

describe("workflow versions do not mix", () => {
  it("a version 1 history replayed as version 2 is not what version 2 asks for", async () => {
    // The reason instances keep their version: version 2 code given version 1's history would
    // schedule a different activity input at the same position (Paid→Notifying vs Paid).
    const asV2 = await replay(orderInput(), v1.small.history.slice(0, 3), { version: "2.0" });
    const asV1 = await replay(orderInput(), v1.small.history.slice(0, 3), { version: "1.0" });
    expect(calls(asV1).at(-1)).toBe("Paid");
    expect(calls(asV2).at(-1)).toBe("Paid→Notifying");
  });

  it("version 3 asks for the charge where version 2 recorded Charging on its own", async () => {
    const asV2 = await replay(orderInput(), [], { version: "2.0" });
    const asV3 = await replay(orderInput(), [], { version: "3.0" });
    expect(calls(asV2)).toEqual(["Charging"]);
    expect(calls(asV3)).toEqual(["chargePayment[Charging]"]);
  });

  it("compensation is the same in all: a failed capture refunds and ends Failed", async () => {
    for (const version of ["1.0", "2.0"]) {
      const result = await replay(
        orderInput(),
        [
          status("Charging"),
          completed("chargePayment", APPROVED_CHARGE),
          // A capture that keeps failing: STEP_RETRY's five attempts, then the refund.
          ...Array.from({ length: 5 }, () => failed("capturePayment", "capture refused")),
          completed("refundPayment", { refundId: "rf_1" }),
          status("Failed"),
        ],
        { version },
      );
      expect(result.output).toMatchObject({ status: "Failed", refundId: "rf_1" });
    }
    const v3 = await replay(
      orderInput(),
      [
        completed("chargePayment", APPROVED_CHARGE),
        completed("capturePayment", { captured: false, reason: "capture refused" }),
        completed("refundPayment", { refundId: "rf_1" }),
        status("Failed"),
      ],
      { version: "3.0" },
    );
    expect(v3.output).toMatchObject({ status: "Failed", refundId: "rf_1" });
    expect(calls(v3)).toEqual([
      "chargePayment[Charging]",
      "capturePayment",
      "refundPayment",
      "Failed",
    ]);
  });
});

describe("version 3: the working activities record the stages", () => {
  const at3 = { version: "3.0" };

  it("the charge carries Charging (with Approved and the approver after an approval)", async () => {
    const decidedBy = { id: "u-amy", name: "amy", at: "2024-06-01T10:00:00.000Z" };
    const result = await replay(
      big,
      [
        status("AwaitingApproval"),
        event(APPROVAL_EVENT, { approved: true, approver: "amy", decidedBy }),
      ],
      at3,
    );
    const charge = leaves(result.actions).at(-1)!;
    expect(charge.functionName).toBe("chargePayment");
    expect(charge.input).toEqual({
      orderId: ORDER_ID,
      token: big.payment.token,
      amount: 150000,
      currency: "USD",
      stage: { status: "Charging", via: "Approved", decidedBy },
    });
    expect(charge.retryOptions?.maxNumberOfAttempts).toBe(5);
    expect(result.customStatus).toMatchObject({ stage: "Charging", detail: "approved by amy" });
  });

  it("one sendNotifications call: Paid→Notifying before, every channel, Completed after", async () => {
    const result = await replay(
      orderInput(),
      [
        completed("chargePayment", APPROVED_CHARGE),
        completed("capturePayment", { captured: true }),
      ],
      at3,
    );
    const notify = leaves(result.actions).at(-1)!;
    expect(notify.functionName).toBe("sendNotifications");
    expect(notify.actionType).toBe(ActionType.CallActivityWithRetry);
    expect(notify.input).toEqual({
      orderId: ORDER_ID,
      customerId: "c-1",
      channels: ["email", "sms", "push"],
      template: "order-completed",
      data: { total: 3998, currency: "USD", last4: "4242" },
      stage: { status: "Notifying", via: "Paid" },
      outcome: { status: "Completed", chargeId: CHARGE_ID },
    });
    expect(result.customStatus).toMatchObject({ stage: "Notifying", detail: "email, sms, push" });
    // Its result ends the order with the outcome it recorded, without another activity.
    const done = await replay(orderInput(), [...v3.small.history], at3);
    expect(done.output).toEqual({ status: "Completed", chargeId: CHARGE_ID });
    expect(done.customStatus).toMatchObject({ stage: "Completed" });
  });

  it("notifications failing for good refund the charge and end Failed", async () => {
    const result = await replay(
      orderInput(),
      [
        completed("chargePayment", APPROVED_CHARGE),
        completed("capturePayment", { captured: true }),
        ...Array.from({ length: STEP_RETRY.maxNumberOfAttempts }, () =>
          failed("sendNotifications", "amqp detached"),
        ),
        completed("refundPayment", { refundId: "rf_1" }),
        status("Failed"),
      ],
      at3,
    );
    expect(result.output).toMatchObject({
      status: "Failed",
      chargeId: CHARGE_ID,
      refundId: "rf_1",
    });
    expect(calls(result).slice(-2)).toEqual(["refundPayment", "Failed"]);
  });

  it("a decline ends PaymentDeclined with one status write", async () => {
    const declined = { outcome: "declined", reason: "card_declined" };
    const result = await replay(
      orderInput(),
      [completed("chargePayment", declined), status("PaymentDeclined")],
      at3,
    );
    expect(result.output).toEqual({ status: "PaymentDeclined", reason: "card_declined" });
    expect(calls(result)).toEqual(["chargePayment[Charging]", "PaymentDeclined"]);
  });
});

describe("workflowVersion", () => {
  it.each([
    [undefined, 1],
    ["", 1],
    ["1", 1],
    ["1.0", 1],
    ["1.9.3", 1],
    ["2.0", 2],
    [" 2.1", 2],
    ["10.0", 10],
    ["0.9", 1],
    ["preview", 1],
  ])("%p is workflow version %p", (version, expected) => {
    expect(workflowVersion(version)).toBe(expected);
  });
});
