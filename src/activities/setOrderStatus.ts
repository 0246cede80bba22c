// Records the order's status (and final outcome) in the order store: a stage nothing else
// happens in (see recordStage for idempotency and `via`).
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import type { SetOrderStatusInput, SetOrderStatusOutput } from "./contracts";
import { recordStage } from "./recordStage";

export async function setOrderStatus(
  input: SetOrderStatusInput,
  context: InvocationContext,
): Promise<SetOrderStatusOutput> {
  const { orderId, ...record } = input;
  const order = await recordStage(context, orderId, record);
  return { status: order.status };
}

df.app.activity("setOrderStatus", { handler: setOrderStatus });
