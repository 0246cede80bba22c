// Activity executions ("hops": each is a queue round trip on the task hub in Azure) per order,
// for every workflow version and outcome: the table in README "Shipping a workflow change
// safely" and docs/performance.md. Retried attempts count: each is an execution.
import { APPROVAL_EVENT, CANCEL_EVENT } from "../../src/domain/order";
import {
  EventType,
  OrchestrationRun,
  completed,
  event,
  failed,
  pendingActivities,
  timerFired,
  type Step,
} from "../harness/orchestration";
import { APPROVED_CHARGE, ORDER_ID, orderInput } from "./fixtures";

type Charge = "approved" | "declined" | "gatewayDown" | "captureRefused";
type Decision = "approve" | "reject" | "cancel" | "timeout";

/** How the test's world answers each activity. */
function answer(name: string, input: { status?: string }, charge: Charge): Step {
  switch (name) {
    case "setOrderStatus":
      return completed(name, { status: input.status });
    case "chargePayment":
      if (charge === "gatewayDown") return failed(name, "gateway timeout");
      return completed(
        name,
        charge === "declined" ? { outcome: "declined", reason: "card_declined" } : APPROVED_CHARGE,
      );
    case "capturePayment":
      return completed(
        name,
        charge === "captureRefused" ? { captured: false, reason: "refused" } : { captured: true },
      );
    case "refundPayment":
      return completed(name, { refundId: "rf_1" });
    case "sendNotification":
      return completed(name, { notificationId: `${ORDER_ID}:email` });
    case "sendNotifications":
      return completed(name, { notificationIds: [`${ORDER_ID}:email`] });
    default:
      throw new Error(`unexpected activity ${name}`);
  }
}

const decisions: Record<Decision, Step> = {
  approve: event(APPROVAL_EVENT, { approved: true, approver: "amy" }),
  reject: event(APPROVAL_EVENT, { approved: false, approver: "amy" }),
  cancel: event(CANCEL_EVENT, {}),
  timeout: timerFired(),
};

/** Runs one order to its end; returns its outcome and how many activity executions it took. */
async function hops(version: string, total: number, charge: Charge, decision?: Decision) {
  const run = new OrchestrationRun(orderInput({ total }), { version });
  await run.start();
  while (!run.result().isDone) {
    const [next] = pendingActivities(run);
    if (next) await run.apply(answer(next.name, next.input as { status?: string }, charge));
    else await run.apply(decisions[decision!]);
  }
  const executions = run.history.filter((e) => e.EventType === EventType.TaskScheduled).length;
  return { status: (run.result().output as { status: string }).status, executions };
}

const small = 3998;
const large = 150000;
// [order, total, charge, decision, outcome, executions at versions 1, 2, 3]
const TABLE: [string, number, Charge, Decision | undefined, string, number, number, number][] = [
  ["small, completed", small, "approved", undefined, "Completed", 9, 8, 3],
  ["large, approved and completed", large, "approved", "approve", "Completed", 11, 9, 4],
  ["declined", small, "declined", undefined, "PaymentDeclined", 3, 3, 2],
  ["payment failed (5 attempts)", small, "gatewayDown", undefined, "PaymentFailed", 7, 7, 6],
  ["rejected", large, "approved", "reject", "Rejected", 2, 2, 2],
  ["cancelled", large, "approved", "cancel", "Cancelled", 2, 2, 2],
  ["approval timed out", large, "approved", "timeout", "Rejected", 2, 2, 2],
  ["capture refused (refunded)", small, "captureRefused", undefined, "Failed", 5, 5, 4],
];

describe.each(TABLE)("%s", (_label, total, charge, decision, outcome, v1, v2, v3) => {
  it.each([
    ["1.0", v1],
    ["2.0", v2],
    ["3.0", v3],
  ])("version %s: %p activity executions", async (version, expected) => {
    const result = await hops(version, total, charge, decision);
    expect(result).toEqual({ status: outcome, executions: expected });
  });
});

it("version 3 meets the target: at most 5 activity executions per completed order", () => {
  const completedRows = TABLE.filter((row) => row[4] === "Completed");
  expect(completedRows.length).toBeGreaterThan(0);
  for (const row of completedRows) expect(row[7]).toBeLessThanOrEqual(5);
});
