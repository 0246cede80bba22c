// processOrder under each workflow version: an instance runs the steps of the version it was
// started with (ExecutionStarted.Version), so histories written by version 1 replay unchanged
// after version 2 ships.
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
import { workflowVersion } from "../../src/orchestrators/processOrder";
import { APPROVED_CHARGE, CHARGE_ID, ORDER_ID, leaves, orderInput, stages } from "./fixtures";

const status = (s: string) => completed("setOrderStatus", { status: s });
const notified: Step[] = ["email", "sms", "push"].map((c) =>
  completed("sendNotification", { notificationId: `${ORDER_ID}:${c}` }),
);
const big = orderInput({ total: 150000 });
const bigCharge = { ...APPROVED_CHARGE, amount: 150000 };
const approved = event(APPROVAL_EVENT, { approved: true, approver: "amy" });

/** Every activity asked for, in order; status changes as `status` or `via→status`. */
function calls(result: ReplayResult): string[] {
  return leaves(result.actions)
    .filter(
      (a) =>
        a.actionType === ActionType.CallActivity ||
        a.actionType === ActionType.CallActivityWithRetry,
    )
    .map((a) => {
      if (a.functionName !== "setOrderStatus") return a.functionName!;
      const input = a.input as { status: string; via?: string };
      return input.via ? `${input.via}→${input.status}` : input.status;
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
    calls: ["Charging", "chargePayment", "capturePayment", "Paid", "Notifying"],
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
    calls: ["Charging", "chargePayment", "capturePayment", "Paid→Notifying"],
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
    ],
    stages: ["AwaitingApproval", "Charging", "Notifying", "Completed"],
  },
};

const tail = ["sendNotification", "sendNotification", "sendNotification", "Completed"];

describe.each([
  ["unversioned (started before versioning)", "", v1],
  ["1.0", "1.0", v1],
  ["2.0", "2.0", v2],
  ["3.0 (newer than this code: the newest steps)", "3.0", v2],
])("processOrder at version %s", (_label, version, expected) => {
  it("a small order: charge, capture, notify, complete", async () => {
    const result = await replay(orderInput(), expected.small.history, { version });
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "Completed", chargeId: CHARGE_ID });
    expect(calls(result)).toEqual([...expected.small.calls, ...tail]);
    expect(stages(result)).toEqual(expected.small.stages);
  });

  it("a large order approved while waiting", async () => {
    const result = await replay(big, expected.approved.history, { version });
    expect(result.isDone).toBe(true);
    expect(result.output).toEqual({ status: "Completed", chargeId: CHARGE_ID, approvedBy: "amy" });
    expect(calls(result)).toEqual([...expected.approved.calls, ...tail]);
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

  it("compensation is the same in both: a failed capture refunds and ends Failed", async () => {
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
