import { Agent } from "node:https";
import { cosmosClientOptions, isLoopbackHost } from "../../src/adapters/cosmos/client";
import { COSMOS_CONTAINERS } from "../../src/adapters/cosmos/containers";
import { CosmosAuditLog } from "../../src/adapters/cosmos/auditLog";
import { CosmosNotificationDeliveries } from "../../src/adapters/cosmos/notificationDeliveries";
import { CosmosOrderStore } from "../../src/adapters/cosmos/orderStore";
import { CosmosPaymentsLedger } from "../../src/adapters/cosmos/paymentsLedger";
import { CosmosRejectedMessages } from "../../src/adapters/cosmos/rejectedMessages";
import { ConcurrentUpdateError, OrderNotFoundError } from "../../src/adapters/errors";
import { BuiltInNotifier } from "../../src/adapters/notifier/builtInNotifier";
import { SimulatedGateway } from "../../src/adapters/payment/simulatedGateway";
import { InvalidTransitionError } from "../../src/domain/status";
import provisioning from "../../local-host/config/cosmos.json";
import type { Visibility } from "../../src/auth/rights";
import { sampleOrder } from "../fakes";
import { EMULATOR_KEY, startTestCosmos, type TestCosmos } from "../helpers/cosmosServer";

describe("Cosmos client options", () => {
  const key = { kind: "key" as const, key: EMULATOR_KEY };

  it.each([
    ["https://localhost:8081/", true],
    ["https://127.0.0.1:8081/", true],
    ["https://127.9.0.1/", true],
    ["https://[::1]:8081/", true],
    ["https://acct.documents.azure.com:443/", false],
    ["https://localhost.evil.example/", false],
    ["https://10.0.0.5:8081/", false],
  ])("%s is loopback: %s", (endpoint, loopback) => expect(isLoopbackHost(endpoint)).toBe(loopback));

  it("accepts a self-signed certificate only for a loopback endpoint that asks for it", () => {
    const local = cosmosClientOptions({
      ...key,
      endpoint: "https://localhost:8081/",
      allowSelfSigned: true,
    });
    expect(local.agent).toBeInstanceOf(Agent);
    expect((local.agent as Agent).options.rejectUnauthorized).toBe(false);
    const remote = cosmosClientOptions({
      ...key,
      endpoint: "https://acct.documents.azure.com/",
      allowSelfSigned: true,
    });
    expect(remote.agent).toBeUndefined();
    expect(remote.connectionPolicy).toBeUndefined();
    const notAsked = cosmosClientOptions({
      ...key,
      endpoint: "https://localhost:8081/",
      allowSelfSigned: false,
    });
    expect(notAsked.agent).toBeUndefined();
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
  });

  it("uses a token credential, not a key, for identity connections", () => {
    const options = cosmosClientOptions({
      kind: "identity",
      endpoint: "https://acct.documents.azure.com/",
      allowSelfSigned: false,
      credential: "managedidentity",
      clientId: "00000000-0000-0000-0000-000000000001",
    });
    expect(options.key).toBeUndefined();
    expect(typeof options.aadCredentials?.getToken).toBe("function");
    expect(options.aadCredentials?.constructor.name).toBe("ManagedIdentityCredential");
  });

  it("local-host/config/cosmos.json provisions exactly COSMOS_CONTAINERS", () => {
    expect(provisioning).toEqual({ databases: [{ id: "orders", containers: COSMOS_CONTAINERS }] });
  });
});

describe("Cosmos adapters against @vercel/cosmosdb-server", () => {
  let cosmos: TestCosmos;
  beforeAll(async () => {
    cosmos = await startTestCosmos();
  });
  afterAll(async () => {
    await cosmos?.close();
  });

  const orders = () => new CosmosOrderStore(cosmos.database.container("orders"));

  it("creates, point-reads and refuses a duplicate order id", async () => {
    const store = orders();
    const order = sampleOrder({ id: "a0000000-0000-4000-8000-000000000001" });
    expect(await store.create(order)).toEqual({ created: true, order });
    const dup = await store.create({ ...order, customerId: "other" });
    expect(dup).toEqual({ created: false, existing: order });
    expect(await store.get(order.id)).toEqual(order);
    expect(await store.get("b0000000-0000-4000-8000-000000000404")).toBeUndefined();
  });

  it("updates status through the lifecycle with etags, idempotently", async () => {
    const store = orders();
    const order = sampleOrder({ id: "a0000000-0000-4000-8000-000000000002" });
    await store.create(order);
    const charging = await store.updateStatus(order.id, "Charging");
    expect(charging.status).toBe("Charging");
    const paid = await store.updateStatus(order.id, "PaymentDeclined", {
      status: "PaymentDeclined",
      reason: "card_declined",
    });
    expect(paid).toMatchObject({ status: "PaymentDeclined", outcome: { reason: "card_declined" } });
    expect(await store.updateStatus(order.id, "PaymentDeclined")).toEqual(paid);
    await expect(store.updateStatus(order.id, "Paid")).rejects.toThrow(InvalidTransitionError);
    await expect(
      store.updateStatus("a0000000-0000-4000-8000-0000000000ff", "Paid"),
    ).rejects.toThrow(OrderNotFoundError);
    expect(JSON.stringify(await store.get(order.id))).not.toMatch(/"_etag"|"_rid"/);
  });

  it("re-reads after a 412 when another writer changed the order in between", async () => {
    const container = cosmos.database.container("orders");
    const order = sampleOrder({ id: "a0000000-0000-4000-8000-000000000003" });
    await orders().create(order);
    // Wrap the container so the first replace is preceded by a concurrent write.
    let raced = 0;
    let replaces = 0;
    const racing = new Proxy(container, {
      get(target, prop, receiver) {
        if (prop !== "item") return Reflect.get(target, prop, receiver);
        return (id: string, pk: string) => {
          const item = target.item(id, pk);
          return new Proxy(item, {
            get(t, p, r) {
              if (p !== "replace") return Reflect.get(t, p, r);
              return async (...args: Parameters<typeof item.replace>) => {
                replaces++;
                if (raced++ === 0)
                  await target.items.upsert({ ...order, customerId: "concurrent" });
                return t.replace(...args);
              };
            },
          });
        };
      },
    });
    const updated = await new CosmosOrderStore(racing).updateStatus(order.id, "Charging");
    expect(replaces).toBe(2);
    expect(updated).toMatchObject({ status: "Charging", customerId: "concurrent" });

    const never = new Proxy(container, {
      get(target, prop, receiver) {
        if (prop !== "item") return Reflect.get(target, prop, receiver);
        return (id: string, pk: string) => {
          const item = target.item(id, pk);
          return new Proxy(item, {
            get(t, p, r) {
              if (p !== "replace") return Reflect.get(t, p, r);
              return async (...args: Parameters<typeof item.replace>) => {
                await target.items.upsert({ ...(await t.read()).resource, touched: Math.random() });
                return t.replace(...args);
              };
            },
          });
        };
      },
    });
    await expect(new CosmosOrderStore(never).updateStatus(order.id, "Paid")).rejects.toThrow(
      ConcurrentUpdateError,
    );
  });

  it("advance: after its own write a call costs one request; a version replaced since is re-read", async () => {
    const container = cosmos.database.container("orders");
    const calls: string[] = [];
    // Counts the point operations the store makes on the container.
    const counting = new Proxy(container, {
      get(target, prop, receiver) {
        if (prop === "items") {
          const items = target.items;
          return new Proxy(items, {
            get(t, p, r) {
              if (p !== "create") return Reflect.get(t, p, r);
              return (...args: Parameters<typeof items.create>) => {
                calls.push("create");
                return t.create(...args);
              };
            },
          });
        }
        if (prop !== "item") return Reflect.get(target, prop, receiver);
        return (id: string, pk: string) => {
          const item = target.item(id, pk);
          return new Proxy(item, {
            get(t, p, r) {
              const f = Reflect.get(t, p, r) as unknown;
              if ((p !== "read" && p !== "replace") || typeof f !== "function") return f;
              return (...args: unknown[]) => {
                calls.push(String(p));
                return (f as (...a: unknown[]) => unknown).apply(t, args);
              };
            },
          });
        };
      },
    });
    const store = new CosmosOrderStore(counting);
    const order = sampleOrder({ id: "a0000000-0000-4000-8000-000000000004" });
    await store.create(order);
    await store.advance(order.id, [{ status: "Charging" }]);
    const { before, after } = await store.advance(order.id, [
      { status: "Paid" },
      { status: "Notifying" },
    ]);
    expect([before.status, after.status]).toEqual(["Charging", "Notifying"]);
    // One replace per call from the version the store wrote last (no reads), Paid and
    // Notifying in one.
    expect(calls).toEqual(["create", "replace", "replace"]);
    expect(after.updatedAt).toBe((await store.get(order.id))?.updatedAt);

    // Nothing to write is never decided on a remembered version: it reads first.
    calls.length = 0;
    expect((await store.advance(order.id, [{ status: "Notifying" }])).after.status).toBe(
      "Notifying",
    );
    expect(
      (await store.advance(order.id, [{ status: "Notifying" }], { doneAt: "Completed" })).after
        .status,
    ).toBe("Notifying");
    expect(calls).toEqual(["read", "read"]);

    // Another writer replaced it meanwhile: the remembered etag gets a 412, then read and retry.
    await container.items.upsert({ ...(await store.get(order.id)), customerId: "concurrent" });
    calls.length = 0;
    const done = await store.advance(order.id, [
      { status: "Completed", outcome: { status: "Completed" } },
    ]);
    expect(done.after).toMatchObject({ status: "Completed", customerId: "concurrent" });
    expect(calls).toEqual(["replace", "read", "replace"]);
    expect(await store.get(order.id)).toMatchObject({
      status: "Completed",
      customerId: "concurrent",
    });

    // A forbidden move on a remembered version is checked against a read, then refused.
    calls.length = 0;
    await expect(store.advance(order.id, [{ status: "Charging" }])).rejects.toThrow(
      InvalidTransitionError,
    );
    expect(calls).toEqual(["read"]);
  });

  it("lists by customer and status, newest first, across pages", async () => {
    const store = orders();
    for (let i = 0; i < 5; i++) {
      await store.create(
        sampleOrder({
          id: `c0000000-0000-4000-8000-00000000000${i}`,
          customerId: "lister",
          status: i === 4 ? "Charging" : "Received",
          createdAt: `2024-02-0${i + 1}T00:00:00.000Z`,
        }),
      );
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await store.list({
        customerId: "lister",
        limit: 2,
        ...(token ? { continuationToken: token } : {}),
      });
      expect(page.items.length).toBeGreaterThan(0);
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((o) => o.id.slice(-1)));
      token = page.continuationToken;
      pages++;
    } while (token && pages < 10);
    expect(seen).toEqual(["4", "3", "2", "1", "0"]);
    const charging = await store.list({ customerId: "lister", status: "Charging", limit: 10 });
    expect(charging.items.map((o) => o.id.slice(-1))).toEqual(["4"]);
    // Created at or after `from`, before `to`.
    const range = await store.list({
      customerId: "lister",
      from: "2024-02-02T00:00:00.000Z",
      to: "2024-02-04T00:00:00.000Z",
      limit: 10,
    });
    expect(range.items.map((o) => o.id.slice(-1))).toEqual(["2", "1"]);
  });

  it("lists only the orders a caller may see (visibleTo: customer OR creating app OR approver)", async () => {
    const store = orders();
    const at = (i: number) => `2024-03-0${i}T00:00:00.000Z`;
    const put = (i: number, o: Parameters<typeof sampleOrder>[0]) =>
      store.create(
        sampleOrder({ id: `e0000000-0000-4000-8000-00000000000${i}`, createdAt: at(i), ...o }),
      );
    await put(1, { customerId: "vis-c1", createdBy: { kind: "customer", id: "vis-c1" } });
    await put(2, { customerId: "vis-c2", createdBy: { kind: "app", id: "vis-app" } });
    await put(3, { customerId: "vis-c3", status: "AwaitingApproval" });
    await put(4, {
      customerId: "vis-c4",
      status: "Rejected",
      outcome: { status: "Rejected", decidedBy: { id: "vis-ann", name: "Ann", at: at(4) } },
    });
    // Ids (last digit) of this test's orders the list returns, newest first.
    const ids = async (visibleTo: Visibility, customerId?: string) =>
      (await store.list({ limit: 100, visibleTo, ...(customerId ? { customerId } : {}) })).items
        .filter((o) => o.customerId.startsWith("vis-"))
        .map((o) => o.id.slice(-1));
    expect(await ids({ customerId: "vis-c1" })).toEqual(["1"]);
    expect(await ids({ createdByApp: "vis-app" })).toEqual(["2"]);
    expect(await ids({ createdByApp: "vis-app" }, "vis-c1")).toEqual([]);
    expect(await ids({ approverId: "vis-ann" })).toEqual(["4", "3"]);
    expect(await ids({ customerId: "vis-c1", approverId: "nobody" })).toEqual(["3", "1"]);
    expect(await ids({})).toEqual([]);
  });

  it("the simulated gateway keeps one ledger entry per charge and refund in `payments`", async () => {
    const ledger = new CosmosPaymentsLedger(cosmos.database.container("payments"));
    const gateway = new SimulatedGateway({ ledger });
    const orderId = "d0000000-0000-4000-8000-000000000001";
    const ref = await gateway.tokenize("4000000000000259");
    const req = { idempotencyKey: orderId, token: ref.token, amount: 120000, currency: "USD" };
    const first = await gateway.charge(req);
    const second = await gateway.charge(req);
    expect(second).toEqual(first);
    if (first.outcome !== "approved") throw new Error("expected approval");
    await expect(
      gateway.capture({ chargeId: first.chargeId, idempotencyKey: orderId }),
    ).rejects.toThrow(/refused/);
    const refund = {
      idempotencyKey: orderId,
      chargeId: first.chargeId,
      amount: 120000,
      currency: "USD",
      reason: "capture failed",
    };
    expect(await gateway.refund(refund)).toEqual(await gateway.refund(refund));
    const entries = await ledger.list(orderId);
    expect(entries.map((e) => [e.id, e.kind, e.amount])).toEqual([
      [`charge:${orderId}`, "charge", 120000],
      [`refund:${orderId}`, "refund", 120000],
    ]);
    expect(JSON.stringify(entries)).not.toContain("4000000000000259");
    expect(await ledger.list("someone-else")).toEqual([]);
  });

  it("the built-in notifier records each notification once", async () => {
    const deliveries = new CosmosNotificationDeliveries(cosmos.database.container("notifications"));
    const notifier = new BuiltInNotifier(deliveries);
    const orderId = "e0000000-0000-4000-8000-000000000001";
    const message = (channel: "email" | "sms") => ({
      notificationId: `${orderId}:${channel}`,
      orderId,
      customerId: "c-1",
      channel,
      template: "order-completed" as const,
      data: {},
    });
    const first = await notifier.deliver(message("email"));
    expect(await notifier.deliver(message("email"))).toEqual(first);
    await notifier.deliver(message("sms"));
    expect((await deliveries.list(orderId)).map((d) => d.id).sort()).toEqual([
      `${orderId}:email`,
      `${orderId}:sms`,
    ]);
  });

  it("rejected messages are stored with reasons and masked card numbers", async () => {
    const rejected = new CosmosRejectedMessages(cosmos.database.container("rejected-messages"));
    await rejected.record({
      id: "msg-1",
      source: "orders-inbound",
      messageId: "msg-1",
      body: { payment: { cardNumber: "4242424242424242" } },
      reasons: [{ pointer: "/items", detail: "Required" }],
      rejectedAt: "2024-03-01T00:00:00.000Z",
    });
    const [stored] = (await rejected.list({ limit: 10 })).items;
    expect(stored).toMatchObject({
      id: "msg-1",
      state: "rejected",
      reasons: [{ pointer: "/items" }],
    });
    expect(JSON.stringify(stored)).not.toContain("4242424242424242");
  });

  it("a resolved rejected message keeps its resolution; a redelivery does not undo it; lists page by state", async () => {
    const rejected = new CosmosRejectedMessages(cosmos.database.container("rejected-messages"));
    const base = {
      source: "orders-inbound" as const,
      body: { customerId: "c-1" },
      reasons: [{ pointer: "/items", detail: "is required" }],
    };
    for (let i = 0; i < 3; i++) {
      await rejected.record({
        ...base,
        id: `page-${i}`,
        rejectedAt: `2024-04-0${i + 1}T00:00:00.000Z`,
      });
    }
    const by = { id: "olu", name: "Olu Operator" };
    const resolved = await rejected.resolve("page-0", "discarded", {
      by,
      at: "2024-05-01T00:00:00.000Z",
      reason: "duplicate of another message",
    });
    expect(resolved).toMatchObject({
      state: "discarded",
      resolution: { by, reason: "duplicate of another message" },
    });
    await rejected.record({ ...base, id: "page-0", rejectedAt: "2024-06-01T00:00:00.000Z" });
    expect(await rejected.get("page-0")).toMatchObject({ state: "discarded" });

    const first = await rejected.list({ state: "rejected", limit: 1 });
    expect(first.items.map((r) => r.id)).toEqual(["page-2"]);
    const second = await rejected.list({
      state: "rejected",
      limit: 5,
      continuationToken: first.continuationToken!,
    });
    expect(second.items.map((r) => r.id)).toContain("page-1");
    expect(second.items.map((r) => r.id)).not.toContain("page-0");
    expect((await rejected.list({ state: "discarded", limit: 5 })).items.map((r) => r.id)).toEqual([
      "page-0",
    ]);
  });

  it("the audit log lists newest first, by order (target or details) and by actor", async () => {
    const audit = new CosmosAuditLog(cosmos.database.container("audit"));
    const olu = { id: "olu", name: "Olu" };
    const ada = { id: "ada", name: "Ada" };
    await audit.record({
      id: "a1",
      at: "2024-01-01T00:00:01.000Z",
      actor: olu,
      action: "discard",
      target: { kind: "rejected-message", id: "r1" },
      reason: "spam",
    });
    await audit.record({
      id: "a2",
      at: "2024-01-01T00:00:02.000Z",
      actor: ada,
      action: "approve",
      target: { kind: "order", id: "o1" },
      reason: "ok",
    });
    await audit.record({
      id: "a3",
      at: "2024-01-01T00:00:03.000Z",
      actor: olu,
      action: "resubmit",
      target: { kind: "rejected-message", id: "r2" },
      reason: "fixed the country",
      details: { orderId: "o1" },
    });
    const ids = async (q: { orderId?: string; actor?: string }) =>
      (await audit.list({ ...q, limit: 10 })).items.map((e) => e.id);
    expect(await ids({})).toEqual(["a3", "a2", "a1"]);
    expect(await ids({ orderId: "o1" })).toEqual(["a3", "a2"]);
    expect(await ids({ actor: "olu" })).toEqual(["a3", "a1"]);
  });

  it("orders: operator actions are appended; stale and created queries select by status and time", async () => {
    let now = new Date("2024-02-01T00:00:00.000Z");
    const store = new CosmosOrderStore(cosmos.database.container("orders"), () => now);
    const stale = sampleOrder({
      id: "stale-1",
      status: "Charging",
      createdAt: "2024-01-01T00:00:00.000Z",
      updatedAt: "2024-01-01T00:00:00.000Z",
    });
    const fresh = sampleOrder({
      id: "fresh-1",
      status: "Charging",
      createdAt: "2024-01-31T23:59:00.000Z",
      updatedAt: "2024-01-31T23:59:00.000Z",
    });
    const done = sampleOrder({
      id: "done-1",
      status: "Completed",
      createdAt: "2024-01-01T00:00:00.000Z",
      updatedAt: "2024-01-01T00:00:00.000Z",
    });
    for (const o of [stale, fresh, done]) await store.create(o);
    const found = await store.listStale({
      statuses: ["Charging", "Notifying"],
      updatedBefore: "2024-01-31T00:00:00.000Z",
      limit: 10,
    });
    // (Other tests' orders share the container.)
    const ids = found.map((o) => o.id);
    expect(ids).toContain("stale-1");
    expect(ids).not.toContain("fresh-1");
    expect(ids).not.toContain("done-1");
    expect(found.every((o) => o.status === "Charging" || o.status === "Notifying")).toBe(true);
    const created = await store.listCreated({
      from: "2024-01-01T00:00:00.000Z",
      to: "2024-01-02T00:00:00.000Z",
    });
    expect(created.map((o) => o.id)).toEqual(expect.arrayContaining(["done-1", "stale-1"]));
    expect(created.map((o) => o.id)).not.toContain("fresh-1");
    expect(Object.keys(created[0]!).sort()).toEqual(["createdAt", "id", "status", "updatedAt"]);
    now = new Date("2024-02-02T00:00:00.000Z");
    const action = {
      action: "refund",
      reason: "stuck after the charge",
      by: { id: "olu", name: "Olu" },
      at: now.toISOString(),
      stage: "Charging" as const,
      runtimeStatus: "Terminated",
    };
    const after = await store.recordAction("stale-1", action);
    expect(after.operatorActions).toEqual([action]);
    expect((await store.get("stale-1"))?.operatorActions).toEqual([action]);
  });
});
