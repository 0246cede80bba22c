/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// The operator API against one running local host, over HTTP and AMQP with tokens from its
// development issuer: a rejected inbound message resubmitted unchanged (400, nothing created) and
// corrected (one order, twice); a dead-lettered notification resubmitted twice and delivered
// once; the key stuck-order actions (start a lost order, refund after the charge, cancel while
// awaiting approval), each audited; history and trace of an order; 401/403.
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import { ServiceBusClient } from "@azure/service-bus";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { deriveOrderId } from "../../src/intake/orderId";
import {
  Api,
  CARDS,
  cosmosContainer,
  createOrder,
  ensureFreshBuild,
  eventually,
  orderRequest,
  pollToOutcome,
  tokensFor,
  waitForStage,
} from "./support/e2e";

let host: StartedHost;
let api: Api;
let operator: Api;
let bus: ServiceBusClient;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT });
  api = Api.forHost(host);
  operator = api.as(() => tokensFor(host).operator("olu-e2e", "Olu Operator"));
  bus = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString));
}, 120000);

afterAll(async () => {
  await bus?.close();
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

const OLD = "2024-01-01T00:00:00.000Z";

function storedOrder(id: string, status: string, customerId: string): Record<string, unknown> {
  return {
    id,
    customerId,
    currency: "USD",
    lines: [{ sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: 2500, lineTotal: 2500 }],
    totals: { subtotal: 2500, total: 2500 },
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: {
      token: `tok_sim_approve_${randomBytes(16).toString("hex")}`,
      brand: "visa",
      last4: "4242",
      fingerprint: "fp_e2e",
    },
    status,
    requestHash: "e2e",
    source: "http",
    createdAt: OLD,
    updatedAt: OLD,
  };
}

async function auditOf(orderId: string): Promise<any[]> {
  const res = await operator.get(`/operator/audit?orderId=${orderId}`);
  expect(res.status).toBe(200);
  return res.body.items;
}

describe("rejected inbound messages", () => {
  it("unchanged: 400 with the same reasons, nothing created; corrected: one order, also when resubmitted twice", async () => {
    const messageId = `e2e-rejected-${randomUUID()}`;
    const request = orderRequest({ cardNumber: CARDS.mastercard });
    const invalid = { ...request, shippingAddress: { ...request.shippingAddress, country: "XX" } };
    const sender = bus.createSender("orders-inbound");
    await sender.sendMessages({ body: invalid, messageId, contentType: "application/json" });
    await sender.close();
    const rejected = await eventually(async () => {
      const res = await operator.get("/operator/rejected-messages?state=rejected&limit=100");
      return res.body.items?.find((m: any) => m.messageId === messageId);
    }, "the rejected message");
    expect(rejected.card).toEqual({ brand: "mastercard", last4: "4444" });
    expect(JSON.stringify(rejected)).not.toContain(CARDS.mastercard);

    const orderId = deriveOrderId("servicebus", messageId);
    const path = `/operator/rejected-messages/${rejected.id}/resubmit`;
    const unchanged = await operator.post(path, { reason: "as it was", order: rejected.body });
    expect(unchanged.status).toBe(400);
    expect(
      unchanged.body.errors.map((e: any) => ({
        field: e.pointer.replace(/^\/order/, ""),
        detail: e.detail,
      })),
    ).toEqual(rejected.reasons);
    expect((await api.get(`/orders/${orderId}`)).status).toBe(404);

    const { payment: _card, ...corrected } = request;
    const first = await operator.post(path, { reason: "fixed the country", order: corrected });
    const second = await operator.post(path, { reason: "clicked twice", order: corrected });
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(first.body.orderId).toBe(orderId);
    expect(second.body.orderId).toBe(orderId);
    const polled = await pollToOutcome(api, first.body.statusQueryUri);
    expect(polled.body).toMatchObject({ orderId, status: "Completed" });
    const orders = await api.get(`/orders?customerId=${encodeURIComponent(request.customerId)}`);
    expect(orders.body.items.map((o: any) => o.orderId)).toEqual([orderId]);
    expect((await api.get(`/orders/${orderId}`)).body.payment).toEqual({
      brand: "mastercard",
      last4: "4444",
    });
    expect((await auditOf(orderId)).map((e) => [e.action, e.reason])).toEqual([
      ["resubmit", "clicked twice"],
      ["resubmit", "fixed the country"],
    ]);
  });
});

describe("dead letters", () => {
  it("a dead-lettered notification resubmitted twice is delivered once", async () => {
    const created = await createOrder(api, orderRequest());
    await pollToOutcome(api, created.location);
    const orderId = created.orderId;
    const notificationId = `${orderId}:email:operator-e2e`;
    const body = {
      notificationId,
      orderId,
      customerId: "e2e",
      channel: "email",
      template: "order-completed",
      data: {},
    };
    // Two copies dead-lettered by a consumer that competes with the host's trigger (as a
    // delivery that failed for good would); a copy the trigger takes instead is delivered then.
    const sender = bus.createSender("notifications");
    const competitor = bus.createReceiver("notifications");
    let deadLettered = 0;
    for (let attempt = 0; deadLettered < 2 && attempt < 40; attempt++) {
      // Credit first (the link is open and waiting), then the message.
      const receiving = competitor.receiveMessages(1, { maxWaitTimeInMs: 1000 });
      await new Promise((r) => setTimeout(r, 200));
      await sender.sendMessages({
        body,
        messageId: notificationId,
        contentType: "application/json",
      });
      const [got] = await receiving;
      if (got?.messageId === notificationId) {
        await competitor.deadLetterMessage(got, {
          deadLetterReason: "ProviderUnavailable",
          deadLetterErrorDescription: "e2e: the provider failed for good",
        });
        deadLettered++;
      } else if (got) await competitor.abandonMessage(got);
    }
    await competitor.close();
    await sender.close();
    expect(deadLettered).toBe(2);

    const listed = (await operator.get("/operator/dead-letters/notifications?limit=100")).body
      .items;
    const copies = listed.filter((m: any) => m.messageId === notificationId);
    expect(copies).toHaveLength(2);
    expect(copies[0]).toMatchObject({ deadLetterReason: "ProviderUnavailable", deliveryCount: 1 });
    for (const copy of copies) {
      const res = await operator.post(
        `/operator/dead-letters/notifications/${copy.sequenceNumber}/resubmit`,
        { reason: "provider is back" },
      );
      expect(res.status).toBe(200);
    }
    const delivered = await eventually(async () => {
      const res = await api.get(`/orders/${orderId}/notifications`);
      const mine = res.body.items.filter((d: any) => d.notificationId === notificationId);
      return mine.length > 0 ? mine : undefined;
    }, "the resubmitted notification's delivery");
    // Give a second delivery the time it would need to show up; there must be none.
    await new Promise((r) => setTimeout(r, 1500));
    const after = (await api.get(`/orders/${orderId}/notifications`)).body.items;
    expect(after.filter((d: any) => d.notificationId === notificationId)).toEqual(delivered);
    const left = (await operator.get("/operator/dead-letters/notifications?limit=100")).body.items;
    expect(left.filter((m: any) => m.messageId === notificationId)).toEqual([]);
    const audit = (await auditOf(orderId)).filter((e) => e.target.kind === "dead-letter");
    expect(audit).toHaveLength(2);
  });
});

describe("stuck orders", () => {
  it("an order written but never started is listed with start/cancel; start runs it to Completed", async () => {
    const orderId = randomUUID();
    await cosmosContainer(host.endpoints, "orders").items.create(
      storedOrder(orderId, "Received", `e2e-stuck-${orderId}`),
    );
    const stuck = await operator.get("/operator/stuck-orders?limit=100");
    expect(stuck.status).toBe(200);
    expect(stuck.body.items.find((i: any) => i.orderId === orderId)).toMatchObject({
      status: "Received",
      runtimeStatus: "None",
      actions: ["start", "cancel"],
    });
    const res = await operator.post(`/operator/orders/${orderId}/actions/start`, {
      reason: "lost between the write and the start",
    });
    expect(res.status).toBe(200);
    const polled = await pollToOutcome(api, `${host.baseUrl}/api/orders/${orderId}/status`);
    expect(polled.body.status).toBe("Completed");
    const payments = (await api.get(`/orders/${orderId}/payments`)).body.items;
    expect(payments.filter((p: any) => p.kind === "charge")).toHaveLength(1);
    expect((await auditOf(orderId)).map((e) => e.action)).toEqual(["start"]);
  });

  it("after the charge the only way out refunds: cancel is 409, refund ends it Failed with one refund", async () => {
    const orderId = randomUUID();
    await cosmosContainer(host.endpoints, "orders").items.create(
      storedOrder(orderId, "Paid", `e2e-stuck-${orderId}`),
    );
    await cosmosContainer(host.endpoints, "payments").items.create({
      id: `charge:${orderId}`,
      orderId,
      kind: "charge",
      amount: 2500,
      currency: "USD",
      reference: `ch_sim_approve_${orderId}`,
      createdAt: OLD,
    });
    const cancel = await operator.post(`/operator/orders/${orderId}/actions/cancel`, {
      reason: "x",
    });
    expect(cancel.status).toBe(409);
    expect(cancel.body.detail).toMatch(/stage Paid with runtime status None/);
    const refund = await operator.post(`/operator/orders/${orderId}/actions/refund`, {
      reason: "paid but never notified",
    });
    expect(refund.status).toBe(200);
    expect(refund.body).toEqual({ orderId, action: "refund", status: "Failed" });
    const order = (await api.get(`/orders/${orderId}`)).body;
    expect(order.outcome).toMatchObject({ status: "Failed", refundId: `re_sim_${orderId}` });
    const kinds = (await api.get(`/orders/${orderId}/payments`)).body.items.map((p: any) => p.kind);
    expect(kinds.sort()).toEqual(["charge", "refund"]);
    expect(
      (await operator.post(`/operator/orders/${orderId}/actions/refund`, { reason: "again" }))
        .status,
    ).toBe(409);
  });

  it("awaiting approval: cancel goes through the workflow and ends Cancelled; refused for a customer", async () => {
    const created = await createOrder(api, orderRequest({ quantity: 1, unitPrice: 150000 }));
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const path = `/operator/orders/${created.orderId}/actions/cancel`;
    expect((await api.anonymous().post(path, { reason: "r" })).status).toBe(401);
    const customer = api.as(tokensFor(host).customer("e2e-someone"));
    expect((await customer.post(path, { reason: "r" })).status).toBe(403);
    expect(
      (await operator.post(`/operator/orders/${created.orderId}/actions/refund`, { reason: "r" }))
        .status,
    ).toBe(409);
    const res = await operator.post(path, { reason: "customer asked by phone" });
    expect(res.status).toBe(200);
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({ status: "Cancelled" });
    const audit = await auditOf(created.orderId);
    expect(audit).toEqual([
      expect.objectContaining({
        action: "cancel",
        reason: "customer asked by phone",
        actor: { id: "olu-e2e", name: "Olu Operator" },
      }),
    ]);
  });
});

describe("history and trace", () => {
  it("a completed order's history (no payment token) and its trace from the local receiver", async () => {
    const created = await createOrder(api, orderRequest());
    await pollToOutcome(api, created.location);
    const history = await operator.get(`/operator/orders/${created.orderId}/history`);
    expect(history.status).toBe(200);
    const names = history.body.events.map((e: any) => e.name).filter(Boolean);
    expect(names).toEqual(
      expect.arrayContaining(["processOrder", "chargePayment", "sendNotification"]),
    );
    expect(history.text).not.toMatch(/tok_sim_/);
    const trace = await eventually(async () => {
      const res = await operator.get(`/operator/orders/${created.orderId}/trace`);
      return res.status === 200 &&
        res.body.spans.some((s: any) => s.name.startsWith("orchestration"))
        ? res
        : undefined;
    }, "the order's spans");
    expect(trace.body.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(trace.body.spans.map((s: any) => s.spanId)).size).toBe(trace.body.spans.length);
  });
});
