// The order status lifecycle. Every status change goes through `assertTransition`, so a late or
// replayed activity can never move an order backwards or out of a terminal state.
import {
  TERMINAL_STATUSES,
  type DecidedBy,
  type Order,
  type OrderOutcome,
  type OrderStatus,
  type TerminalStatus,
} from "./order";

const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  // Cancelled from Received and Approved: an operator ends a stuck order before the charge
  // (src/operator/stuckOrders.ts). From Charging on, the way out refunds or records the decline.
  Received: ["AwaitingApproval", "Charging", "Cancelled", "Failed"],
  AwaitingApproval: ["Approved", "Rejected", "Cancelled", "Failed"],
  Approved: ["Charging", "Cancelled", "Failed"],
  Charging: ["Paid", "PaymentDeclined", "PaymentFailed", "Failed"],
  Paid: ["Notifying", "Failed"],
  Notifying: ["Completed", "Failed"],
  Completed: [],
  Rejected: [],
  Cancelled: [],
  PaymentDeclined: [],
  PaymentFailed: [],
  Failed: [],
};

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
  ) {
    super(`Order status cannot change from ${from} to ${to}`);
    this.name = "InvalidTransitionError";
  }
}

export function isTerminal(status: OrderStatus): status is TerminalStatus {
  return (TERMINAL_STATUSES as readonly OrderStatus[]).includes(status);
}

/** The statuses `from` may move to next. */
export function nextStatuses(from: OrderStatus): readonly OrderStatus[] {
  return TRANSITIONS[from];
}

export function canTransition(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

export function assertTransition(from: OrderStatus, to: OrderStatus): void {
  if (!canTransition(from, to)) throw new InvalidTransitionError(from, to);
}

/** The order after a status change; throws InvalidTransitionError when the lifecycle forbids it. */
export function applyStatus(
  order: Order,
  status: OrderStatus,
  outcome: OrderOutcome | undefined,
  now: Date,
  decidedBy?: DecidedBy,
): Order {
  assertTransition(order.status, status);
  const next: Order = { ...order, status, updatedAt: now.toISOString() };
  if (outcome) next.outcome = outcome;
  const decider = decidedBy ?? outcome?.decidedBy;
  if (decider) next.decidedBy = decider;
  return next;
}

/** One stage to record on an order. */
export interface StageStep {
  status: OrderStatus;
  outcome?: OrderOutcome;
  decidedBy?: DecidedBy;
}

/**
 * The next stage to write on the way to the last of `steps`, or undefined when nothing is left:
 * the order is at the last step, or at `doneAt` (where the caller ends; an earlier attempt got
 * there). A step before the last is written only where the lifecycle allows it from where the
 * order is (a retry finds it made); the last throws InvalidTransitionError when forbidden.
 */
export function nextStage(
  current: Order,
  steps: readonly StageStep[],
  doneAt?: OrderStatus,
): StageStep | undefined {
  const last = steps[steps.length - 1];
  if (!last || current.status === last.status || current.status === doneAt) return undefined;
  const via = steps
    .slice(0, -1)
    .find((s) => s.status !== current.status && canTransition(current.status, s.status));
  if (via) return via;
  assertTransition(current.status, last.status);
  return last;
}
