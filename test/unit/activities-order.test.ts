import { invokeActivity, logs } from "../harness/orchestration";
import { resetServices } from "../../src/adapters/services";
import { installFakeServices, sampleOrder, type Fakes } from "../fakes";

let fakes: Fakes;
const order = sampleOrder();

beforeEach(async () => {
  fakes = installFakeServices();
  logs.length = 0;
  await fakes.orders.create(order);
});
afterEach(() => resetServices());

function userLogs(): Record<string, unknown>[] {
  return logs.filter((l) => l.category === "user").map((l) => JSON.parse(l.message));
}

describe("setOrderStatus activity", () => {
  it("moves the order along the lifecycle and stores the outcome", async () => {
    await expect(
      invokeActivity("setOrderStatus", { orderId: order.id, status: "Charging" }),
    ).resolves.toEqual({ status: "Charging" });
    const outcome = { status: "PaymentDeclined", reason: "card_declined" };
    await invokeActivity("setOrderStatus", {
      orderId: order.id,
      status: "PaymentDeclined",
      outcome,
    });
    expect(await fakes.orders.get(order.id)).toMatchObject({ status: "PaymentDeclined", outcome });
    expect(userLogs()).toContainEqual({
      event: "order.status.set",
      orderId: order.id,
      instanceId: order.id,
      activity: "setOrderStatus",
      status: "PaymentDeclined",
    });
  });

  it("is a no-op when replayed", async () => {
    await invokeActivity("setOrderStatus", { orderId: order.id, status: "Charging" });
    const etag = fakes.orders.etagOf(order.id);
    await invokeActivity("setOrderStatus", { orderId: order.id, status: "Charging" });
    expect(fakes.orders.etagOf(order.id)).toBe(etag);
  });

  it("records a `via` stage and the status in one call (workflow version 2), idempotently", async () => {
    await invokeActivity("setOrderStatus", { orderId: order.id, status: "AwaitingApproval" });
    await expect(
      invokeActivity("setOrderStatus", { orderId: order.id, status: "Charging", via: "Approved" }),
    ).resolves.toEqual({ status: "Charging" });
    expect(await fakes.orders.get(order.id)).toMatchObject({ status: "Charging" });
    // Replayed (or retried after both writes): nothing changes.
    const etag = fakes.orders.etagOf(order.id);
    await invokeActivity("setOrderStatus", {
      orderId: order.id,
      status: "Charging",
      via: "Approved",
    });
    expect(fakes.orders.etagOf(order.id)).toBe(etag);
    // Retried after only the first write (the order is at `via` already): only the second.
    await fakes.orders.updateStatus(order.id, "Paid");
    await fakes.orders.updateStatus(order.id, "Notifying");
    await invokeActivity("setOrderStatus", {
      orderId: order.id,
      status: "Completed",
      via: "Notifying",
    });
    expect(await fakes.orders.get(order.id)).toMatchObject({ status: "Completed" });
    expect(userLogs()).toContainEqual(
      expect.objectContaining({ event: "order.status.set", status: "Completed", via: "Notifying" }),
    );
  });

  it("throws on a forbidden transition or a missing order, and logs it", async () => {
    await expect(
      invokeActivity("setOrderStatus", { orderId: order.id, status: "Completed" }),
    ).rejects.toThrow(/cannot change from Received to Completed/);
    await expect(
      invokeActivity("setOrderStatus", { orderId: "nope", status: "Charging" }),
    ).rejects.toThrow(/does not exist/);
    expect(
      userLogs()
        .filter((l) => l.event === "order.status.failed")
        .map((l) => l.orderId),
    ).toEqual([order.id, "nope"]);
  });

  it("uses the instance id the extension passes", async () => {
    await invokeActivity(
      "setOrderStatus",
      { orderId: order.id, status: "Charging" },
      { instanceId: "instance-9" },
    );
    expect(userLogs()[0]).toMatchObject({ orderId: order.id, instanceId: "instance-9" });
  });
});

describe("sendNotification activity", () => {
  it("enqueues one message per channel with a deterministic id", async () => {
    for (const channel of ["email", "sms", "push"]) {
      const result = await invokeActivity("sendNotification", {
        orderId: order.id,
        customerId: "c-1",
        channel,
        template: "order-completed",
        data: { total: 3998 },
      });
      expect(result).toEqual({ notificationId: `${order.id}:${channel}` });
    }
    expect(fakes.queue.sent.map((m) => [m.notificationId, m.channel, m.customerId])).toEqual([
      [`${order.id}:email`, "email", "c-1"],
      [`${order.id}:sms`, "sms", "c-1"],
      [`${order.id}:push`, "push", "c-1"],
    ]);
    expect(fakes.queue.sent[0]!.data).toEqual({ total: 3998 });
  });

  it("throws when the queue is unavailable", async () => {
    fakes.queue.failures.failNext("enqueue", new Error("amqp detached"));
    await expect(
      invokeActivity("sendNotification", {
        orderId: order.id,
        customerId: "c-1",
        channel: "email",
        template: "order-completed",
        data: {},
      }),
    ).rejects.toThrow("amqp detached");
    expect(userLogs()).toContainEqual(
      expect.objectContaining({
        event: "notification.enqueue.failed",
        orderId: order.id,
        channel: "email",
      }),
    );
  });
});
