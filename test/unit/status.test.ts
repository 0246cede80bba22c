import { ORDER_STATUSES, TERMINAL_STATUSES, type Order } from "../../src/domain/order";
import {
  InvalidTransitionError,
  applyStatus,
  assertTransition,
  canTransition,
  isTerminal,
  nextStatuses,
} from "../../src/domain/status";

describe("order status lifecycle", () => {
  it("marks exactly the business outcomes as terminal, with no way out", () => {
    for (const status of ORDER_STATUSES) {
      const terminal = (TERMINAL_STATUSES as readonly string[]).includes(status);
      expect(isTerminal(status)).toBe(terminal);
      if (terminal) expect(nextStatuses(status)).toEqual([]);
      else expect(nextStatuses(status).length).toBeGreaterThan(0);
    }
  });

  it.each([
    ["Received", "Charging"],
    ["Received", "AwaitingApproval"],
    ["AwaitingApproval", "Approved"],
    ["AwaitingApproval", "Rejected"],
    ["AwaitingApproval", "Cancelled"],
    ["Received", "Cancelled"],
    ["Approved", "Cancelled"],
    ["Approved", "Charging"],
    ["Charging", "Paid"],
    ["Charging", "PaymentDeclined"],
    ["Charging", "PaymentFailed"],
    ["Charging", "Failed"],
    ["Paid", "Notifying"],
    ["Paid", "Failed"],
    ["Notifying", "Completed"],
  ] as const)("allows %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(true);
    expect(() => assertTransition(from, to)).not.toThrow();
  });

  it.each([
    ["Received", "Paid"],
    ["Charging", "Cancelled"],
    ["Paid", "Cancelled"],
    ["Paid", "Charging"],
    ["Completed", "Failed"],
    ["Rejected", "Charging"],
    ["Failed", "Completed"],
    ["Notifying", "Received"],
  ] as const)("refuses %s → %s", (from, to) => {
    expect(canTransition(from, to)).toBe(false);
    expect(() => assertTransition(from, to)).toThrow(InvalidTransitionError);
  });

  it("every non-terminal status can reach an end, and every status is reachable from Received", () => {
    const reachable = new Set<string>(["Received"]);
    const queue = ["Received"] as (typeof ORDER_STATUSES)[number][];
    while (queue.length) {
      for (const next of nextStatuses(queue.shift()!)) {
        if (!reachable.has(next)) {
          reachable.add(next);
          queue.push(next);
        }
      }
    }
    expect([...reachable].sort()).toEqual([...ORDER_STATUSES].sort());
  });

  it("applyStatus sets status, updatedAt and outcome without touching the rest", () => {
    const order = { id: "o1", status: "Charging", updatedAt: "2020-01-01T00:00:00.000Z" } as Order;
    const now = new Date("2024-05-01T12:00:00Z");
    const next = applyStatus(order, "PaymentDeclined", { status: "PaymentDeclined" }, now);
    expect(next).toEqual({
      id: "o1",
      status: "PaymentDeclined",
      updatedAt: now.toISOString(),
      outcome: { status: "PaymentDeclined" },
    });
    expect(order.status).toBe("Charging");
    expect(() => applyStatus(next, "Paid", undefined, now)).toThrow(
      "cannot change from PaymentDeclined to Paid",
    );
  });
});
