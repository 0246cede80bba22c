// The HTTP API and the queue triggers, invoked through the registered functions (the harness
// loads src/index.ts like the worker would), with in-memory services and the real DurableClient
// talking to a fake Durable management API. Every HTTP response is checked against openapi.yaml.
import {
  invokeHttp,
  invokeServiceBus,
  loadApp,
  logs,
  setDurableClientBinding,
  type HttpCall,
  type HttpResult,
} from "../harness/app";
import { resetServices } from "../../src/adapters/services";
import { resetSettings } from "../../src/config";
import { APPROVAL_EVENT, CANCEL_EVENT } from "../../src/domain/order";
import { deriveOrderId } from "../../src/intake/orderId";
import { installFakeServices, type Fakes } from "../fakes";
import { bearer, ROLES, startTestIssuer, type TestIssuer } from "../helpers/tokens";
import { FakeDurableServer } from "./support/durableServer";
import { OpenApi } from "./support/openapi";

const PAN = "4242424242424242";
const openapi = new OpenApi();
const durable = new FakeDurableServer();
let fakes: Fakes;
const responses: HttpResult[] = [];
let issuer: TestIssuer;
/** The caller of these tests unless one sends its own Authorization: an application holding
 * every role (orders it creates are its own; it is not the customer, so it may decide them).
 * test/api/rights.test.ts covers who may do what. */
const TEST_CLIENT = "api-tests";
const defaultToken = () =>
  issuer.tokens.app(TEST_CLIENT, [ROLES.submit, ROLES.approve, ROLES.operate]);

function orderBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    customerId: "c-1",
    currency: "USD",
    items: [{ sku: "SKU-1", name: "Widget", quantity: 2, unitPrice: 1999 }],
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: { cardNumber: PAN },
    ...overrides,
  };
}

/** Invokes and checks the response against openapi.yaml. */
async function call(c: HttpCall): Promise<HttpResult> {
  const authorized = Object.keys(c.headers ?? {}).some((h) => h.toLowerCase() === "authorization");
  const res = await invokeHttp(
    authorized || c.path.startsWith("/health")
      ? c
      : { ...c, headers: { ...c.headers, ...bearer(await defaultToken()) } },
  );
  responses.push(res);
  expect(openapi.check(res)).toEqual([]);
  return res;
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  call({
    method: "POST",
    path,
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
const get = (path: string) => call({ method: "GET", path });

async function createOrder(key?: string, body = orderBody()): Promise<string> {
  const res = await post("/orders", body, key ? { "idempotency-key": key } : {});
  expect(res.status).toBe(202);
  return (res.json as { orderId: string }).orderId;
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

describe("POST /orders", () => {
  it("answers 202 with Location and Retry-After at our status URL, after writing and starting", async () => {
    const res = await post("/orders", orderBody(), { "idempotency-key": "key-1" });
    const orderId = deriveOrderId("c-1", "key-1");
    const statusUrl = `http://localhost:7071/api/orders/${orderId}/status`;
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(statusUrl);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.json).toEqual({ orderId, status: "Received", statusQueryGetUri: statusUrl });
    expect(res.text).not.toMatch(/code=|runtime\/webhooks/);
    expect((await fakes.orders.get(orderId))?.status).toBe("Received");
    expect(durable.starts).toEqual([
      expect.objectContaining({ name: "processOrder", instanceId: orderId }),
    ]);
  });

  it("same key, same body → 200 with the same order; nothing new written or started", async () => {
    const orderId = await createOrder("key-1");
    const again = await post("/orders", orderBody(), { "idempotency-key": "key-1" });
    expect(again.status).toBe(200);
    expect(again.json).toMatchObject({ orderId, status: "Received" });
    expect(fakes.orders.size).toBe(1);
    expect(durable.starts).toHaveLength(1);
  });

  it("same key, different body → 422 naming the header; the stored order is unchanged", async () => {
    const orderId = await createOrder("key-1");
    const before = await fakes.orders.get(orderId);
    const res = await post("/orders", orderBody({ currency: "EUR" }), {
      "idempotency-key": "key-1",
    });
    expect(res.status).toBe(422);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(res.json).toMatchObject({ status: 422, errors: [{ header: "Idempotency-Key" }] });
    expect(await fakes.orders.get(orderId)).toEqual(before);
    expect(durable.starts).toHaveLength(1);
  });

  it("a retry repairs an order whose instance never started: startNew exactly once", async () => {
    durable.failStarts = 1;
    const first = await post("/orders", orderBody(), { "idempotency-key": "key-1" });
    expect(first.status).toBe(500);
    expect(fakes.orders.size).toBe(1);
    expect(durable.starts).toHaveLength(0);

    const retry = await post("/orders", orderBody(), { "idempotency-key": "key-1" });
    expect(retry.status).toBe(200);
    expect(durable.starts).toHaveLength(1);

    const again = await post("/orders", orderBody(), { "idempotency-key": "key-1" });
    expect(again.status).toBe(200);
    expect(durable.starts).toHaveLength(1);
    expect(durable.restarts).toEqual([]);
  });

  it("orders without a key are distinct", async () => {
    const a = await createOrder();
    const b = await createOrder();
    expect(a).not.toBe(b);
    expect(durable.starts).toHaveLength(2);
  });

  it.each<[string, HttpCall, number, { pointer?: string; header?: string } | undefined]>([
    [
      "malformed JSON",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: '{"customerId": "c-1",',
      },
      400,
      { pointer: "" },
    ],
    [
      "a JSON array",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: "[]",
      },
      400,
      { pointer: "" },
    ],
    [
      "wrong types",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(orderBody({ customerId: 42 })),
      },
      400,
      { pointer: "/customerId" },
    ],
    [
      "negative quantity",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(
          orderBody({ items: [{ sku: "S", name: "N", quantity: -1, unitPrice: 5 }] }),
        ),
      },
      400,
      { pointer: "/items/0/quantity" },
    ],
    [
      "empty items",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(orderBody({ items: [] })),
      },
      400,
      { pointer: "/items" },
    ],
    [
      "a bad card",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(orderBody({ payment: { cardNumber: "4242424242424241" } })),
      },
      400,
      { pointer: "/payment/cardNumber" },
    ],
    [
      "an unknown field",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(orderBody({ total: 1 })),
      },
      400,
      { pointer: "/total" },
    ],
    [
      "a bad Idempotency-Key",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json", "idempotency-key": "has space" },
        body: JSON.stringify(orderBody()),
      },
      400,
      { header: "Idempotency-Key" },
    ],
    [
      "an oversized body",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(orderBody({ pad: "x".repeat(70 * 1024) })),
      },
      413,
      undefined,
    ],
    [
      "an oversized body with a lying Content-Length",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "application/json", "content-length": "100" },
        body: JSON.stringify(orderBody({ pad: "x".repeat(70 * 1024) })),
      },
      413,
      undefined,
    ],
    [
      "a text/plain body",
      {
        method: "POST",
        path: "/orders",
        headers: { "content-type": "text/plain" },
        body: JSON.stringify(orderBody()),
      },
      415,
      undefined,
    ],
    [
      "no content type",
      { method: "POST", path: "/orders", body: JSON.stringify(orderBody()) },
      415,
      undefined,
    ],
  ])("rejects %s with problem JSON and writes nothing", async (_name, c, status, error) => {
    const tokenize = jest.spyOn(fakes.gateway, "tokenize");
    const res = await call(c);
    expect(res.status).toBe(status);
    expect(res.headers["content-type"]).toBe("application/problem+json");
    expect(res.json).toMatchObject({ status, type: expect.stringMatching(/^urn:orders:problem:/) });
    if (error)
      expect((res.json as { errors: unknown[] }).errors).toContainEqual(
        expect.objectContaining(error),
      );
    expect(res.text).not.toContain("42424242");
    expect(fakes.orders.size).toBe(0);
    expect(tokenize).not.toHaveBeenCalled();
    expect(durable.starts).toHaveLength(0);
  });
});

describe("GET /orders/{orderId}/status and GET /orders/{orderId}", () => {
  it("polls 202 while in progress and 200 with the outcome at the end", async () => {
    const orderId = await createOrder("k");
    const self = `http://localhost:7071/api/orders/${orderId}/status`;

    let res = await get(`/orders/${orderId}/status`);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(self);
    expect(res.json).toMatchObject({ status: "Received", runtimeStatus: "Pending" });

    durable.set(orderId, {
      runtimeStatus: "Running",
      customStatus: { stage: "Charging", updatedAt: new Date().toISOString() },
    });
    res = await get(`/orders/${orderId}/status`);
    expect(res.status).toBe(202);
    expect(res.headers["retry-after"]).toBe("1");
    expect(res.json).toMatchObject({ status: "Charging", runtimeStatus: "Running" });

    durable.set(orderId, {
      customStatus: { stage: "AwaitingApproval", updatedAt: new Date().toISOString() },
    });
    res = await get(`/orders/${orderId}/status`);
    expect(res.headers["retry-after"]).toBe("30");

    durable.set(orderId, {
      runtimeStatus: "Completed",
      output: { status: "Completed", chargeId: "ch_1" },
    });
    res = await get(`/orders/${orderId}/status`);
    expect(res.status).toBe(200);
    expect(res.headers.location).toBeUndefined();
    expect(res.json).toEqual({
      orderId,
      status: "Completed",
      runtimeStatus: "Completed",
      outcome: { status: "Completed", chargeId: "ch_1" },
    });
  });

  it("reports a runtime failure as the business status Failed", async () => {
    const orderId = await createOrder("k");
    durable.set(orderId, { runtimeStatus: "Failed", output: "Error: boom at line 3" });
    const res = await get(`/orders/${orderId}/status`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      status: "Failed",
      runtimeStatus: "Failed",
      outcome: { status: "Failed" },
    });
    expect(res.text).not.toContain("boom");
  });

  it("answers 202 for a Received order with no instance yet, 200 for a finished one whose history was purged", async () => {
    const orderId = await createOrder("k");
    durable.instances.delete(orderId);
    let res = await get(`/orders/${orderId}/status`);
    expect(res.status).toBe(202);
    expect(res.json).toMatchObject({ runtimeStatus: "NotStarted" });
    await fakes.orders.updateStatus(orderId, "Charging");
    await fakes.orders.updateStatus(orderId, "PaymentDeclined", {
      status: "PaymentDeclined",
      reason: "card_declined",
    });
    res = await get(`/orders/${orderId}/status`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ status: "PaymentDeclined", runtimeStatus: null });
  });

  it("404s unknown and malformed order ids", async () => {
    for (const path of [
      `/orders/${deriveOrderId("x", "y")}/status`,
      "/orders/not-a-uuid/status",
      `/orders/${deriveOrderId("x", "y")}`,
    ]) {
      const res = await get(path);
      expect(res.status).toBe(404);
    }
  });

  it("GET /orders/{id} returns the order with runtime and custom status, and no payment token", async () => {
    const orderId = await createOrder("k");
    durable.set(orderId, {
      runtimeStatus: "Running",
      customStatus: { stage: "Charging", updatedAt: new Date().toISOString() },
    });
    const res = await get(`/orders/${orderId}`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      orderId,
      status: "Received",
      totals: { subtotal: 3998, total: 3998 },
      payment: { brand: "visa", last4: "4242" },
      runtimeStatus: "Running",
      customStatus: { stage: "Charging" },
    });
    expect(res.text).not.toMatch(/tok_sim|fp_sim|requestHash/);
  });
});

describe("approval and cancel", () => {
  async function awaitingApproval(): Promise<string> {
    const orderId = await createOrder(
      "big",
      orderBody({ items: [{ sku: "S", name: "Big", quantity: 1, unitPrice: 250_000 }] }),
    );
    await fakes.orders.updateStatus(orderId, "AwaitingApproval");
    durable.set(orderId, {
      runtimeStatus: "Running",
      customStatus: { stage: "AwaitingApproval", updatedAt: new Date().toISOString() },
    });
    return orderId;
  }

  it("approval: 404 unknown, 409 when not awaiting approval, 202 raises the event", async () => {
    const decision = { approved: true, approver: "alice", reason: "known customer" };
    expect((await post(`/orders/${deriveOrderId("no", "order")}/approval`, decision)).status).toBe(
      404,
    );

    // Recorded as awaiting approval, but the workflow has moved on (a decision just won).
    const charging = await createOrder("small");
    await fakes.orders.updateStatus(charging, "AwaitingApproval");
    durable.set(charging, {
      runtimeStatus: "Running",
      customStatus: { stage: "Charging", updatedAt: new Date().toISOString() },
    });
    const conflict = await post(`/orders/${charging}/approval`, decision);
    expect(conflict.status).toBe(409);
    expect((conflict.json as { detail: string }).detail).toMatch(/Charging/);

    const orderId = await awaitingApproval();
    const res = await post(`/orders/${orderId}/approval`, decision);
    expect(res.status).toBe(202);
    expect(res.headers.location).toBe(`http://localhost:7071/api/orders/${orderId}/status`);
    // The decider is the caller; the body's (deprecated) approver is ignored.
    expect(durable.events).toEqual([
      {
        instanceId: orderId,
        name: APPROVAL_EVENT,
        data: {
          approved: true,
          reason: "known customer",
          approver: TEST_CLIENT,
          decidedBy: { id: TEST_CLIENT, name: TEST_CLIENT, at: expect.any(String) },
        },
      },
    ]);
  });

  it("approval: invalid body → 400 naming fields, no event", async () => {
    const orderId = await awaitingApproval();
    const res = await post(`/orders/${orderId}/approval`, { approved: "yes" });
    expect(res.status).toBe(400);
    expect((res.json as { errors: unknown[] }).errors).toEqual([
      { pointer: "/approved", detail: "must be true or false" },
    ]);
    expect((await post(`/orders/${orderId}/approval`, "{oops")).status).toBe(400);
    expect(durable.events).toEqual([]);
  });

  it("cancel: 409 once the order is past approval, 202 while awaiting (body optional)", async () => {
    const done = await createOrder("done");
    durable.set(done, { runtimeStatus: "Completed", output: { status: "Completed" } });
    expect((await call({ method: "POST", path: `/orders/${done}/cancel` })).status).toBe(409);

    const orderId = await awaitingApproval();
    const res = await call({ method: "POST", path: `/orders/${orderId}/cancel` });
    expect(res.status).toBe(202);
    const withReason = await post(`/orders/${orderId}/cancel`, { reason: "changed my mind" });
    expect(withReason.status).toBe(202);
    const decidedBy = { id: TEST_CLIENT, name: TEST_CLIENT, at: expect.any(String) };
    expect(durable.events).toEqual([
      { instanceId: orderId, name: CANCEL_EVENT, data: { decidedBy } },
      { instanceId: orderId, name: CANCEL_EVENT, data: { reason: "changed my mind", decidedBy } },
    ]);
    expect((await post(`/orders/${orderId}/cancel`, { why: 1 })).status).toBe(400);
  });
});

describe("listing", () => {
  it("GET /orders filters by customer and status and pages with an opaque continuation token", async () => {
    const mine = [await createOrder("a"), await createOrder("b"), await createOrder("c")];
    await createOrder("d", orderBody({ customerId: "c-2" }));
    await fakes.orders.updateStatus(mine[0], "Charging");

    const first = await get("/orders?customerId=c-1&limit=2");
    const page1 = first.json as { items: { orderId: string }[]; continuationToken: string | null };
    expect(page1.items).toHaveLength(2);
    expect(page1.continuationToken).toEqual(expect.any(String));
    const second = await get(
      `/orders?customerId=c-1&limit=2&continuationToken=${encodeURIComponent(page1.continuationToken!)}`,
    );
    const page2 = second.json as typeof page1;
    expect(page2.continuationToken).toBeNull();
    expect([...page1.items, ...page2.items].map((o) => o.orderId).sort()).toEqual([...mine].sort());

    const charging = (await get("/orders?status=Charging")).json as typeof page1;
    expect(charging.items.map((o) => o.orderId)).toEqual([mine[0]]);
    expect(((await get("/orders")).json as typeof page1).items).toHaveLength(4);

    // The created-at range: at or after `from`, before `to`.
    const all = ((await get("/orders")).json as { items: { createdAt: string }[] }).items;
    const oldest = all.map((o) => o.createdAt).sort()[0];
    const count = async (query: string) =>
      ((await get(`/orders?${query}`)).json as typeof page1).items.length;
    expect(await count(`from=${encodeURIComponent(oldest)}`)).toBe(4);
    expect(await count(`to=${encodeURIComponent(oldest)}`)).toBe(0);
    expect(await count("from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z")).toBe(0);
  });

  it("GET /orders rejects bad parameters naming them", async () => {
    for (const [query, parameter] of [
      ["limit=0", "limit"],
      ["status=Done", "status"],
      ["from=today", "from"],
      ["continuationToken=%%%", "continuationToken"],
      ["continuationToken=bm90LWEtbnVtYmVy", "continuationToken"],
    ]) {
      const res = await get(`/orders?${query}`);
      expect(res.status).toBe(400);
      expect((res.json as { errors: unknown[] }).errors).toEqual([
        expect.objectContaining({ parameter }),
      ]);
    }
  });

  it("lists an order's payments and notifications; 404 for an unknown order", async () => {
    const orderId = await createOrder("k");
    const now = new Date().toISOString();
    await fakes.ledger.record({
      id: `charge:${orderId}`,
      orderId,
      kind: "charge",
      amount: 3998,
      currency: "USD",
      reference: "ch_1",
      createdAt: now,
    });
    await fakes.deliveries.record({
      id: `${orderId}:email`,
      orderId,
      channel: "email",
      notificationId: `${orderId}:email`,
      deliveredAt: now,
    });

    const payments = await get(`/orders/${orderId}/payments`);
    expect(payments.status).toBe(200);
    expect(payments.json).toEqual({
      orderId,
      items: [expect.objectContaining({ id: `charge:${orderId}`, amount: 3998 })],
    });
    const notifications = await get(`/orders/${orderId}/notifications`);
    expect(notifications.json).toEqual({
      orderId,
      items: [expect.objectContaining({ channel: "email" })],
    });

    const unknown = deriveOrderId("no", "order");
    expect((await get(`/orders/${unknown}/payments`)).status).toBe(404);
    expect((await get(`/orders/${unknown}/notifications`)).status).toBe(404);
  });
});

describe("GET /health", () => {
  it("200 when every dependency answers, 503 naming the one that is down", async () => {
    const ok = await get("/health");
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({
      status: "healthy",
      dependencies: { cosmos: { status: "up" }, serviceBus: { status: "up" } },
    });

    fakes.health.down.serviceBus = new Error("connection refused at sb://secret-namespace");
    const down = await get("/health");
    expect(down.status).toBe(503);
    expect(down.json).toMatchObject({
      status: "unhealthy",
      dependencies: { cosmos: { status: "up" }, serviceBus: { status: "down" } },
    });
    expect(down.text).not.toContain("secret-namespace");
  });
});

describe("orders-inbound", () => {
  it("accepts a valid message into an order and starts its workflow", async () => {
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1" });
    const orderId = deriveOrderId("servicebus", "m-1");
    expect(await fakes.orders.get(orderId)).toMatchObject({
      status: "Received",
      source: "servicebus",
    });
    expect(durable.starts.map((s) => s.instanceId)).toEqual([orderId]);
  });

  it("a duplicate messageId (or the same orderId) lands on the same order", async () => {
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1" });
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1", deliveryCount: 2 });
    const explicit = "0f8fad5b-d9cb-469f-a165-70867728950e";
    await invokeServiceBus("ordersInbound", orderBody({ orderId: explicit }), { messageId: "m-2" });
    await invokeServiceBus("ordersInbound", JSON.stringify(orderBody({ orderId: explicit })), {
      messageId: "m-3",
    });
    expect(fakes.orders.size).toBe(2);
    expect(durable.starts).toHaveLength(2);
    expect(fakes.rejected.records).toEqual([]);
  });

  it("a numeric-looking messageId (parsed to a number by the library) still dedupes", async () => {
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "12345" });
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "12345", deliveryCount: 2 });
    expect(fakes.orders.size).toBe(1);
    expect(await fakes.orders.get(deriveOrderId("servicebus", "12345"))).toBeDefined();
    expect(durable.starts).toHaveLength(1);
  });

  it("records an invalid message in rejected-messages (card masked) and completes", async () => {
    const bad = orderBody({ items: [{ sku: "S", name: "N", quantity: 0, unitPrice: 5 }] });
    await expect(
      invokeServiceBus("ordersInbound", bad, { messageId: "m-bad" }),
    ).resolves.toBeUndefined();
    await invokeServiceBus("ordersInbound", "not json " + PAN, { messageId: "m-text" });
    expect(fakes.orders.size).toBe(0);
    expect(fakes.rejected.records).toHaveLength(2);
    const [first, second] = fakes.rejected.records;
    expect(first).toMatchObject({
      source: "orders-inbound",
      messageId: "m-bad",
      deliveryCount: 1,
      reasons: [{ pointer: "/items/0/quantity" }],
    });
    expect(second).toMatchObject({ messageId: "m-text", reasons: [{ pointer: "" }] });
    expect(JSON.stringify(fakes.rejected.records)).not.toContain(PAN);
    // Redelivery of the same invalid message overwrites its record.
    await invokeServiceBus("ordersInbound", bad, { messageId: "m-bad", deliveryCount: 2 });
    expect(fakes.rejected.records).toHaveLength(2);
  });

  it("rejects an orderId already used by a different order", async () => {
    const explicit = "0f8fad5b-d9cb-469f-a165-70867728950e";
    await invokeServiceBus("ordersInbound", orderBody({ orderId: explicit }), { messageId: "m-1" });
    await invokeServiceBus("ordersInbound", orderBody({ orderId: explicit, currency: "EUR" }), {
      messageId: "m-2",
    });
    expect(fakes.rejected.records).toEqual([
      expect.objectContaining({
        messageId: "m-2",
        reasons: [expect.objectContaining({ pointer: "/orderId" })],
      }),
    ]);
  });

  it("throws on a transient failure so Service Bus redelivers", async () => {
    fakes.orders.failures.failNext("create", new Error("Cosmos 503"));
    await expect(
      invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1" }),
    ).rejects.toThrow("Cosmos 503");
    expect(fakes.rejected.records).toEqual([]);
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1", deliveryCount: 2 });
    expect(fakes.orders.size).toBe(1);
  });

  it("waits before giving back a message whose dependency is unavailable (1 s on its first delivery)", async () => {
    fakes.orders.failures.failNext(
      "create",
      Object.assign(new Error("unavailable"), { code: 503 }),
    );
    const t0 = performance.now();
    await expect(
      invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1", deliveryCount: 1 }),
    ).rejects.toThrow("unavailable");
    // Redelivered at once, a message would use up its deliveries within a second of an outage.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(950);
    await invokeServiceBus("ordersInbound", orderBody(), { messageId: "m-1", deliveryCount: 2 });
    expect(fakes.orders.size).toBe(1);
  });
});

describe("deliverNotification", () => {
  it("delivers through the notifier once per notificationId; a malformed message throws", async () => {
    const message = {
      notificationId: "o-1:email",
      orderId: "o-1",
      customerId: "c-1",
      channel: "email",
      template: "order-completed",
      data: {},
    };
    await invokeServiceBus("deliverNotification", message, { messageId: "o-1:email" });
    await invokeServiceBus("deliverNotification", message, {
      messageId: "o-1:email",
      deliveryCount: 2,
    });
    expect(fakes.deliveries.deliveries).toEqual([
      expect.objectContaining({ notificationId: "o-1:email", channel: "email" }),
    ]);
    await expect(invokeServiceBus("deliverNotification", { hello: 1 })).rejects.toThrow(
      /not a notification/,
    );
    fakes.notifier.failures.failNext("deliver", new Error("smtp down"));
    await expect(
      invokeServiceBus("deliverNotification", {
        ...message,
        notificationId: "o-1:sms",
        channel: "sms",
      }),
    ).rejects.toThrow("smtp down");
  });
});

describe("observability and card numbers", () => {
  it("logs through the invocation context with orderId and instanceId", async () => {
    logs.length = 0;
    const orderId = await createOrder("k");
    await get(`/orders/${orderId}/status`);
    const mine = logs.filter((l) => l.category === "user" && l.message.includes(orderId));
    expect(mine.map((l) => l.functionName)).toEqual(
      expect.arrayContaining(["createOrder", "getOrderStatus"]),
    );
    for (const line of mine)
      expect(JSON.parse(line.message)).toMatchObject({ orderId, instanceId: orderId });
  });

  it("no stored, queued, started, logged or returned artefact holds a full card number", async () => {
    logs.length = 0;
    responses.length = 0;
    const cards = ["4242424242424242", "4000000000000002", "4000000000000259"];
    for (const [i, card] of cards.entries()) {
      await post("/orders", orderBody({ payment: { cardNumber: card } }), {
        "idempotency-key": `k${i}`,
      });
      await post("/orders", orderBody({ payment: { cardNumber: card } }), {
        "idempotency-key": `k${i}`,
      });
      await post("/orders", orderBody({ payment: { cardNumber: card }, currency: "EUR" }), {
        "idempotency-key": `k${i}`,
      });
      await post("/orders", orderBody({ payment: { cardNumber: card }, items: [] }));
      await post("/orders", `{"payment":{"cardNumber":"${card}"`);
      await invokeServiceBus("ordersInbound", orderBody({ payment: { cardNumber: card } }), {
        messageId: `m${i}`,
      });
      await invokeServiceBus(
        "ordersInbound",
        orderBody({ payment: { cardNumber: card }, currency: "usd" }),
        { messageId: `bad${i}` },
      );
      await invokeServiceBus(
        "ordersInbound",
        orderBody({ payment: { cardNumber: Number(card) } }),
        { messageId: `num${i}` },
      );
    }
    const orderId = deriveOrderId("c-1", "k0");
    await get(`/orders/${orderId}`);
    await get(`/orders/${orderId}/status`);
    await get("/orders");
    expect(fakes.orders.size).toBe(6);
    expect(fakes.rejected.records.length).toBeGreaterThanOrEqual(6);

    const artefacts = JSON.stringify({
      orders: fakes.orders.all(),
      ledger: fakes.ledger.entries,
      deliveries: fakes.deliveries.deliveries,
      queue: fakes.queue.sent,
      rejected: fakes.rejected.records,
      orchestrationInputs: durable.starts,
      durableRequests: durable.bodies,
      logs,
      responses: responses.map((r) => ({ headers: r.headers, text: r.text })),
    });
    for (const card of cards) {
      expect(artefacts).not.toContain(card);
      expect(artefacts).not.toContain(card.replace(/(\d{4})(?=\d)/g, "$1 "));
    }
    // The search is not vacuous: the last four digits are there.
    expect(artefacts).toContain("0259");
  });
});

describe("openapi.yaml", () => {
  it("documents every HTTP function's route and method", () => {
    const documented = openapi
      .operations()
      .map((o) => `${o.method.toUpperCase()} ${o.path}`)
      .sort();
    expect(documented).toEqual(
      [
        "GET /health",
        "GET /console/config.json",
        "GET /console/{path}",
        "GET /orders",
        "GET /orders/{orderId}",
        "GET /orders/{orderId}/notifications",
        "GET /orders/{orderId}/payments",
        "GET /orders/{orderId}/status",
        "POST /orders",
        "POST /orders/{orderId}/approval",
        "POST /orders/{orderId}/cancel",
        "GET /operator/rejected-messages",
        "POST /operator/rejected-messages/{id}/resubmit",
        "POST /operator/rejected-messages/{id}/discard",
        "GET /operator/dead-letters/{queue}",
        "POST /operator/dead-letters/{queue}/{sequenceNumber}/resubmit",
        "POST /operator/dead-letters/{queue}/{sequenceNumber}/discard",
        "GET /operator/stuck-orders",
        "POST /operator/orders/{orderId}/actions/{action}",
        "GET /operator/audit",
        "GET /operator/orders/{orderId}/history",
        "GET /operator/orders/{orderId}/trace",
        "GET /operator/order-stats",
      ].sort(),
    );
  });

  it("the validator catches a response that breaks the contract", () => {
    const leaky = {
      method: "POST",
      route: "orders",
      status: 202,
      headers: {
        "content-type": "application/json",
        location: "http://x/api/orders/0f8fad5b-d9cb-469f-a165-70867728950e/status?code=abc",
        "retry-after": "1",
      },
      text: "",
      json: {
        orderId: "0f8fad5b-d9cb-469f-a165-70867728950e",
        status: "Received",
        statusQueryGetUri: "http://x/runtime/webhooks/durabletask/instances/1?code=abc",
      },
    };
    const problems = openapi.check(leaky);
    expect(problems.join("\n")).toMatch(/header Location/);
    expect(problems.join("\n")).toMatch(/body/);
    expect(openapi.check({ ...leaky, status: 201 })).toEqual([
      expect.stringMatching(/not documented/),
    ]);
  });
});
