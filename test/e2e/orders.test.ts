/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// The order app end to end on a running local host: create over HTTP, follow the async HTTP
// pattern to the outcome, idempotency, the payment scenarios (magic cards), notifications,
// health, unknown orders, and finally a search of every artefact for card numbers.
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  CARDS,
  cardsIn,
  cosmosContainer,
  createOrder,
  eventually,
  orderRequest,
  pollToOutcome,
  uniqueCustomer,
  ensureFreshBuild,
  type Created,
} from "./support/e2e";

let host: StartedHost;
let api: Api;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT });
  api = Api.forHost(host);
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

const charges = (items: any[]) => items.filter((e) => e.kind === "charge");
const refunds = (items: any[]) => items.filter((e) => e.kind === "refund");

describe("create and poll", () => {
  it("answers 202 with Location + Retry-After, and the status URL reaches 200 Completed", async () => {
    const request = orderRequest({ quantity: 3, unitPrice: 1250 });
    const created = await createOrder(api, request);
    expect(created.orderId).toMatch(/^[0-9a-f-]{36}$/);
    const statusUrl = `${host.baseUrl}/api/orders/${created.orderId}/status`;
    expect(created.location).toBe(statusUrl);
    expect(created.body).toEqual({
      orderId: created.orderId,
      status: "Received",
      statusQueryGetUri: statusUrl,
    });

    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toEqual({
      orderId: created.orderId,
      status: "Completed",
      runtimeStatus: "Completed",
      outcome: { status: "Completed", chargeId: expect.any(String) },
    });

    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.status).toBe(200);
    expect(order.body).toMatchObject({
      orderId: created.orderId,
      customerId: request.customerId,
      status: "Completed",
      runtimeStatus: "Completed",
      customStatus: { stage: "Completed" },
      totals: { total: 3750 },
      payment: { brand: "visa", last4: "4242" },
      outcome: { status: "Completed", chargeId: polled.body.outcome.chargeId },
    });
    expect(JSON.stringify(order.body)).not.toContain("cardNumber");

    const listed = await api.get(`/orders?customerId=${encodeURIComponent(request.customerId)}`);
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((o: any) => o.orderId)).toEqual([created.orderId]);
  });

  it("keeps answering 202 with Location and Retry-After while the order is in progress", async () => {
    // The transient card spends ~3 s in Charging (two failures, backoff 1 s then 2 s).
    const created = await createOrder(api, orderRequest({ cardNumber: CARDS.transient }));
    const res = await api.get(created.location);
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe(created.location);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.body).toEqual({
      orderId: created.orderId,
      status: expect.any(String),
      runtimeStatus: expect.stringMatching(/^(Pending|Running)$/),
      statusQueryGetUri: created.location,
    });
    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.body.runtimeStatus).toMatch(/^(Pending|Running)$/);
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body.status).toBe("Completed");
    expect(polled.stages).toContain("Charging");
    expect(polled.polls).toBeGreaterThan(1);
  });
});

describe("idempotency over HTTP", () => {
  it("replays the same key and body as 200 with the same order; a different body is 422", async () => {
    const request = orderRequest();
    const key = `key-${randomUUID()}`;
    const first = await createOrder(api, request, key);
    const replay = await api.post("/orders", request, { "idempotency-key": key });
    expect(replay.status).toBe(200);
    expect(replay.body.orderId).toBe(first.orderId);
    expect(replay.headers.get("location")).toBe(first.location);

    const changed = { ...request, items: [{ ...request.items[0], quantity: 5 }] };
    const conflict = await api.post("/orders", changed, { "idempotency-key": key });
    expect(conflict.status).toBe(422);
    expect(conflict.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(conflict.body).toMatchObject({ status: 422, type: expect.stringMatching(/^urn:/) });

    const polled = await pollToOutcome(api, first.location);
    expect(polled.body.status).toBe("Completed");
    // Still exactly one order, charged once, for the original quantity.
    const listed = await api.get(`/orders?customerId=${encodeURIComponent(request.customerId)}`);
    expect(listed.body.items).toHaveLength(1);
    expect(listed.body.items[0].totals.total).toBe(2 * 1999);
    const payments = await api.get(`/orders/${first.orderId}/payments`);
    expect(charges(payments.body.items)).toHaveLength(1);
  });
});

describe("idempotency under concurrency", () => {
  it("eight simultaneous POSTs with one key: one 202, seven 200, one order, one charge", async () => {
    const request = orderRequest();
    const key = `race-${randomUUID()}`;
    const answers = await Promise.all(
      Array.from({ length: 8 }, () => api.post("/orders", request, { "idempotency-key": key })),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 202]);
    const ids = new Set(answers.map((a) => a.body.orderId));
    expect(ids.size).toBe(1);
    const [orderId] = [...ids];
    const polled = await pollToOutcome(api, `${host.baseUrl}/api/orders/${orderId}/status`);
    expect(polled.body.status).toBe("Completed");
    const listed = await api.get(`/orders?customerId=${encodeURIComponent(request.customerId)}`);
    expect(listed.body.items).toHaveLength(1);
    const payments = await api.get(`/orders/${orderId}/payments`);
    expect(charges(payments.body.items)).toHaveLength(1);
  });

  it("the same key from two customers makes two orders (keys are scoped to the customer)", async () => {
    const key = `shared-${randomUUID()}`;
    const a = await createOrder(api, orderRequest(), key);
    const b = await createOrder(api, orderRequest(), key);
    expect(a.orderId).not.toBe(b.orderId);
    expect((await pollToOutcome(api, a.location)).body.status).toBe("Completed");
    expect((await pollToOutcome(api, b.location)).body.status).toBe("Completed");
  });
});

describe("payments (magic cards)", () => {
  // Started together so the slow ones (retries) overlap.
  const started: Record<string, Promise<Created>> = {};
  beforeAll(() => {
    for (const [name, card] of Object.entries({
      decline: CARDS.decline,
      insufficient: CARDS.insufficientFunds,
      transient: CARDS.transient,
      capture: CARDS.captureFails,
      mastercard: CARDS.mastercard,
    })) {
      started[name] = createOrder(api, orderRequest({ cardNumber: card }));
      // A rejection is reported by the test that awaits it, not as an unhandled rejection.
      started[name].catch(() => undefined);
    }
  });

  it("declined card → PaymentDeclined, nothing charged", async () => {
    const created = await started.decline!;
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({
      status: "PaymentDeclined",
      runtimeStatus: "Completed",
      outcome: { status: "PaymentDeclined", reason: "card_declined" },
    });
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    expect(payments.status).toBe(200);
    expect(charges(payments.body.items)).toHaveLength(0);
    expect(refunds(payments.body.items)).toHaveLength(0);
  });

  it("insufficient funds → PaymentDeclined with that reason, nothing charged", async () => {
    const created = await started.insufficient!;
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body.status).toBe("PaymentDeclined");
    expect(polled.body.outcome.reason).toBe("insufficient_funds");
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    expect(charges(payments.body.items)).toHaveLength(0);
  });

  it("transient failures → Completed after retries, exactly one charge", async () => {
    const created = await started.transient!;
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body.status).toBe("Completed");
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    const [charge, ...more] = charges(payments.body.items);
    expect(more).toHaveLength(0);
    expect(charge).toMatchObject({ amount: 3998, currency: "USD" });
    expect(refunds(payments.body.items)).toHaveLength(0);
  });

  it("capture failure → Failed, refunded: exactly one charge and one refund of the same amount", async () => {
    const created = await started.capture!;
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({ status: "Failed", outcome: { status: "Failed" } });
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    const charged = charges(payments.body.items);
    const refunded = refunds(payments.body.items);
    expect(charged).toHaveLength(1);
    expect(refunded).toHaveLength(1);
    expect(refunded[0].amount).toBe(charged[0].amount);
    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.body).toMatchObject({ status: "Failed", customStatus: { stage: "Failed" } });
  });

  it("a card typed with spaces or hyphens is accepted and reduced to brand + last four", async () => {
    for (const typed of ["5555 5555 5555 4444", "5555-5555-5555-4444"]) {
      const created = await createOrder(api, orderRequest({ cardNumber: typed }));
      expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
      const order = await api.get(`/orders/${created.orderId}`);
      expect(order.body.payment).toEqual({ brand: "mastercard", last4: "4444" });
    }
  });

  it("any other valid card approves (brand and last four kept, nothing else)", async () => {
    const created = await started.mastercard!;
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body.status).toBe("Completed");
    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.body.payment).toEqual({ brand: "mastercard", last4: "4444" });
  });
});

describe("notifications", () => {
  it("a completed order's email, sms and push are delivered and listed", async () => {
    const created = await createOrder(api, orderRequest());
    expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
    // Delivery runs off the notifications queue, so it may trail the orchestration slightly.
    const items = await eventually(async () => {
      const res = await api.get(`/orders/${created.orderId}/notifications`);
      expect(res.status).toBe(200);
      return res.body.items.length >= 3 ? res.body.items : undefined;
    }, "three deliveries");
    expect(items.map((n: any) => n.channel).sort()).toEqual(["email", "push", "sms"]);
    for (const n of items) {
      expect(n).toMatchObject({
        orderId: created.orderId,
        notificationId: `${created.orderId}:${n.channel}`,
        deliveredAt: expect.any(String),
      });
    }
  });

  it("a declined order sends none", async () => {
    const created = await createOrder(api, orderRequest({ cardNumber: CARDS.decline }));
    expect((await pollToOutcome(api, created.location)).body.status).toBe("PaymentDeclined");
    const res = await api.get(`/orders/${created.orderId}/notifications`);
    expect(res.body.items).toEqual([]);
  });
});

describe("health and unknown orders", () => {
  it("health is 200 with every dependency up", async () => {
    const res = await api.get("/health");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: "healthy",
      dependencies: { cosmos: { status: "up" }, serviceBus: { status: "up" } },
    });
  });

  it("an unknown order is 404 problem+json on every route", async () => {
    const id = randomUUID();
    for (const [method, path] of [
      ["GET", `/orders/${id}`],
      ["GET", `/orders/${id}/status`],
      ["GET", `/orders/${id}/payments`],
      ["GET", `/orders/${id}/notifications`],
      ["POST", `/orders/${id}/cancel`],
      ["GET", "/orders/not-a-uuid"],
    ] as const) {
      const res = await api.request(method, path);
      expect({ route: `${method} ${path}`, status: res.status }).toEqual({
        route: `${method} ${path}`,
        status: 404,
      });
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.body.status).toBe(404);
    }
    const approval = await api.post(`/orders/${id}/approval`, { approved: true, approver: "a" });
    expect(approval.status).toBe(404);
  });

  it("listing a customer with no orders is empty, not an error", async () => {
    const res = await api.get(`/orders?customerId=${uniqueCustomer("nobody")}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ items: [], continuationToken: null });
  });
});

describe("listing", () => {
  it("pages a customer's orders with limit and continuationToken", async () => {
    const customerId = uniqueCustomer("pages");
    const created: Created[] = [];
    for (let i = 0; i < 3; i++) created.push(await createOrder(api, orderRequest({ customerId })));
    const ids = new Set(created.map((c) => c.orderId));
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const q: string = token ? `&continuationToken=${encodeURIComponent(token)}` : "";
      const res = await api.get(`/orders?customerId=${encodeURIComponent(customerId)}&limit=2${q}`);
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...res.body.items.map((o: any) => o.orderId));
      token = res.body.continuationToken;
      pages++;
    } while (token && pages < 5);
    expect(pages).toBe(2);
    expect(seen.sort()).toEqual([...ids].sort());
    for (const c of created) {
      expect((await pollToOutcome(api, c.location)).body.status).toBe("Completed");
    }
  });
});

describe("ledger invariant (Cosmos)", () => {
  it("every order's payments match its outcome: at most one charge, a refund only when Failed", async () => {
    const { resources: orders } = await cosmosContainer(host.endpoints, "orders")
      .items.query("SELECT c.id, c.status FROM c")
      .fetchAll();
    const { resources: payments } = await cosmosContainer(host.endpoints, "payments")
      .items.query("SELECT c.orderId, c.kind, c.amount FROM c")
      .fetchAll();
    expect(orders.length).toBeGreaterThanOrEqual(12);
    const expected: Record<string, [number, number]> = {
      Completed: [1, 0],
      Failed: [1, 1],
      PaymentDeclined: [0, 0],
    };
    for (const order of orders) {
      const mine = payments.filter((p) => p.orderId === order.id);
      const counts = [charges(mine).length, refunds(mine).length];
      expect({ id: order.id, status: order.status, counts }).toEqual({
        id: order.id,
        status: order.status,
        counts: expected[order.status] ?? [0, 0],
      });
    }
  });
});

describe("artefacts", () => {
  it("the search finds a card number verbatim and hidden in base64 (self-check)", () => {
    const frame = Buffer.concat([
      Buffer.from([0, 0x53, 0x75]),
      Buffer.from(`{"n":"${CARDS.amex}"}`),
    ]);
    expect(cardsIn(`x${CARDS.amex}x`, [CARDS.amex], "t")).toHaveLength(1);
    expect(cardsIn(`{"b":"${frame.toString("base64")}"}`, [CARDS.amex], "t")).toEqual([
      { where: "t", card: CARDS.amex, encoding: "base64" },
    ]);
    expect(cardsIn(`{"last4":"0005"}`, [CARDS.amex], "t")).toEqual([]);
  });

  it("no full card number in DATA_DIR, the logs or any response; no management URL or key", () => {
    const report = searchArtefacts(host, api);
    // The search saw the real stores: the durable history, Cosmos and the Service Bus journal.
    expect(report.files.some((f) => f.includes("durable"))).toBe(true);
    expect(report.files.some((f) => f.includes("cosmos"))).toBe(true);
    expect(report.files.some((f) => f.includes("servicebus"))).toBe(true);
    expect(report.corpus).toContain('"last4":"0119"');
    expect(api.responses.length).toBeGreaterThan(30);
    expect(report.hits).toEqual([]);
    expect(report.leaks).toEqual([]);
  });
});
