import { InvocationContext } from "@azure/functions";
import { acceptOrder, type AcceptOrderDeps } from "../../src/intake/acceptOrder";
import { deriveOrderId } from "../../src/intake/orderId";
import { canonicalJson, requestHash } from "../../src/intake/requestHash";
import { createFakes, type Fakes } from "../fakes";
import { durableClientFor } from "./support/client";
import { FakeDurableServer } from "./support/durableServer";

const PAN = "4242424242424242";
const CREATOR = { kind: "customer" as const, id: "c-1" };
const body = () => ({
  customerId: "c-1",
  currency: "USD",
  items: [{ sku: "SKU-1", name: "Widget", quantity: 2, unitPrice: 1999 }],
  shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
  payment: { cardNumber: PAN },
});

const durable = new FakeDurableServer();
let fakes: Fakes;
let logs: string[];
let deps: AcceptOrderDeps;

beforeAll(() => durable.start());
afterAll(() => durable.stop());
beforeEach(() => {
  durable.reset();
  fakes = createFakes();
  logs = [];
  const context = new InvocationContext({
    functionName: "test",
    logHandler: (_level, ...args) => logs.push(args.map(String).join(" ")),
  });
  deps = {
    client: durableClientFor(durable.clientBinding()),
    orders: fakes.orders,
    gateway: fakes.gateway,
    settings: { approvalThresholdMinor: 100000, approvalTimeout: "PT24H" },
    context,
  };
});

describe("order ids and request hashes", () => {
  it("derives a stable UUID (v8 layout) per customer and key", () => {
    const id = deriveOrderId("c-1", "key-1");
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(deriveOrderId("c-1", "key-1")).toBe(id);
    expect(deriveOrderId("c-2", "key-1")).not.toBe(id);
    expect(deriveOrderId("c-1", "key-2")).not.toBe(id);
    // The separator keeps customer/key pairs that concatenate to the same text apart.
    expect(deriveOrderId("c-1x", "y")).not.toBe(deriveOrderId("c-1", "xy"));
  });

  it("hashes canonical JSON: key order does not matter, values and item order do", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,1]},"b":1}',
    );
    const r = { ...body(), payment: { cardNumber: PAN } };
    const reordered = JSON.parse(
      JSON.stringify({
        payment: r.payment,
        items: r.items,
        currency: r.currency,
        shippingAddress: r.shippingAddress,
        customerId: r.customerId,
      }),
    );
    expect(requestHash(reordered, "fp")).toBe(requestHash(r, "fp"));
    expect(requestHash(r, "fp2")).not.toBe(requestHash(r, "fp"));
    expect(requestHash({ ...r, currency: "EUR" }, "fp")).not.toBe(requestHash(r, "fp"));
  });
});

describe("acceptOrder", () => {
  it("writes a Received order without the card number and starts processOrder with it", async () => {
    const result = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(result.kind).toBe("created");
    if (result.kind !== "created") return;
    const id = deriveOrderId("c-1", "k1");
    expect(result.order).toMatchObject({
      id,
      status: "Received",
      totals: { subtotal: 3998, total: 3998 },
      payment: { brand: "visa", last4: "4242" },
      idempotencyKey: "k1",
      source: "http",
    });
    expect(await fakes.orders.get(id)).toEqual(result.order);
    expect(durable.starts).toEqual([
      {
        name: "processOrder",
        instanceId: id,
        input: {
          orderId: id,
          customerId: "c-1",
          currency: "USD",
          total: 3998,
          payment: result.order.payment,
          channels: ["email", "sms", "push"],
          approval: { thresholdMinor: 100000, timeout: "PT24H" },
        },
      },
    ]);
    const everything = JSON.stringify([fakes.orders.all(), durable.bodies, logs, result]);
    expect(everything).not.toContain(PAN);
    expect(logs.some((l) => l.includes('"event":"order.accepted"') && l.includes(id))).toBe(true);
  });

  it("returns the same order for the same key and body, without starting again", async () => {
    const first = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    const second = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(second).toEqual({
      kind: "existing",
      order: (first as { order: unknown }).order,
      repaired: false,
    });
    expect(durable.starts).toHaveLength(1);
    expect(fakes.orders.size).toBe(1);
  });

  it("does not restart a finished instance on a retry (the extension would)", async () => {
    const first = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    const id = (first as { order: { id: string } }).order.id;
    durable.set(id, { runtimeStatus: "Completed", output: { status: "Completed" } });
    await fakes.orders.updateStatus(id, "Charging");
    const again = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(again.kind).toBe("existing");
    expect(durable.restarts).toEqual([]);
    expect(durable.starts).toHaveLength(1);
  });

  it("treats a different body under the same key as a conflict and changes nothing", async () => {
    await acceptOrder(body(), { kind: "http", idempotencyKey: "k1", createdBy: CREATOR }, deps);
    const before = fakes.orders.all();
    const other = { ...body(), currency: "EUR" };
    const result = await acceptOrder(
      other,
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(result.kind).toBe("conflict");
    expect(fakes.orders.all()).toEqual(before);
    expect(durable.starts).toHaveLength(1);
  });

  it("the same key from another customer is another order", async () => {
    await acceptOrder(body(), { kind: "http", idempotencyKey: "k1", createdBy: CREATOR }, deps);
    const result = await acceptOrder(
      { ...body(), customerId: "c-2" },
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(result.kind).toBe("created");
    expect(fakes.orders.size).toBe(2);
  });

  it("repairs an order whose orchestration never started: startNew exactly once", async () => {
    durable.failStarts = 1; // the process "dies" between writing the order and starting it
    await expect(
      acceptOrder(body(), { kind: "http", idempotencyKey: "k1", createdBy: CREATOR }, deps),
    ).rejects.toThrow();
    expect(fakes.orders.size).toBe(1);
    expect(durable.starts).toHaveLength(0);
    durable.failStarts = 0;
    const retry = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(retry).toMatchObject({ kind: "existing", repaired: true });
    expect(durable.starts).toHaveLength(1);
    const again = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(again).toMatchObject({ kind: "existing", repaired: false });
    expect(durable.starts).toHaveLength(1);
    expect(logs.some((l) => l.includes("order.repaired"))).toBe(true);
  });

  it("counts a start that lost a race to a concurrent request as success", async () => {
    const id = deriveOrderId("c-1", "k1");
    durable.set(id, { runtimeStatus: "Running" });
    const result = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(result.kind).toBe("created");
    expect(durable.starts).toHaveLength(0);
  });

  it("answers invalid without tokenising or writing anything", async () => {
    const tokenize = jest.spyOn(fakes.gateway, "tokenize");
    const result = await acceptOrder(
      { ...body(), items: [] },
      { kind: "http", createdBy: CREATOR },
      deps,
    );
    expect(result).toEqual({
      kind: "invalid",
      errors: [{ pointer: "/items", detail: "must contain at least one item" }],
    });
    expect(tokenize).not.toHaveBeenCalled();
    expect(fakes.orders.size).toBe(0);
    expect(durable.starts).toHaveLength(0);
  });

  it("refuses an order whose total is zero", async () => {
    const free = { ...body(), items: [{ sku: "S", name: "Free", quantity: 1, unitPrice: 0 }] };
    const result = await acceptOrder(free, { kind: "http", createdBy: CREATOR }, deps);
    expect(result).toMatchObject({ kind: "invalid", errors: [{ pointer: "/items" }] });
    expect(fakes.orders.size).toBe(0);
  });

  it("refuses a total that overflows safe integers (pricing)", async () => {
    const huge = {
      ...body(),
      items: [{ sku: "S", name: "Big", quantity: 10_000, unitPrice: Number.MAX_SAFE_INTEGER }],
    };
    const result = await acceptOrder(huge, { kind: "http", createdBy: CREATOR }, deps);
    expect(result).toMatchObject({ kind: "invalid", errors: [{ pointer: "/items/0" }] });
  });

  it("gives each keyless HTTP order a new id", async () => {
    const a = await acceptOrder(body(), { kind: "http", createdBy: CREATOR }, deps);
    const b = await acceptOrder(body(), { kind: "http", createdBy: CREATOR }, deps);
    expect(a.kind).toBe("created");
    expect(b.kind).toBe("created");
    expect(fakes.orders.size).toBe(2);
  });

  it("uses the message's orderId, else its messageId, for queue orders", async () => {
    const explicit = "0f8fad5b-d9cb-469f-a165-70867728950e";
    const a = await acceptOrder(
      { ...body(), orderId: explicit },
      { kind: "servicebus", messageId: "m1" },
      deps,
    );
    expect(a).toMatchObject({ kind: "created", order: { id: explicit, source: "servicebus" } });
    const b = await acceptOrder(body(), { kind: "servicebus", messageId: "m1" }, deps);
    expect(b).toMatchObject({ kind: "created", order: { id: deriveOrderId("servicebus", "m1") } });
    const dup = await acceptOrder(body(), { kind: "servicebus", messageId: "m1" }, deps);
    expect(dup.kind).toBe("existing");
  });
});

describe("acceptOrder: the creator", () => {
  it("is recorded on the order; a replay of the key by another creator is a conflict", async () => {
    const first = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: CREATOR },
      deps,
    );
    expect(first.kind).toBe("created");
    expect((await fakes.orders.get(deriveOrderId("c-1", "k1")))?.createdBy).toEqual(CREATOR);
    const partner = { kind: "app" as const, id: "storefront" };
    const replay = await acceptOrder(
      body(),
      { kind: "http", idempotencyKey: "k1", createdBy: partner },
      deps,
    );
    expect(replay.kind).toBe("conflict");
    expect(durable.starts).toHaveLength(1);
  });
});
