// Log fields for an activity invocation: the order id, and the orchestration instance id the
// Durable extension passes in the trigger metadata (equal to the order id in this app).
import type { InvocationContext } from "@azure/functions";
import type { LogFields } from "../observability/log";

export function activityFields(context: InvocationContext, orderId: string): LogFields {
  const instanceId = context.triggerMetadata?.instanceId;
  return {
    orderId,
    instanceId: typeof instanceId === "string" && instanceId ? instanceId : orderId,
    activity: context.functionName,
  };
}
