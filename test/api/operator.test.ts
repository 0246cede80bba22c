// The operator API through the registered functions, with in-memory services, the real
// DurableClient against the fake Durable management API, tokens from the development issuer, and
// every response checked against openapi.yaml: rejected messages (tokenised at rejection,
// resubmitted through the intake, discarded), dead letters, stuck-order actions per the table,
// the audit of every action, and who may call what.
import { encodeToken } from "../../src/http/paging";
import {
  invokeHttp,
  invokeServiceBus,
  loadApp,
  setDurableClientBinding,
  type HttpResult,
} from "../harness/app";
import { resetServices } from "../../src/adapters/services";
import { resetSettings } from "../../src/config";
import type { Order, OrderStatus } from "../../src/domain/order";
import { deriveOrderId } from "../../src/intake/orderId";
import { installFakeServices, sampleOrder, validOrderRequest, type Fakes } from "../fakes";
import { bearer, startTestIssuer, type TestIssuer } from "../helpers/tokens";
import { FakeDurableServer } from "./support/durableServer";
import { OpenApi } from "./support/openapi";

const PAN = "4242424242424242";
const openapi = new OpenApi();
const durable = new FakeDurableServer();
let fakes: Fakes;
let issuer: TestIssuer;

type Who = "operator" | "approver" | "customer" | "none";

async function tokenOf(who: Who): Promise<string | undefined> {
  const t = issuer.tokens;
  if (who === "operator") return t.operator("olu", "Olu Operator");
  if (who === "approver") return t.approver("ada", "Ada Approver");
  if (who === "customer") return t.customer("c-1");
  return undefined;
}

async function call(method: string, path: string, body?: unknown, who: Who = "operator") {
  const token = await tokenOf(who);
  const res = await invokeHttp({
    method,
    path,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? bearer(token) : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(openapi.check(res)).toEqual([]);
  expect(res.text).not.toContain(PAN);
  expect(res.text).not.toMatch(/tok_sim_[a-z-]+_[0-9a-f]{32}/);
  return res;
}
const get = (path: string, who?: Who) => call("GET", path, undefined, who);
const post = (path: string, body: unknown, who?: Who) => call("POST", path, body, who);
const json = (res: HttpResult) => res.json as any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** An inbound message whose country is wrong (card valid, so it is tokenised). */
function badCountry(): Record<string, unknown> {
  const body = validOrderRequest();
  return { ...body, shippingAddress: { ...(body.shippingAddress as object), country: "XX" } };
}

async function reject(body: unknown, messageId: string) {
  await invokeServiceBus("ordersInbound", body, { messageId });
  const id = deriveOrderId("rejected", messageId);
  expect(fakes.rejected.records.map((r) => r.id)).toContain(id);
  return id;
}

beforeAll(async () => {
  loadApp();
  issuer = await startTestIssuer();
  await durable.start();
  setDurableClientBinding(durable.clientBinding());
});
afterAll(async () => {
  await durable.stop();
  await issuer.stop();
});
beforeEach(() => {
  resetSettings();
  resetServices();
  fakes = installFakeServices();
  durable.reset();
});
afterEach(() => resetServices());

describe("rejected messages", () => {
  it("a valid card is tokenised at rejection: the record keeps the token, never the number; the list shows brand and last four", async () => {
    const id = await reject(badCountry(), "m-bad-1");
    const stored = fakes.rejected.records[0]!;
    expect(stored.card).toMatchObject({ brand: "visa", last4: "4242" });
    expect(stored.card?.token).toMatch(/^tok_sim_approve_/);
    expect(JSON.stringify(stored)).not.toContain(PAN);
    const list = await get("/operator/rejected-messages?state=rejected");
    expect(list.status).toBe(200);
    expect(json(list).items).toEqual([
      expect.objectContaining({
        id,
        messageId: "m-bad-1",
        state: "rejected",
        card: { brand: "visa", last4: "4242" },
        reasons: [{ field: "/shippingAddress/country", detail: expect.any(String) }],
      }),
    ]);
  });

  it("an invalid card is not tokenised: the message can only be discarded", async () => {
    const id = await reject(
      { ...validOrderRequest(), payment: { cardNumber: "4242424242424241" } },
      "m-card",
    );
    expect(fakes.rejected.records[0]!.card).toBeUndefined();
    const res = await post(`/operator/rejected-messages/${id}/resubmit`, {
      reason: "try",
      order: validOrderRequest(),
    });
    expect(res.status).toBe(409);
    expect(json(res).detail).toMatch(/only be discarded/);
    expect(fakes.orders.size).toBe(0);
  });

  it("resubmitted unchanged, it is rejected again with the same reasons and nothing is created", async () => {
    const id = await reject(badCountry(), "m-bad-2");
    const original = fakes.rejected.records[0]!.reasons;
    const listed = json(await get("/operator/rejected-messages")).items[0];
    const res = await post(`/operator/rejected-messages/${id}/resubmit`, {
      reason: "as is",
      order: listed.body,
    });
    expect(res.status).toBe(400);
    const again = (json(res).errors as { pointer: string; detail: string }[]).map((e) => ({
      pointer: e.pointer.replace(/^\/order/, ""),
      detail: e.detail,
    }));
    expect(again).toEqual(original);
    expect(fakes.orders.size).toBe(0);
    expect(durable.starts).toEqual([]);
    expect(fakes.audit.entries).toEqual([]);
    expect((await fakes.rejected.get(id))?.state).toBe("rejected");
  });

  it("resubmitted with corrected fields it becomes one order (with the stored token), also when resubmitted twice", async () => {
    const id = await reject(badCountry(), "m-bad-3");
    const token = fakes.rejected.records[0]!.card!.token;
    const { payment: _card, ...corrected } = validOrderRequest();
    const first = await post(`/operator/rejected-messages/${id}/resubmit`, {
      reason: "fixed the country",
      order: corrected,
    });
    expect(first.status).toBe(201);
    const orderId = deriveOrderId("servicebus", "m-bad-3");
    expect(json(first)).toEqual({
      orderId,
      statusQueryUri: `http://localhost:7071/api/orders/${orderId}/status`,
    });
    const second = await post(`/operator/rejected-messages/${id}/resubmit`, {
      reason: "clicked twice",
      order: corrected,
    });
    expect(second.status).toBe(200);
    expect(json(second).orderId).toBe(orderId);
    expect(fakes.orders.size).toBe(1);
    expect(durable.starts.map((s) => s.instanceId)).toEqual([orderId]);
    expect((await fakes.orders.get(orderId))?.payment.token).toBe(token);
    expect(await fakes.rejected.get(id)).toMatchObject({
      state: "resubmitted",
      resolution: { by: { id: "olu", name: "Olu Operator" }, reason: "fixed the country", orderId },
    });
    expect(
      fakes.audit.entries.map((e) => [e.action, e.target.id, e.reason, e.details?.orderId]),
    ).toEqual([
      ["resubmit", id, "fixed the country", orderId],
      ["resubmit", id, "clicked twice", orderId],
    ]);
    // A redelivery of the original message does not reopen it.
    await invokeServiceBus("ordersInbound", badCountry(), {
      messageId: "m-bad-3",
      deliveryCount: 2,
    });
    expect((await fakes.rejected.get(id))?.state).toBe("resubmitted");
  });

  it("discard keeps the message, marked with who and why; a discarded message cannot be resubmitted", async () => {
    const id = await reject(badCountry(), "m-bad-4");
    const res = await post(`/operator/rejected-messages/${id}/discard`, { reason: "test traffic" });
    expect(res.status).toBe(200);
    expect(json(res)).toMatchObject({
      id,
      state: "discarded",
      resolution: { by: { id: "olu" }, reason: "test traffic" },
    });
    expect(
      json(await get("/operator/rejected-messages?state=discarded")).items.map(
        (r: { id: string }) => r.id,
      ),
    ).toEqual([id]);
    expect(json(await get("/operator/rejected-messages?state=rejected")).items).toEqual([]);
    const again = await post(`/operator/rejected-messages/${id}/resubmit`, {
      reason: "oops",
      order: validOrderRequest(),
    });
    expect(again.status).toBe(409);
    expect(fakes.audit.entries.map((e) => e.action)).toEqual(["discard"]);
  });

  it("a mutating call needs a reason; unknown ids are 404; bad query parameters are 400", async () => {
    const id = await reject(badCountry(), "m-bad-5");
    const noReason = await post(`/operator/rejected-messages/${id}/discard`, {});
    expect(noReason.status).toBe(400);
    expect(json(noReason).errors).toEqual([{ pointer: "/reason", detail: "is required" }]);
    expect((await post(`/operator/rejected-messages/${id}/discard`, { reason: "  " })).status).toBe(
      400,
    );
    expect((await post("/operator/rejected-messages/nope/discard", { reason: "x" })).status).toBe(
      404,
    );
    expect((await get("/operator/rejected-messages?state=lost")).status).toBe(400);
    expect((await get("/operator/rejected-messages?limit=0")).status).toBe(400);
    expect((await get("/operator/rejected-messages?continuationToken=forged!")).status).toBe(400);
  });

  it("lists page with limit and continuationToken", async () => {
    for (let i = 0; i < 3; i++) await reject(badCountry(), `m-page-${i}`);
    const first = json(await get("/operator/rejected-messages?limit=2"));
    expect(first.items).toHaveLength(2);
    expect(first.continuationToken).toEqual(expect.any(String));
    const rest = json(
      await get(`/operator/rejected-messages?limit=2&continuationToken=${first.continuationToken}`),
    );
    expect(rest.items).toHaveLength(1);
    expect(rest.continuationToken).toBeNull();
    // A token in our envelope that the store refuses is the caller's 400, not a 500.
    const refused = encodeToken(btoa("not-a-number"));
    for (const route of ["/operator/rejected-messages", "/operator/audit"]) {
      const res = await get(`${route}?continuationToken=${refused}`);
      expect({ route, status: res.status, errors: json(res).errors }).toEqual({
        route,
        status: 400,
        errors: [expect.objectContaining({ parameter: "continuationToken" })],
      });
    }
  });
});

describe("dead letters", () => {
  const notification = (orderId: string) => ({
    notificationId: `${orderId}:email`,
    orderId,
    customerId: "c-1",
    channel: "email",
    template: "order-completed",
    data: { last4: "4242" },
  });

  it("peek shows reason, description and delivery count with card numbers masked", async () => {
    fakes.deadLetters.add("orders-inbound", {
      messageId: "dl-1",
      deadLetterReason: "MaxDeliveryCountExceeded",
      deadLetterErrorDescription: "Message could not be consumed after 10 delivery attempts.",
      deliveryCount: 10,
      enqueuedAt: "2024-01-01T00:00:00.000Z",
      body: validOrderRequest(),
    });
    const res = await get("/operator/dead-letters/orders-inbound");
    expect(res.status).toBe(200);
    expect(json(res).items).toEqual([
      expect.objectContaining({
        sequenceNumber: "1",
        messageId: "dl-1",
        deadLetterReason: "MaxDeliveryCountExceeded",
        deliveryCount: 10,
      }),
    ]);
    expect((await get("/operator/dead-letters/payments")).status).toBe(404);
  });

  it("a dead-lettered notification resubmitted twice is delivered once", async () => {
    const orderId = "0f8fad5b-d9cb-469f-a165-70867728950e";
    // The same notification dead-lettered twice (two deliveries that both failed for good).
    const a = fakes.deadLetters.add("notifications", {
      messageId: `${orderId}:email`,
      body: notification(orderId),
    });
    const b = fakes.deadLetters.add("notifications", {
      messageId: `${orderId}:email`,
      body: notification(orderId),
    });
    for (const m of [a, b]) {
      const res = await post(`/operator/dead-letters/notifications/${m.sequenceNumber}/resubmit`, {
        reason: "provider is back",
      });
      expect(res.status).toBe(200);
      expect(json(res)).toMatchObject({ queue: "notifications", orderId });
    }
    expect(fakes.deadLetters.queues.get("notifications")).toEqual([]);
    expect(fakes.deadLetters.resent).toHaveLength(2);
    // The queue delivers both resent messages to the trigger.
    for (const r of fakes.deadLetters.resent) {
      await invokeServiceBus("deliverNotification", r.message.body, {
        messageId: r.message.messageId!,
      });
    }
    expect(
      fakes.deliveries.deliveries.filter((d) => d.notificationId === `${orderId}:email`),
    ).toHaveLength(1);
    expect(fakes.audit.entries.map((e) => [e.action, e.target.kind, e.details?.orderId])).toEqual([
      ["resubmit", "dead-letter", orderId],
      ["resubmit", "dead-letter", orderId],
    ]);
    // Gone from the dead-letter queue: a third resubmission finds nothing.
    expect(
      (
        await post(`/operator/dead-letters/notifications/${a.sequenceNumber}/resubmit`, {
          reason: "again",
        })
      ).status,
    ).toBe(404);
  });

  it("a dead-lettered inbound order goes through the intake with its message id: twice is one order", async () => {
    for (let i = 0; i < 2; i++) {
      const m = fakes.deadLetters.add("orders-inbound", {
        messageId: "dl-order",
        body: validOrderRequest(),
      });
      const res = await post(`/operator/dead-letters/orders-inbound/${m.sequenceNumber}/resubmit`, {
        reason: "Cosmos is back",
      });
      expect(res.status).toBe(200);
      expect(json(res).orderId).toBe(deriveOrderId("servicebus", "dl-order"));
    }
    expect(fakes.orders.size).toBe(1);
    expect(durable.starts).toHaveLength(1);
  });

  it("an invalid dead-lettered order stays (400); discard removes it and keeps the masked body in the audit", async () => {
    const m = fakes.deadLetters.add("orders-inbound", { messageId: "dl-bad", body: badCountry() });
    const res = await post(`/operator/dead-letters/orders-inbound/${m.sequenceNumber}/resubmit`, {
      reason: "retry",
    });
    expect(res.status).toBe(400);
    expect(fakes.deadLetters.queues.get("orders-inbound")).toHaveLength(1);
    expect(fakes.orders.size).toBe(0);
    const discarded = await post(
      `/operator/dead-letters/orders-inbound/${m.sequenceNumber}/discard`,
      { reason: "junk" },
    );
    expect(discarded.status).toBe(200);
    expect(fakes.deadLetters.queues.get("orders-inbound")).toEqual([]);
    const [entry] = fakes.audit.entries;
    expect(entry).toMatchObject({
      action: "discard",
      reason: "junk",
      target: { kind: "dead-letter", id: `orders-inbound/${m.sequenceNumber}` },
    });
    expect(JSON.stringify(entry)).toContain("4242");
    expect(JSON.stringify(entry)).not.toContain(PAN);
  });
});

describe("stuck orders", () => {
  const OLD = "2024-01-01T00:00:00.000Z";
  let n = 0;
  function stuck(status: OrderStatus, runtimeStatus?: string, extra: Partial<Order> = {}): Order {
    n++;
    const id = `0f8fad5b-d9cb-469f-a165-${String(n).padStart(12, "0")}`;
    const order = sampleOrder({ id, status, updatedAt: OLD, ...extra });
    fakes.orders.put(order);
    if (runtimeStatus)
      durable.set(id, { runtimeStatus, customStatus: { stage: status, updatedAt: OLD } });
    return order;
  }
  async function charge(order: Order) {
    await fakes.ledger.record({
      id: `charge:${order.id}`,
      orderId: order.id,
      kind: "charge",
      amount: order.totals.total,
      currency: order.currency,
      reference: `ch_sim_approve_${order.id}`,
      createdAt: OLD,
    });
  }
  const act = (id: string, action: string, reason = "stuck too long") =>
    post(`/operator/orders/${id}/actions/${action}`, { reason });

  it("lists stuck orders with the actions the table allows now; fresh and finished orders are not stuck", async () => {
    const received = stuck("Received");
    const charging = stuck("Charging", "Running");
    const paid = stuck("Paid", "Failed");
    await charge(paid);
    stuck("Charging", "Running", { updatedAt: new Date().toISOString() });
    stuck("Completed", "Completed");
    const res = await get("/operator/stuck-orders");
    expect(res.status).toBe(200);
    const byId = Object.fromEntries(
      json(res).items.map((i: { orderId: string }) => [i.orderId, i]),
    );
    expect(Object.keys(byId).sort()).toEqual([received.id, charging.id, paid.id].sort());
    expect(byId[received.id]).toMatchObject({
      status: "Received",
      runtimeStatus: "None",
      actions: ["start", "cancel"],
      thresholdSeconds: 120,
    });
    expect(byId[charging.id]).toMatchObject({ runtimeStatus: "Running", actions: [] });
    expect(byId[paid.id]).toMatchObject({ runtimeStatus: "Failed", actions: ["rewind", "refund"] });
    expect(byId[paid.id].ageSeconds).toBeGreaterThan(byId[paid.id].thresholdSeconds);
  });

  it("start: a Received order without an orchestration is started with its own input", async () => {
    const order = stuck("Received");
    const res = await act(order.id, "start");
    expect(res.status).toBe(200);
    expect(json(res)).toEqual({ orderId: order.id, action: "start", status: "Received" });
    expect(durable.starts).toEqual([
      expect.objectContaining({
        instanceId: order.id,
        input: expect.objectContaining({ orderId: order.id }),
      }),
    ]);
    expect((await act(order.id, "start")).status).toBe(409); // now it has one
    expect(durable.starts).toHaveLength(1);
  });

  it("cancel before the charge: terminates the instance, the order ends Cancelled with the reason", async () => {
    const order = stuck("Received", "Running");
    const res = await act(order.id, "cancel", "customer called");
    expect(res.status).toBe(200);
    expect(json(res).status).toBe("Cancelled");
    expect(durable.operations).toEqual([
      expect.objectContaining({ instanceId: order.id, op: "terminate" }),
    ]);
    const stored = await fakes.orders.get(order.id);
    expect(stored?.outcome).toMatchObject({
      status: "Cancelled",
      reason: expect.stringContaining("customer called"),
    });
    expect(stored?.operatorActions).toEqual([
      expect.objectContaining({
        action: "cancel",
        reason: "customer called",
        by: { id: "olu", name: "Olu Operator" },
        stage: "Received",
        runtimeStatus: "Running",
      }),
    ]);
    // The status endpoint reports the recorded outcome, not "ended unexpectedly".
    const status = await get(`/orders/${order.id}/status`);
    expect(json(status)).toMatchObject({ status: "Cancelled" });
  });

  it("cancel is refused once a charge is in the ledger; refund is the way out", async () => {
    const order = stuck("Charging", "Terminated");
    await charge(order);
    const refused = await act(order.id, "cancel");
    expect(refused.status).toBe(409);
    expect(json(refused).detail).toMatch(
      /stage Charging with runtime status Terminated.*allowed: refund/,
    );
    const refund = await act(order.id, "refund", "charged but stuck");
    expect(refund.status).toBe(200);
    expect(json(refund).status).toBe("Failed");
    const stored = await fakes.orders.get(order.id);
    expect(stored?.outcome).toMatchObject({
      status: "Failed",
      chargeId: `ch_sim_approve_${order.id}`,
      refundId: `re_sim_${order.id}`,
    });
    expect((await fakes.ledger.list(order.id)).map((e) => e.kind).sort()).toEqual([
      "charge",
      "refund",
    ]);
    expect((await act(order.id, "refund")).status).toBe(409); // refunded: nothing more to do
    expect((await fakes.ledger.list(order.id)).filter((e) => e.kind === "refund")).toHaveLength(1);
  });

  it("Failed with the refund failed is listed; refund gives the money back and records it on the order", async () => {
    const order = stuck("Failed", "Failed", {
      outcome: { status: "Failed", reason: "capture failed; refund failed", chargeId: "x" },
    });
    await charge(order);
    const refunded = stuck("Failed", "Completed", {
      outcome: { status: "Failed", chargeId: "y", refundId: "re_y" },
    });
    const listed = json(await get("/operator/stuck-orders")).items;
    expect(listed.map((i: { orderId: string }) => i.orderId)).toEqual([order.id]);
    expect(listed[0].actions).toEqual(["rewind", "refund"]);
    const res = await act(order.id, "refund", "gateway refund retried by hand");
    expect(res.status).toBe(200);
    expect(json(res).status).toBe("Failed");
    const stored = await fakes.orders.get(order.id);
    expect(stored?.operatorActions).toEqual([
      expect.objectContaining({ action: "refund", refundId: `re_sim_${order.id}` }),
    ]);
    expect(json(await get("/operator/stuck-orders")).items).toEqual([]);
    expect(refunded.status).toBe("Failed");
  });

  it("refund after the charge with a live instance terminates it first", async () => {
    const order = stuck("Notifying", "Running");
    await charge(order);
    expect((await act(order.id, "cancel")).status).toBe(409);
    const res = await act(order.id, "refund");
    expect(res.status).toBe(200);
    expect(durable.operations.map((o) => o.op)).toEqual(["terminate"]);
    expect((await fakes.orders.get(order.id))?.status).toBe("Failed");
  });

  it("rewind only for runtime Failed; a running charge is left alone", async () => {
    const failed = stuck("Charging", "Failed");
    const res = await act(failed.id, "rewind", "gateway fixed");
    expect(res.status).toBe(200);
    expect(durable.operations).toEqual([
      expect.objectContaining({
        instanceId: failed.id,
        op: "rewind",
        reason: expect.stringContaining("gateway fixed"),
      }),
    ]);
    const running = stuck("Charging", "Running");
    for (const action of ["rewind", "cancel", "refund", "start", "resume"]) {
      const refused = await act(running.id, action);
      expect(refused.status).toBe(409);
      expect(json(refused).detail).toMatch(/stage Charging with runtime status Running/);
    }
    expect((await act(running.id, "explode")).status).toBe(404);
    expect(durable.operations).toHaveLength(1);
  });

  it("resume a suspended instance; cancel from Charging without a charge ends PaymentFailed", async () => {
    const suspended = stuck("Approved", "Suspended");
    expect((await act(suspended.id, "resume")).status).toBe(200);
    expect(durable.operations.map((o) => o.op)).toEqual(["resume"]);
    const dead = stuck("Charging");
    const res = await act(dead.id, "cancel");
    expect(res.status).toBe(200);
    expect(json(res).status).toBe("PaymentFailed");
  });

  it("every action is audited: who, what, when, why", async () => {
    const a = stuck("Received");
    const b = stuck("AwaitingApproval", "Failed");
    await act(a.id, "start", "never started");
    await act(b.id, "cancel", "approver left");
    const res = await get("/operator/audit");
    expect(json(res).items).toEqual([
      expect.objectContaining({
        action: "cancel",
        target: { kind: "order", id: b.id },
        reason: "approver left",
        actor: { id: "olu", name: "Olu Operator" },
      }),
      expect.objectContaining({
        action: "start",
        target: { kind: "order", id: a.id },
        reason: "never started",
      }),
    ]);
    expect(json(await get(`/operator/audit?orderId=${a.id}`)).items).toHaveLength(1);
    expect(json(await get("/operator/audit?actor=someone-else")).items).toEqual([]);
  });
});

describe("approvals and cancels are audited", () => {
  it("an approver's decision and an operator's cancel write entries; a customer's own cancel does not", async () => {
    const order = sampleOrder({
      id: "0f8fad5b-d9cb-469f-a165-aaaaaaaaaaaa",
      status: "AwaitingApproval",
      customerId: "c-1",
    });
    fakes.orders.put(order);
    durable.set(order.id, {
      runtimeStatus: "Running",
      customStatus: { stage: "AwaitingApproval", updatedAt: order.updatedAt },
    });
    expect(
      (await post(`/orders/${order.id}/cancel`, { reason: "changed my mind" }, "customer")).status,
    ).toBe(202);
    expect(fakes.audit.entries).toEqual([]);
    expect(
      (
        await post(
          `/orders/${order.id}/approval`,
          { approved: false, reason: "too large" },
          "approver",
        )
      ).status,
    ).toBe(202);
    expect((await post(`/orders/${order.id}/cancel`, { reason: "fraud" }, "operator")).status).toBe(
      202,
    );
    expect(fakes.audit.entries.map((e) => [e.action, e.actor.id, e.reason])).toEqual([
      ["reject", "ada", "too large"],
      ["cancel", "olu", "fraud"],
    ]);
  });
});

describe("history, trace and statistics", () => {
  const order = () =>
    sampleOrder({
      id: "0f8fad5b-d9cb-469f-a165-bbbbbbbbbbbb",
      status: "Completed",
      traceId: "0af7651916cd43dd8448eb211c80319c",
    });

  it("history: events with retries counted and no payment token, for operators and approvers who may see the order", async () => {
    const o = order();
    fakes.orders.put(o);
    durable.set(o.id, {
      runtimeStatus: "Completed",
      history: [
        {
          EventType: "ExecutionStarted",
          FunctionName: "processOrder",
          Timestamp: "2024-01-01T00:00:00Z",
          Input: { orderId: o.id, payment: o.payment },
        },
        {
          EventType: "TaskFailed",
          FunctionName: "chargePayment",
          Timestamp: "2024-01-01T00:00:01Z",
          Reason: "timeout",
        },
        {
          EventType: "TimerFired",
          Timestamp: "2024-01-01T00:00:02Z",
          FireAt: "2024-01-01T00:00:02Z",
        },
        {
          EventType: "TaskCompleted",
          FunctionName: "chargePayment",
          Timestamp: "2024-01-01T00:00:03Z",
          Result: { outcome: "approved" },
        },
        {
          EventType: "ExecutionCompleted",
          Timestamp: "2024-01-01T00:00:04Z",
          OrchestrationStatus: "Completed",
          Result: { status: "Completed" },
        },
      ],
    });
    const res = await get(`/operator/orders/${o.id}/history`);
    expect(res.status).toBe(200);
    const events = json(res).events;
    expect(events.map((e: { eventType: string }) => e.eventType)).toEqual([
      "ExecutionStarted",
      "TaskFailed",
      "TimerFired",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);
    expect(events[0].input.payment).toEqual({ brand: "visa", last4: "4242" });
    expect(events[1]).toMatchObject({ name: "chargePayment", failure: { reason: "timeout" } });
    expect(events[3]).toMatchObject({ name: "chargePayment", retry: 2 });
    expect(res.text).not.toContain(o.payment.token);
    // An approver sees only orders awaiting approval or decided by them: 404 like an unknown id.
    expect((await get(`/operator/orders/${o.id}/history`, "approver")).status).toBe(404);
  });

  it("trace: the Application Insights transaction-search link for the order's operation id", async () => {
    const o = order();
    fakes.orders.put(o);
    process.env.APPLICATIONINSIGHTS_RESOURCE_ID =
      "/subscriptions/s/resourceGroups/r/providers/microsoft.insights/components/appi";
    try {
      const res = await get(`/operator/orders/${o.id}/trace`);
      expect(res.status).toBe(200);
      expect(json(res).traceId).toBe(o.traceId);
      const link = json(res).link as string;
      const [, resource, inputs] = /\/ResourceId\/([^/]+)\/BladeInputs\/(.+)$/.exec(link)!;
      expect(decodeURIComponent(resource!)).toBe(process.env.APPLICATIONINSIGHTS_RESOURCE_ID);
      expect(JSON.parse(decodeURIComponent(inputs!)).filterWhereClause).toBe(
        `| where operation_Id == "${o.traceId}"`,
      );
    } finally {
      delete process.env.APPLICATIONINSIGHTS_RESOURCE_ID;
    }
  });

  it("order-stats: counts per status, outcomes per minute, latency of finished orders", async () => {
    const at = (m: number, s = 0) => new Date(Date.UTC(2024, 0, 1, 12, m, s)).toISOString();
    fakes.orders.put(
      sampleOrder({
        id: "a0000000-0000-4000-8000-000000000001",
        status: "Completed",
        createdAt: at(0),
        updatedAt: at(0, 2),
      }),
    );
    fakes.orders.put(
      sampleOrder({
        id: "a0000000-0000-4000-8000-000000000002",
        status: "Completed",
        createdAt: at(0, 10),
        updatedAt: at(0, 14),
      }),
    );
    fakes.orders.put(
      sampleOrder({
        id: "a0000000-0000-4000-8000-000000000003",
        status: "Charging",
        createdAt: at(1),
        updatedAt: at(1),
      }),
    );
    fakes.orders.put(
      sampleOrder({
        id: "a0000000-0000-4000-8000-000000000004",
        status: "Completed",
        createdAt: at(30),
        updatedAt: at(30),
      }),
    );
    const res = await get(`/operator/order-stats?from=${at(0)}&to=${at(5)}`);
    expect(res.status).toBe(200);
    expect(json(res)).toMatchObject({
      countsByStatus: { Completed: 2, Charging: 1 },
      perMinute: [
        { minute: at(0), outcomes: { Completed: 2 } },
        { minute: at(1), outcomes: { Charging: 1 } },
      ],
      latency: [{ minute: at(0), p50Ms: 2000, p95Ms: 4000 }],
    });
    expect((await get(`/operator/order-stats?from=${at(5)}&to=${at(0)}`)).status).toBe(400);
    expect((await get("/operator/order-stats?from=yesterday")).status).toBe(400);
  });
});

describe("who may call the operator API", () => {
  // Every row has a body slot (null for a GET): jest would pass a shorter row's missing argument as `done`.
  const routes: [string, string, unknown][] = [
    ["GET", "/operator/rejected-messages", null],
    [
      "POST",
      "/operator/rejected-messages/0f8fad5b-d9cb-469f-a165-70867728950e/resubmit",
      { reason: "r", order: {} },
    ],
    [
      "POST",
      "/operator/rejected-messages/0f8fad5b-d9cb-469f-a165-70867728950e/discard",
      { reason: "r" },
    ],
    ["GET", "/operator/dead-letters/notifications", null],
    ["POST", "/operator/dead-letters/notifications/1/resubmit", { reason: "r" }],
    ["POST", "/operator/dead-letters/notifications/1/discard", { reason: "r" }],
    ["GET", "/operator/stuck-orders", null],
    [
      "POST",
      "/operator/orders/0f8fad5b-d9cb-469f-a165-70867728950e/actions/cancel",
      { reason: "r" },
    ],
    ["GET", "/operator/audit", null],
    ["GET", "/operator/order-stats", null],
    ["GET", "/operator/orders/0f8fad5b-d9cb-469f-a165-70867728950e/history", null],
    ["GET", "/operator/orders/0f8fad5b-d9cb-469f-a165-70867728950e/trace", null],
  ];

  it.each(routes)(
    "%s %s: 401 without a token, 403 for a customer (and an approver, except history and trace)",
    async (method, path, body) => {
      fakes.orders.put(
        sampleOrder({
          id: "0f8fad5b-d9cb-469f-a165-70867728950e",
          status: "Received",
          updatedAt: "2024-01-01T00:00:00.000Z",
        }),
      );
      fakes.deadLetters.add("notifications", { messageId: "x", body: {} });
      const none = await call(method, path, body, "none");
      expect(none.status).toBe(401);
      expect(none.headers["www-authenticate"]).toMatch(/^Bearer/);
      expect((await call(method, path, body, "customer")).status).toBe(403);
      const approver = await call(method, path, body, "approver");
      if (/history|trace/.test(path))
        expect(approver.status).toBe(404); // may not see this order
      else {
        expect(approver.status).toBe(403);
        expect(json(approver).detail).toMatch(/Orders\.Operate/);
      }
      // Refusals change nothing.
      expect(fakes.audit.entries).toEqual([]);
      expect(durable.operations).toEqual([]);
      expect(fakes.deadLetters.queues.get("notifications")).toHaveLength(1);
      expect((await fakes.orders.get("0f8fad5b-d9cb-469f-a165-70867728950e"))?.status).toBe(
        "Received",
      );
    },
  );
});
