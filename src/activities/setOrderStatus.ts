// Records the order's status (and final outcome) in the order store. Idempotent: replaying the
// same change is a no-op; the store refuses moves the lifecycle forbids.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { logError, logInfo } from "../observability/log";
import { activityFields } from "./activityLog";
import type { SetOrderStatusInput, SetOrderStatusOutput } from "./contracts";

export async function setOrderStatus(
  input: SetOrderStatusInput,
  context: InvocationContext,
): Promise<SetOrderStatusOutput> {
  const fields = { ...activityFields(context, input.orderId), status: input.status };
  try {
    const order = await getServices().orders.updateStatus(
      input.orderId,
      input.status,
      input.outcome,
    );
    logInfo(context, "order.status.set", fields);
    return { status: order.status };
  } catch (err) {
    logError(context, "order.status.failed", err, fields);
    throw err;
  }
}

df.app.activity("setOrderStatus", { handler: setOrderStatus });
