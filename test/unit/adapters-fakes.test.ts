import { ConcurrentUpdateError, OrderNotFoundError } from "../../src/adapters/errors";
import { getServices, resetServices } from "../../src/adapters/services";
import { scrubCardNumbers } from "../../src/adapters/scrub";
import { InvalidTransitionError } from "../../src/domain/status";
import { InMemoryOrderStore, installFakeServices, sampleOrder } from "../fakes";

describe("InMemoryOrderStore (etag semantics like Cosmos)", () => {
  it("creates once and reports the existing order after", async () => {
    const store = new InMemoryOrderStore();
    expect(await store.create(sampleOrder())).toMatchObject({ created: true });
    const again = await store.create(sampleOrder({ customerId: "someone-else" }));
    expect(again).toEqual({ created: false, existing: sampleOrder() });
  });

  it("re-reads and re-decides when the etag changed under it", async () => {
    const store = new InMemoryOrderStore();
    const order = sampleOrder();
    await store.create(order);
    let raced = false;
    store.beforeReplace = (id) => {
      if (raced) return;
      raced = true;
      store.put({ ...order, id, customerId: "changed-concurrently" });
    };
    const etag = store.etagOf(order.id);
    const updated = await store.updateStatus(order.id, "Charging");
    expect(store.preconditionFailures).toBe(1);
    expect(updated).toMatchObject({ status: "Charging", customerId: "changed-concurrently" });
    expect(store.etagOf(order.id)).not.toBe(etag);
  });

  it("is idempotent for the same status and enforces the lifecycle", async () => {
    const store = new InMemoryOrderStore();
    await store.create(sampleOrder({ status: "Charging" }));
    const id = sampleOrder().id;
    await store.updateStatus(id, "PaymentDeclined", {
      status: "PaymentDeclined",
      reason: "card_declined",
    });
    const etag = store.etagOf(id);
    expect(await store.updateStatus(id, "PaymentDeclined")).toMatchObject({
      outcome: { reason: "card_declined" },
    });
    expect(store.etagOf(id)).toBe(etag);
    await expect(store.updateStatus(id, "Paid")).rejects.toThrow(InvalidTransitionError);
    await expect(store.updateStatus("missing", "Paid")).rejects.toThrow(OrderNotFoundError);
  });

  it("gives up when the order never stops changing", async () => {
    const store = new InMemoryOrderStore();
    const order = sampleOrder();
    await store.create(order);
    store.beforeReplace = () => store.put(order);
    await expect(store.updateStatus(order.id, "Charging")).rejects.toThrow(ConcurrentUpdateError);
  });

  it("lists newest first with filters and continuation tokens", async () => {
    const store = new InMemoryOrderStore();
    for (let i = 0; i < 5; i++) {
      await store.create(
        sampleOrder({
          id: `o${i}`,
          customerId: i % 2 ? "odd" : "even",
          createdAt: `2024-01-0${i + 1}T00:00:00.000Z`,
        }),
      );
    }
    const page1 = await store.list({ customerId: "even", limit: 2 });
    expect(page1.items.map((o) => o.id)).toEqual(["o4", "o2"]);
    const page2 = await store.list({
      customerId: "even",
      limit: 2,
      continuationToken: page1.continuationToken!,
    });
    expect(page2).toEqual({ items: [expect.objectContaining({ id: "o0" })] });
  });
});

describe("services wiring", () => {
  afterEach(() => resetServices());

  it("returns the installed fakes and forgets them on reset", async () => {
    const fakes = installFakeServices();
    expect(getServices().orders).toBe(fakes.orders);
    await getServices().notifications.enqueue({
      notificationId: "o:email",
      orderId: "o",
      customerId: "c",
      channel: "email",
      template: "order-completed",
      data: {},
    });
    expect(fakes.queue.sent).toHaveLength(1);
    resetServices();
    const saved = process.env.CosmosDBConnection;
    delete process.env.CosmosDBConnection;
    try {
      // Without overrides the real adapter is built lazily, and it needs its setting.
      expect(() => getServices().orders).toThrow(/CosmosDBConnection/);
    } finally {
      if (saved !== undefined) process.env.CosmosDBConnection = saved;
    }
  });

  it("rejected messages keep the body but never a card number", async () => {
    const fakes = installFakeServices();
    await getServices().rejectedMessages.record({
      id: "m1",
      source: "orders-inbound",
      body: { payment: { cardNumber: "4242424242424242" }, n: 4000000000000002 },
      reasons: [{ pointer: "/items", detail: "missing" }],
      rejectedAt: "2024-01-01T00:00:00.000Z",
    });
    const stored = JSON.stringify(fakes.rejected.records);
    expect(stored).not.toMatch(/4242424242424242|4000000000000002/);
    expect(stored).toContain("4242");
    expect(scrubCardNumbers({ a: [123, "ok"] })).toEqual({ a: [123, "ok"] });
  });
});
