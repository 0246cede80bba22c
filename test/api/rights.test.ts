// Who may do what, per route and caller, through the registered functions with tokens from the
// development issuer (in this process). Every answer is checked against openapi.yaml, and no
// refused request writes anything (no order, no workflow start, no event).
import { invokeHttp, loadApp, setDurableClientBinding, type HttpResult } from "../harness/app";
import { resetServices } from "../../src/adapters/services";
import { resetSettings } from "../../src/config";
import type { Order } from "../../src/domain/order";
import { installFakeServices, sampleOrder, type Fakes } from "../fakes";
import { bearer, ROLES, startTestIssuer, type TestIssuer } from "../helpers/tokens";
import { FakeDurableServer } from "./support/durableServer";
import { OpenApi } from "./support/openapi";

const openapi = new OpenApi();
const durable = new FakeDurableServer();
let fakes: Fakes;
let issuer: TestIssuer;

// A: customer c-1's own order; B: placed by the storefront for c-2; C: placed by approver ada
// as a customer. All three await approval.
const A = "aaaaaaaa-0000-4000-8000-000000000001";
const B = "bbbbbbbb-0000-4000-8000-000000000002";
const C = "cccccccc-0000-4000-8000-000000000003";

type CallerName =
  | "none"
  | "customer"
  | "otherCustomer"
  | "storefront"
  | "otherApp"
  | "approver"
  | "operator"
  | "expired"
  | "wrongAudience";

async function tokenOf(caller: CallerName): Promise<string | undefined> {
  const t = issuer.tokens;
  switch (caller) {
    case "none":
      return undefined;
    case "customer":
      return t.customer("c-1");
    case "otherCustomer":
      return t.customer("c-9");
    case "storefront":
      return t.app("storefront");
    case "otherApp":
      return t.app("other-app");
    case "approver":
      // A person with the approver role who also shops (delegated scope).
      return t.user("ada", "Ada Approver", [ROLES.approve], { scopes: ["Orders.ReadWrite"] });
    case "operator":
      return t.operator("olu", "Olu Operator");
    case "expired":
      return t.mint({ oid: "c-1", scopes: ["Orders.ReadWrite"], expiresIn: -600 });
    case "wrongAudience":
      return t.mint({ oid: "c-1", scopes: ["Orders.ReadWrite"], audience: "someone-else" });
  }
}

async function call(
  caller: CallerName,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<HttpResult> {
  const token = await tokenOf(caller);
  const res = await invokeHttp({
    method,
    path,
    headers: {
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...(token ? bearer(token) : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  expect(openapi.check(res)).toEqual([]);
  if (res.status === 401 || res.status === 403) {
    // No order data and never the token in a refusal.
    expect(res.text).not.toMatch(/"customerId"|"orderId"|"lines"/);
    if (token) expect(res.text).not.toContain(token);
  }
  return res;
}

function order(id: string, overrides: Partial<Order>): Order {
  return sampleOrder({
    id,
    status: "AwaitingApproval",
    totals: { subtotal: 250_000, total: 250_000 },
    ...overrides,
  });
}

const newOrder = (customerId: string) => ({
  customerId,
  currency: "USD",
  items: [{ sku: "SKU-1", name: "Widget", quantity: 1, unitPrice: 1999 }],
  shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
  payment: { cardNumber: "4242424242424242" },
});

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
  fakes.orders.put(order(A, { customerId: "c-1", createdBy: { kind: "customer", id: "c-1" } }));
  fakes.orders.put(order(B, { customerId: "c-2", createdBy: { kind: "app", id: "storefront" } }));
  fakes.orders.put(order(C, { customerId: "ada", createdBy: { kind: "customer", id: "ada" } }));
  for (const id of [A, B, C]) {
    durable.set(id, {
      runtimeStatus: "Running",
      customStatus: { stage: "AwaitingApproval", updatedAt: new Date().toISOString() },
    });
  }
});
afterEach(() => resetServices());

/** Nothing was written: the three orders unchanged, no start, no event. */
function nothingWritten(): void {
  expect(fakes.orders.size).toBe(3);
  expect(durable.starts).toEqual([]);
  expect(durable.events).toEqual([]);
}

// [caller, A (own to c-1), B (storefront's), C (ada's)] → status of GET /orders/{id}
const READ: [CallerName, number, number, number][] = [
  ["none", 401, 401, 401],
  ["expired", 401, 401, 401],
  ["wrongAudience", 401, 401, 401],
  ["customer", 200, 404, 404],
  ["otherCustomer", 404, 404, 404],
  ["storefront", 404, 200, 404],
  ["otherApp", 404, 404, 404],
  ["approver", 200, 200, 200],
  ["operator", 200, 200, 200],
];

describe.each(["", "/status"])("GET /orders/{id}%s", (suffix) => {
  it.each(READ)("%s → A %i, B %i, C %i", async (caller, a, b, c) => {
    const got = [];
    for (const id of [A, B, C])
      got.push((await call(caller, "GET", `/orders/${id}${suffix}`)).status);
    expect(got).toEqual([a, b, c].map((s) => (s === 200 && suffix ? 202 : s)));
    nothingWritten();
  });
});

const LEDGER: [CallerName, number, number][] = [
  ["none", 401, 401],
  ["customer", 200, 404],
  ["otherCustomer", 404, 404],
  ["storefront", 403, 403],
  ["approver", 404, 404], // has the customer scope: its own orders only (C)
  ["operator", 200, 200],
];

describe.each(["payments", "notifications"])("GET /orders/{id}/%s", (list) => {
  it.each(LEDGER)("%s → A %i, B %i", async (caller, a, b) => {
    const got = [];
    for (const id of [A, B]) got.push((await call(caller, "GET", `/orders/${id}/${list}`)).status);
    expect(got).toEqual([a, b]);
    nothingWritten();
  });

  it("an approver without the customer scope is 403 naming the scope and roles", async () => {
    const token = await issuer.tokens.approver("ann", "Ann");
    const res = await invokeHttp({
      method: "GET",
      path: `/orders/${A}/${list}`,
      headers: bearer(token),
    });
    expect(res.status).toBe(403);
    expect(res.headers["www-authenticate"]).toBe(
      'Bearer error="insufficient_scope", scope="Orders.ReadWrite"',
    );
    expect(res.text).toMatch(/Orders\.ReadWrite.*Orders\.Operate/);
  });
});

describe("POST /orders/{id}/approval", () => {
  it.each([
    ["none", A, 401],
    ["customer", A, 403],
    ["storefront", B, 403],
    ["operator", A, 403],
    ["approver", C, 403], // nobody decides an order they placed
  ] as [CallerName, string, number][])(
    "%s on %s → %i, nothing raised",
    async (caller, id, status) => {
      const res = await call(caller, "POST", `/orders/${id}/approval`, { approved: true });
      expect(res.status).toBe(status);
      nothingWritten();
    },
  );

  it("an approver decides; decidedBy comes from the token, a forged approver is ignored", async () => {
    const res = await call("approver", "POST", `/orders/${A}/approval`, {
      approved: false,
      approver: "mallory",
      reason: "no",
    });
    expect(res.status).toBe(202);
    expect(durable.events).toEqual([
      {
        instanceId: A,
        name: "ApprovalDecision",
        data: {
          approved: false,
          reason: "no",
          approver: "Ada Approver",
          decidedBy: { id: "ada", name: "Ada Approver", at: expect.any(String) },
        },
      },
    ]);
  });

  it("an approver sees an order they approved while it is still in progress", async () => {
    const at = new Date().toISOString();
    await fakes.orders.updateStatus(A, "Approved", undefined, { id: "ann", name: "Ann", at });
    const ann = await issuer.tokens.approver("ann", "Ann");
    const bob = await issuer.tokens.approver("bob", "Bob");
    const mine = await invokeHttp({ method: "GET", path: `/orders/${A}`, headers: bearer(ann) });
    expect(mine.status).toBe(200);
    expect(openapi.check(mine)).toEqual([]);
    expect(mine.json).toMatchObject({ decidedBy: { id: "ann", name: "Ann", at } });
    expect(
      (await invokeHttp({ method: "GET", path: `/orders/${A}`, headers: bearer(bob) })).status,
    ).toBe(404);
  });

  it("an approver sees an order they decided even after it left AwaitingApproval", async () => {
    await fakes.orders.updateStatus(A, "Rejected", {
      status: "Rejected",
      decidedBy: { id: "ann", name: "Ann", at: new Date().toISOString() },
    });
    const ann = await issuer.tokens.approver("ann", "Ann");
    const bob = await issuer.tokens.approver("bob", "Bob");
    expect(
      (await invokeHttp({ method: "GET", path: `/orders/${A}`, headers: bearer(ann) })).status,
    ).toBe(200);
    expect(
      (await invokeHttp({ method: "GET", path: `/orders/${A}`, headers: bearer(bob) })).status,
    ).toBe(404);
  });
});

describe("POST /orders/{id}/cancel", () => {
  it.each([
    ["none", A, 401],
    ["otherCustomer", A, 404],
    ["customer", B, 404],
    ["otherApp", B, 404],
  ] as [CallerName, string, number][])(
    "%s on %s → %i, nothing raised",
    async (caller, id, status) => {
      expect((await call(caller, "POST", `/orders/${id}/cancel`)).status).toBe(status);
      nothingWritten();
    },
  );

  it("an approver-only person may not cancel (403)", async () => {
    const token = await issuer.tokens.approver("ann", "Ann");
    const res = await invokeHttp({
      method: "POST",
      path: `/orders/${A}/cancel`,
      headers: bearer(token),
    });
    expect(res.status).toBe(403);
    nothingWritten();
  });

  it.each([
    ["customer", A],
    ["storefront", B],
    ["operator", C],
  ] as [CallerName, string][])("%s cancels %s, attributed", async (caller, id) => {
    expect((await call(caller, "POST", `/orders/${id}/cancel`)).status).toBe(202);
    expect(durable.events).toEqual([
      expect.objectContaining({
        instanceId: id,
        name: "CancelOrder",
        data: { decidedBy: expect.objectContaining({ at: expect.any(String) }) },
      }),
    ]);
  });
});

describe("GET /orders", () => {
  const ids = (res: HttpResult) =>
    (res.json as { items: { orderId: string }[] }).items.map((o) => o.orderId).sort();

  it.each([
    ["customer", "", [A]],
    ["otherCustomer", "", []],
    ["storefront", "", [B]],
    ["storefront", "?customerId=c-2", [B]],
    ["storefront", "?customerId=c-1", []],
    ["approver", "", [A, B, C]],
    ["operator", "", [A, B, C]],
    ["operator", "?customerId=c-2", [B]],
    ["customer", "?customerId=c-1", [A]],
  ] as [CallerName, string, string[]][])(
    "%s %s → only what they may see",
    async (caller, query, expected) => {
      const res = await call(caller, "GET", `/orders${query}`);
      expect(res.status).toBe(200);
      expect(ids(res)).toEqual(expected.sort());
    },
  );

  it("a customer asking for another customer's orders is 403; no token is 401", async () => {
    expect((await call("customer", "GET", "/orders?customerId=c-2")).status).toBe(403);
    const none = await call("none", "GET", "/orders");
    expect(none.status).toBe(401);
    expect(none.headers["www-authenticate"]).toBe("Bearer");
  });
});

describe("POST /orders", () => {
  it.each([
    ["none", "c-1", 401],
    ["expired", "c-1", 401],
    ["customer", "c-2", 403],
    ["operator", "c-1", 403],
  ] as [CallerName, string, number][])(
    "%s for %s → %i, nothing written",
    async (caller, customerId, status) => {
      const res = await call(caller, "POST", "/orders", newOrder(customerId), {
        "idempotency-key": "k",
      });
      expect(res.status).toBe(status);
      nothingWritten();
    },
  );

  it("the token is checked before the body is read (a bad body without a token is 401)", async () => {
    const res = await invokeHttp({
      method: "POST",
      path: "/orders",
      headers: { "content-type": "text/plain" },
      body: "{oops",
    });
    expect(res.status).toBe(401);
  });

  it("a customer creates their own; the storefront for anyone; the creator is recorded", async () => {
    const mine = await call("customer", "POST", "/orders", newOrder("c-1"), {
      "idempotency-key": "k",
    });
    expect(mine.status).toBe(202);
    const theirs = await call("storefront", "POST", "/orders", newOrder("c-5"));
    expect(theirs.status).toBe(202);
    const stored = await fakes.orders.get((theirs.json as { orderId: string }).orderId);
    expect(stored?.createdBy).toEqual({ kind: "app", id: "storefront" });
    const own = await call(
      "customer",
      "GET",
      `/orders/${(mine.json as { orderId: string }).orderId}`,
    );
    expect(own.json).toMatchObject({
      createdBy: { kind: "customer", id: "c-1", clientId: "orders-dev-client" },
    });
  });

  it("a replay of the key by a different creator is 422 with no order data", async () => {
    expect(
      (await call("customer", "POST", "/orders", newOrder("c-1"), { "idempotency-key": "same" }))
        .status,
    ).toBe(202);
    const replay = await call("storefront", "POST", "/orders", newOrder("c-1"), {
      "idempotency-key": "same",
    });
    expect(replay.status).toBe(422);
    expect(replay.text).not.toMatch(/orderId|Location/i);
    expect(replay.headers.location).toBeUndefined();
  });
});

describe("forged identity headers", () => {
  const principal = Buffer.from(
    JSON.stringify({
      auth_typ: "aad",
      claims: [{ typ: "roles", val: "Orders.Operate" }],
      userId: "c-1",
    }),
  ).toString("base64");

  it("x-ms-client-principal alone is no credential (401)", async () => {
    const res = await call("none", "GET", `/orders/${A}`, undefined, {
      "x-ms-client-principal": principal,
    });
    expect(res.status).toBe(401);
  });

  it("x-ms-client-principal next to a token is ignored", async () => {
    const res = await call("otherCustomer", "GET", `/orders/${A}`, undefined, {
      "x-ms-client-principal": principal,
      "x-ms-client-principal-id": "c-1",
    });
    expect(res.status).toBe(404);
  });

  it("a non-Bearer scheme is no credential; a malformed bearer is invalid_token", async () => {
    const basic = await invokeHttp({
      method: "GET",
      path: "/orders",
      headers: { authorization: "Basic dTpw" },
    });
    expect(basic.status).toBe(401);
    expect(basic.headers["www-authenticate"]).toBe("Bearer");
    const bad = await invokeHttp({
      method: "GET",
      path: "/orders",
      headers: { authorization: "Bearer nope" },
    });
    expect(bad.status).toBe(401);
    expect(bad.headers["www-authenticate"]).toMatch(/^Bearer error="invalid_token"/);
  });

  it("health stays anonymous", async () => {
    expect((await invokeHttp({ method: "GET", path: "/health" })).status).toBe(200);
  });
});
