// The status-polling contract, computed from the stored order and the orchestration instance:
// in progress → 202 + Location (the status URL itself) + Retry-After; terminal → 200 with the
// outcome. A runtime failure (Failed / Terminated / Canceled) is reported as the business status
// Failed; its internals stay in the logs.
import type { DurableOrchestrationStatus } from "durable-functions";
import type {
  Order,
  OrderCustomStatus,
  OrderOutcome,
  OrderStatus,
  TerminalStatus,
} from "../domain/order";
import { TERMINAL_STATUSES } from "../domain/order";
import { isTerminal } from "../domain/status";
import { IN_PROGRESS } from "../intake/instances";
import { RETRY_AFTER_SECONDS } from "./responses";

export type StatusAnswer =
  | {
      done: false;
      body: { orderId: string; status: OrderStatus; runtimeStatus: string };
      retryAfterSeconds: number;
    }
  | {
      done: true;
      body: {
        orderId: string;
        status: TerminalStatus;
        runtimeStatus: string | null;
        outcome: OrderOutcome;
      };
    };

function isOutcome(value: unknown): value is OrderOutcome {
  return (
    typeof value === "object" &&
    value !== null &&
    (TERMINAL_STATUSES as readonly unknown[]).includes((value as OrderOutcome).status)
  );
}

function stageOf(instance: DurableOrchestrationStatus, order: Order): OrderStatus {
  const custom = instance.customStatus as Partial<OrderCustomStatus> | null | undefined;
  return custom?.stage ?? order.status;
}

export function statusAnswer(
  order: Order,
  instance: DurableOrchestrationStatus | undefined,
): StatusAnswer {
  const orderId = order.id;
  if (!instance) {
    // No instance: not started yet (Received), or its history was purged after it finished.
    if (isTerminal(order.status)) {
      const outcome = order.outcome ?? { status: order.status };
      return { done: true, body: { orderId, status: order.status, runtimeStatus: null, outcome } };
    }
    return {
      done: false,
      body: { orderId, status: order.status, runtimeStatus: "NotStarted" },
      retryAfterSeconds: RETRY_AFTER_SECONDS.processing,
    };
  }
  const runtimeStatus = String(instance.runtimeStatus);
  if (IN_PROGRESS.has(runtimeStatus)) {
    const status = stageOf(instance, order);
    return {
      done: false,
      body: { orderId, status, runtimeStatus },
      retryAfterSeconds:
        status === "AwaitingApproval"
          ? RETRY_AFTER_SECONDS.awaitingApproval
          : RETRY_AFTER_SECONDS.processing,
    };
  }
  if (runtimeStatus === "Completed" && isOutcome(instance.output)) {
    return {
      done: true,
      body: { orderId, status: instance.output.status, runtimeStatus, outcome: instance.output },
    };
  }
  // An operator ended a stuck order (src/operator/stuckOrders.ts): the stored outcome is the answer.
  if (isTerminal(order.status) && order.outcome && order.operatorActions?.length) {
    return {
      done: true,
      body: { orderId, status: order.status, runtimeStatus, outcome: order.outcome },
    };
  }
  const outcome: OrderOutcome = {
    status: "Failed",
    reason: `The order workflow ended unexpectedly (${runtimeStatus}).`,
  };
  return { done: true, body: { orderId, status: "Failed", runtimeStatus, outcome } };
}
