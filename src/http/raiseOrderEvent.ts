// Shared by approveOrder and cancelOrder: an event is raised only while the workflow waits for a
// decision (instance Running with custom status stage AwaitingApproval); otherwise 409, since an
// event sent at another time would be ignored or, worse, consumed later by surprise.
// A timer firing between the check and the raise is harmless: the extension drops the event
// (410) and the status endpoint reports the outcome.
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import type { DurableClient } from "durable-functions";
import type { Order, OrderCustomStatus } from "../domain/order";
import { logInfo } from "../observability/log";
import { getInstance } from "../intake/instances";
import { problems } from "./problem";
import { accepted } from "./responses";

export async function raiseOrderEvent(
  request: HttpRequest,
  client: DurableClient,
  context: InvocationContext,
  order: Order,
  event: { name: string; data: unknown; action: string },
): Promise<HttpResponseInit> {
  const orderId = order.id;
  const instance = await getInstance(client, orderId);
  const stage = (instance?.customStatus as Partial<OrderCustomStatus> | null | undefined)?.stage;
  if (!instance || instance.runtimeStatus !== "Running" || stage !== "AwaitingApproval") {
    const current = stage && instance?.runtimeStatus === "Running" ? stage : order.status;
    return problems.conflict(
      `Order ${orderId} is not awaiting approval (status ${current}); it cannot be ${event.action} now.`,
    );
  }
  await client.raiseEvent(orderId, event.name, event.data);
  logInfo(context, "order.event_raised", { orderId, instanceId: orderId, event: event.name });
  return accepted(request, orderId, { orderId, status: "AwaitingApproval" });
}
