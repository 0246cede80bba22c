// The stuck-order action table, cell by cell, and the three rules it must keep whatever the cell:
// money taken ends Completed or refunded, never a second charge, never a lost order.
import { allowedActions, type StuckAction } from "../../src/operator/actionTable";
import type { OrderStatus } from "../../src/domain/order";

const RUNTIMES = [
  "Pending",
  "Running",
  "Suspended",
  "Failed",
  "Terminated",
  "Canceled",
  "None",
  "Completed",
];
type Row = Record<string, StuckAction[]>;
const row = (
  live: StuckAction[],
  suspended: StuckAction[],
  failed: StuckAction[],
  ended: StuckAction[],
): Row => ({
  Pending: live,
  Running: live,
  Suspended: suspended,
  Failed: failed,
  Terminated: ended,
  Canceled: ended,
  None: ended,
  Completed: [],
});

const beforeCharge = row(["cancel"], ["resume", "cancel"], ["rewind", "cancel"], ["cancel"]);
const moneyTaken = row(["refund"], ["resume", "refund"], ["rewind", "refund"], ["refund"]);
const TABLE: [OrderStatus, boolean, Row][] = [
  ["Received", false, { ...beforeCharge, None: ["start", "cancel"] }],
  ["AwaitingApproval", false, beforeCharge],
  ["Approved", false, beforeCharge],
  ["Charging", false, row([], ["resume"], ["rewind", "cancel"], ["cancel"])],
  ["Charging", true, moneyTaken],
  ["Paid", true, moneyTaken],
  ["Notifying", true, moneyTaken],
  ["Failed", true, { ...row([], [], ["rewind", "refund"], ["refund"]) }],
  ["Failed", false, row([], [], [], [])],
  ["Completed", true, row([], [], [], [])],
  ["Cancelled", false, row([], [], [], [])],
  ["Rejected", false, row([], [], [], [])],
  ["PaymentDeclined", false, row([], [], [], [])],
];

describe("stuck-order action table", () => {
  const cells = TABLE.flatMap(([status, charged, expected]) =>
    RUNTIMES.map((rt) => [status, charged, rt, expected[rt]!] as const),
  );

  it.each(cells)(
    "%s (charged: %s) with runtime %s allows %j",
    (status, charged, runtimeStatus, expected) => {
      expect(allowedActions({ status, runtimeStatus, charged, refunded: false })).toEqual(expected);
    },
  );

  it.each(cells)(
    "%s (charged: %s) / %s keeps the three rules",
    (status, charged, runtimeStatus) => {
      const actions = allowedActions({ status, runtimeStatus, charged, refunded: false });
      const moneyTakenNow = charged || status === "Paid" || status === "Notifying";
      // 1. Money taken: no way out but a refund (or the workflow going on to Completed).
      if (moneyTakenNow && status !== "Completed") expect(actions).not.toContain("cancel");
      // 2. Rewind only replays a failed instance; start only where no instance exists, before the charge.
      if (actions.includes("rewind")) expect(runtimeStatus).toBe("Failed");
      if (actions.includes("start"))
        expect([status, runtimeStatus, charged]).toEqual(["Received", "None", false]);
      // A live instance in Charging is left alone: stopping it mid-charge could hide a charge.
      if (status === "Charging" && !charged && ["Pending", "Running"].includes(runtimeStatus)) {
        expect(actions).toEqual([]);
      }
      // 3. A non-terminal order whose instance failed or is gone always has a way forward or out.
      if (
        ![
          "Completed",
          "Cancelled",
          "Rejected",
          "PaymentDeclined",
          "PaymentFailed",
          "Failed",
        ].includes(status)
      ) {
        if (["Failed", "Terminated", "Canceled", "None"].includes(runtimeStatus)) {
          expect(actions.length).toBeGreaterThan(0);
        }
      }
    },
  );

  it("a Failed order already refunded needs nothing", () => {
    expect(
      allowedActions({ status: "Failed", runtimeStatus: "Failed", charged: true, refunded: true }),
    ).toEqual([]);
  });
});
