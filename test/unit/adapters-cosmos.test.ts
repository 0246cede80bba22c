import { Agent } from "node:https";
import { cosmosClientOptions, isLoopbackHost } from "../../src/adapters/cosmos/client";
import { COSMOS_CONTAINERS } from "../../src/adapters/cosmos/containers";
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
    const [stored] = await rejected.list();
    expect(stored).toMatchObject({ id: "msg-1", reasons: [{ pointer: "/items" }] });
    expect(JSON.stringify(stored)).not.toContain("4242424242424242");
  });
});
