// Shared inputs and small readers for the orchestrator tests.
import type { ProcessOrderInput } from "../../src/domain/order";
import { ActionType, type Action, type ReplayResult } from "../harness/orchestration";

export const ORDER_ID = "00000000-0000-4000-8000-000000000001";
export const CHARGE_ID = `ch_sim_approve_${ORDER_ID}`;
export const APPROVED_CHARGE = {
  outcome: "approved",
  chargeId: CHARGE_ID,
  amount: 3998,
  currency: "USD",
};

export function orderInput(overrides: Partial<ProcessOrderInput> = {}): ProcessOrderInput {
  return {
    orderId: ORDER_ID,
    customerId: "c-1",
    currency: "USD",
    total: 3998,
    payment: {
      token: "tok_sim_approve_0123456789abcdef0123456789abcdef",
      brand: "visa",
      last4: "4242",
      fingerprint: "fp_sim_x",
    },
    channels: ["email", "sms", "push"],
    approval: { thresholdMinor: 100000, timeout: "PT24H" },
    ...overrides,
  };
}

/** Leaf actions of the last episode, flattened (compound actions expanded). */
export function leaves(actions: Action[]): Action[] {
  return actions.flatMap((a) => (a.compoundActions ? leaves(a.compoundActions) : [a]));
}

/** Every activity the orchestrator asked for, in order: `name` or `name:status` for statuses. */
export function activityCalls(result: ReplayResult): string[] {
  return leaves(result.actions)
    .filter(
      (a) =>
        a.actionType === ActionType.CallActivity ||
        a.actionType === ActionType.CallActivityWithRetry,
    )
    .map((a) =>
      a.functionName === "setOrderStatus"
        ? `setOrderStatus:${(a.input as { status: string }).status}`
        : a.functionName!,
    );
}

/** The stage of the custom status after each episode, with consecutive repeats collapsed. */
export function stages(result: ReplayResult): string[] {
  const all = result.states.map(
    (s) => (s.customStatus as { stage?: string } | undefined)?.stage ?? "-",
  );
  return all.filter((stage, i) => stage !== all[i - 1]);
}
