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
    return { status: order.status };
  } catch (err) {
    logError(context, "order.status.failed", err, fields);
    throw err;
  }
}

df.app.activity("setOrderStatus", { handler: setOrderStatus });
