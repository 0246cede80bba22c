// Workflow version 3's activities record the order's stages themselves: chargePayment writes
// Charging before it charges, sendNotifications writes Paid and Notifying, sends every channel in
// one batch and writes Completed. Activities run at least once, so each is checked for a retry
// after a failure or a crash at every point: nothing lost, nothing charged or sent twice.
import { invokeActivity, logs } from "../harness/orchestration";
import { resetServices } from "../../src/adapters/services";
import type { OrderStatus } from "../../src/domain/order";
import { installFakeServices, sampleOrder, type Fakes } from "../fakes";

let fakes: Fakes;
const order = sampleOrder();
const decidedBy = { id: "u-amy", name: "amy", at: "2024-06-01T10:00:00.000Z" };

beforeEach(async () => {
  fakes = installFakeServices();
  logs.length = 0;
  await fakes.orders.create(order);
});
afterEach(() => resetServices());

function userLogs(): Record<string, unknown>[] {
  return logs.filter((l) => l.category === "user").map((l) => JSON.parse(l.message));
}
const written = () => fakes.orders.changes.map((c) => c.status);
const charges = () => fakes.ledger.entries.filter((e) => e.kind === "charge");

/** Makes the next write of `status` fail (a store outage at that point). */
function failWriteOf(status: OrderStatus): void {
  const real = fakes.orders.updateStatus.bind(fakes.orders);
  let armed = true;
  fakes.orders.updateStatus = async (id, next, ...rest) => {
    if (armed && next === status) {
      armed = false;
      throw new Error("cosmos 503");
    }
    return real(id, next, ...rest);
  };
}

async function chargeInput(stage: object) {
  const { token } = await fakes.gateway.tokenize("4242424242424242");
  return { orderId: order.id, token, amount: 3998, currency: "USD", stage };
}

describe("chargePayment with a stage (workflow version 3)", () => {
  it("records Charging before it charges; a retry writes and charges nothing more", async () => {
    const input = await chargeInput({ status: "Charging" });
    const first = await invokeActivity("chargePayment", input);
    const etag = fakes.orders.etagOf(order.id);
    await expect(invokeActivity("chargePayment", input)).resolves.toEqual(first);
    expect(written()).toEqual(["Charging"]);
    expect(fakes.orders.etagOf(order.id)).toBe(etag);
    expect(charges()).toHaveLength(1);
  });

  it("after an approval records Approved, then Charging, with the approver", async () => {
    await fakes.orders.updateStatus(order.id, "AwaitingApproval");
    await invokeActivity(
      "chargePayment",
      await chargeInput({ status: "Charging", via: "Approved", decidedBy }),
    );
    expect(written()).toEqual(["AwaitingApproval", "Approved", "Charging"]);
    expect(await fakes.orders.get(order.id)).toMatchObject({ status: "Charging", decidedBy });
    expect(charges()).toHaveLength(1);
  });

  it("a failed stage write throws before any money moves; the retry charges once", async () => {
    const input = await chargeInput({ status: "Charging" });
    failWriteOf("Charging");
    await expect(invokeActivity("chargePayment", input)).rejects.toThrow("cosmos 503");
    expect(fakes.ledger.entries).toEqual([]);
    expect(userLogs()).toContainEqual(
      expect.objectContaining({ event: "order.status.failed", activity: "chargePayment" }),
    );
    await invokeActivity("chargePayment", input);
    expect(written()).toEqual(["Charging"]);
    expect(charges()).toHaveLength(1);
  });

  it("refuses to charge an order the lifecycle does not let charge (cancelled, or moved on)", async () => {
    await fakes.orders.updateStatus(order.id, "AwaitingApproval");
    await fakes.orders.updateStatus(order.id, "Cancelled");
    await expect(
      invokeActivity("chargePayment", await chargeInput({ status: "Charging" })),
    ).rejects.toThrow(/cannot change from Cancelled to Charging/);
    expect(fakes.ledger.entries).toEqual([]);
  });

  it("a late duplicate after the order moved on charges nothing twice", async () => {
    const input = await chargeInput({ status: "Charging" });
    await invokeActivity("chargePayment", input);
    await fakes.orders.updateStatus(order.id, "Paid");
    await expect(invokeActivity("chargePayment", input)).rejects.toThrow(/from Paid to Charging/);
    expect(charges()).toHaveLength(1);
    expect((await fakes.orders.get(order.id))?.status).toBe("Paid");
  });
});

describe("sendNotifications activity (workflow version 3)", () => {
  const outcome = { status: "Completed", chargeId: `ch_sim_approve_${order.id}` };
  const input = {
    orderId: order.id,
    customerId: "c-1",
    channels: ["email", "sms", "push"],
    template: "order-completed",
    data: { total: 3998 },
    stage: { status: "Notifying", via: "Paid" },
    outcome,
  };
  const ids = ["email", "sms", "push"].map((c) => `${order.id}:${c}`);

  beforeEach(() => fakes.orders.updateStatus(order.id, "Charging"));

  it("records Paid and Notifying, sends every channel in one batch, then records Completed", async () => {
    await expect(invokeActivity("sendNotifications", input)).resolves.toEqual({
      notificationIds: ids,
    });
    expect(written()).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
    expect(fakes.queue.sends).toEqual([3]);
    expect(fakes.queue.sent.map((m) => [m.notificationId, m.channel, m.customerId])).toEqual(
      ids.map((id, i) => [id, input.channels[i], "c-1"]),
    );
    expect(await fakes.orders.get(order.id)).toMatchObject({ status: "Completed", outcome });
    const events = userLogs().map((l) => l.event);
    expect(events.filter((e) => e === "notification.enqueued")).toHaveLength(3);
    expect(events.filter((e) => e === "order.finished")).toHaveLength(1);
  });

  it("a retry after the last write (a crash before the result was kept) writes and sends nothing", async () => {
    await invokeActivity("sendNotifications", input);
    const etag = fakes.orders.etagOf(order.id);
    await expect(invokeActivity("sendNotifications", input)).resolves.toEqual({
      notificationIds: ids,
    });
    expect(fakes.orders.etagOf(order.id)).toBe(etag);
    expect(fakes.queue.sends).toEqual([3]);
    expect(userLogs().filter((l) => l.event === "order.finished")).toHaveLength(1);
  });

  it("the queue failing leaves the order at Notifying with nothing sent; the retry finishes", async () => {
    fakes.queue.failures.failNext("enqueueBatch", new Error("amqp detached"));
    await expect(invokeActivity("sendNotifications", input)).rejects.toThrow("amqp detached");
    expect((await fakes.orders.get(order.id))?.status).toBe("Notifying");
    expect(fakes.queue.sent).toEqual([]);
    expect(userLogs()).toContainEqual(
      expect.objectContaining({ event: "notification.enqueue.failed", notificationIds: ids }),
    );
    await invokeActivity("sendNotifications", input);
    expect(written()).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
    expect(fakes.queue.sends).toEqual([3]);
  });

  it("the Completed write failing after the send: the retry re-sends the same ids and completes", async () => {
    failWriteOf("Completed");
    await expect(invokeActivity("sendNotifications", input)).rejects.toThrow("cosmos 503");
    expect((await fakes.orders.get(order.id))?.status).toBe("Notifying");
    await invokeActivity("sendNotifications", input);
    // Same message ids: the delivery record (one per notificationId) drops the copy.
    expect(fakes.queue.sent.map((m) => m.notificationId)).toEqual([...ids, ...ids]);
    expect(written()).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
  });

  it("a crash between Paid and Notifying: the retry writes only Notifying", async () => {
    failWriteOf("Notifying");
    await expect(invokeActivity("sendNotifications", input)).rejects.toThrow("cosmos 503");
    expect((await fakes.orders.get(order.id))?.status).toBe("Paid");
    await invokeActivity("sendNotifications", input);
    expect(written()).toEqual(["Charging", "Paid", "Notifying", "Completed"]);
    expect(fakes.queue.sends).toEqual([3]);
  });

  it("sends nothing for an order already ended otherwise (compensated: Failed)", async () => {
    await fakes.orders.updateStatus(order.id, "Failed");
    await expect(invokeActivity("sendNotifications", input)).rejects.toThrow(
      /cannot change from Failed to Notifying/,
    );
    expect(fakes.queue.sent).toEqual([]);
  });
});
