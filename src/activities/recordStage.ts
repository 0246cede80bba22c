// Records a stage on the stored order: for setOrderStatus, and (workflow version 3) inside the
// activities that do the work, so a stage costs no activity round trip of its own. Idempotent: a
// retried call finds the change made and writes nothing; the store refuses moves the lifecycle
// forbids (so a late call never moves an order backwards, and nothing is charged on an order the
// lifecycle does not allow to be charged). With `via` it records that stage first.
import type { InvocationContext } from "@azure/functions";
import { getServices } from "../adapters/services";
import type { Order, OrderStatus } from "../domain/order";
import { logError, logInfo } from "../observability/log";
import { approvalDecided, orderFinished } from "../observability/metrics";
import { ORDER_FINISHED_EVENT } from "../observability/metricNames";
import { activityFields } from "./activityLog";
import type { StageRecord } from "./contracts";

/**
 * `doneAt`: the status the calling activity ends with. An order already there got this stage in
 * an earlier attempt (the activity crashed after its last write): nothing is written.
 */
export async function recordStage(
  context: InvocationContext,
  orderId: string,
  record: StageRecord,
  options: { doneAt?: OrderStatus } = {},
): Promise<Order> {
  const fields = {
    ...activityFields(context, orderId),
    status: record.status,
    ...(record.via ? { via: record.via } : {}),
  };
  try {
    // One store call: a retry that finds the changes made writes nothing (and counts nothing
    // again); a retry after the first of two writes makes only the second.
    const { before, after } = await getServices().orders.advance(
      orderId,
      [
        ...(record.via ? [{ status: record.via, decidedBy: record.decidedBy }] : []),
        { status: record.status, outcome: record.outcome, decidedBy: record.decidedBy },
      ],
      options.doneAt ? { doneAt: options.doneAt } : {},
    );
    if (options.doneAt && after.status === options.doneAt) return after;
    logInfo(context, "order.status.set", fields);
    recordChange(context, orderId, before, after, record);
    return after;
  } catch (err) {
    logError(context, "order.status.failed", err, fields);
    throw err;
  }
}

function recordChange(
  context: InvocationContext,
  orderId: string,
  before: Order,
  after: { status: string },
  record: StageRecord,
): void {
  const now = Date.now();
  if (before.status === "AwaitingApproval" && after.status !== "AwaitingApproval") {
    const decision = record.decidedBy
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
  if (record.outcome && !before.outcome && before.status !== after.status) {
    const durationMs = Math.max(0, now - Date.parse(before.createdAt));
    orderFinished(after.status, durationMs / 1000);
    logInfo(context, ORDER_FINISHED_EVENT, {
      orderId,
      instanceId: orderId,
      outcome: after.status,
      durationMs,
    });
  }
}
