// Records the order's status (and final outcome) in the order store. Idempotent: replaying the
// same change is a no-op; the store refuses moves the lifecycle forbids. With `via` (workflow
// version 2) it records that stage first, in the same activity call.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { canTransition } from "../domain/status";
import { logError, logInfo } from "../observability/log";
import { activityFields } from "./activityLog";
import type { SetOrderStatusInput, SetOrderStatusOutput } from "./contracts";
import { approvalDecided, orderFinished } from "../observability/metrics";
import { ORDER_FINISHED_EVENT } from "../observability/metricNames";
import type { Order } from "../domain/order";

export async function setOrderStatus(
  input: SetOrderStatusInput,
  context: InvocationContext,
): Promise<SetOrderStatusOutput> {
  const fields = {
    ...activityFields(context, input.orderId),
    status: input.status,
    ...(input.via ? { via: input.via } : {}),
  };
  try {
    const orders = getServices().orders;
    // The status before this call: a retried call that changes nothing is not counted again.
    const before = input.outcome || input.decidedBy ? await orders.get(input.orderId) : undefined;
    if (input.via) {
      // A retry after the first write finds the order at `via` already (or at `status`): only
      // the writes still missing are made.
      const current = await orders.get(input.orderId);
      if (current && current.status !== input.status && canTransition(current.status, input.via))
        await orders.updateStatus(input.orderId, input.via, undefined, input.decidedBy);
    }
    const order = await orders.updateStatus(
      input.orderId,
      input.status,
      input.outcome,
      input.decidedBy,
    );
    logInfo(context, "order.status.set", fields);
    if (before) recordChange(context, before, order, input);
    return { status: order.status };
  } catch (err) {
    logError(context, "order.status.failed", err, fields);
    throw err;
  }
}

function recordChange(
  context: InvocationContext,
  before: Order,
  after: { status: string },
  input: SetOrderStatusInput,
): void {
  const now = Date.now();
  if (before.status === "AwaitingApproval" && after.status !== "AwaitingApproval") {
    const decision = input.decidedBy
      ? after.status === "Rejected"
        ? "rejected"
        : after.status === "Cancelled"
          ? "cancelled"
          : "approved"
      : "timed_out";
    approvalDecided(
      decision,
      Math.max(0, now - Date.parse(before.updatedAt ?? before.createdAt)) / 1000,
    );
  }
  if (input.outcome && !before.outcome && before.status !== after.status) {
    const durationMs = Math.max(0, now - Date.parse(before.createdAt));
    orderFinished(after.status, durationMs / 1000);
    logInfo(context, ORDER_FINISHED_EVENT, {
      orderId: input.orderId,
      instanceId: input.orderId,
      outcome: after.status,
      durationMs,
    });
  }
}

df.app.activity("setOrderStatus", { handler: setOrderStatus });
