/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Who may do what, end to end against the running local host, with tokens from its development
// issuer (as a client gets them): customers, a storefront application, approvers and an
// operator each do what README's table allows and get 401/403/404 for the rest. Nothing a
// refused request asked for is written. The issuer's key and URL survive a restart.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  cosmosContainer,
  createOrder,
  ensureFreshBuild,
  orderRequest,
  pollToOutcome,
  ROLES,
  sleep,
  tokensFor,
  uniqueCustomer,
  waitForStage,
  type Tokens,
} from "./support/e2e";

const THRESHOLD = 50000;
let host: StartedHost;
let api: Api;
let tokens: Tokens;
const earlierLogs: string[] = [];

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({
    appDir: PROJECT_ROOT,
    env: { APPROVAL_THRESHOLD_MINOR: String(THRESHOLD) },
  });
  api = Api.forHost(host);
  tokens = tokensFor(host);
}, 120000);

afterAll(async () => {
  if (host) {
    const report = searchArtefacts(host, api, [], earlierLogs);
    expect(report.hits).toEqual([]);
    expect(report.leaks).toEqual([]);
    // No token ever reaches a log line.
    expect([...earlierLogs, host.logs()].join("\n")).not.toMatch(/eyJ[\w-]+\.[\w-]+\./);
  }
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

const big = (customerId: string) => orderRequest({ customerId, quantity: 1, unitPrice: 75000 });

/** Stored orders of `customerId`, read straight from Cosmos (not through the API). */
async function storedOrders(customerId: string): Promise<any[]> {
  const { resources } = await cosmosContainer(host.endpoints, "orders")
    .items.query({
      query: "SELECT * FROM c WHERE c.customerId = @c",
      parameters: [{ name: "@c", value: customerId }],
    })
    .fetchAll();
  return resources;
}

async function storedOrder(orderId: string): Promise<any> {
  const { resource } = await cosmosContainer(host.endpoints, "orders")
    .item(orderId, orderId)
    .read();
  return resource;
}

describe("customers", () => {
  it("create, read, poll, list and see the ledger of their own orders only", async () => {
    const me = uniqueCustomer("me");
    const other = uniqueCustomer("other");
    const mine = api.as(tokens.customer(me));
    const theirs = api.as(tokens.customer(other));

    const created = await createOrder(mine, orderRequest({ customerId: me }), "k-1");
    expect((await pollToOutcome(mine, created.location)).body.status).toBe("Completed");
    const otherOrder = await createOrder(theirs, orderRequest({ customerId: other }));
    await pollToOutcome(theirs, otherOrder.location);

    const order = await mine.get(`/orders/${created.orderId}`);
    expect(order.status).toBe(200);
    expect(order.body.createdBy).toEqual({
      kind: "customer",
      id: me,
      clientId: "orders-dev-client",
    });
    expect((await mine.get(`/orders/${created.orderId}/payments`)).status).toBe(200);
    expect((await mine.get(`/orders/${created.orderId}/notifications`)).status).toBe(200);

    // A list with no filter: only theirs. With someone else's customerId: 403.
    const list = await mine.get("/orders");
    expect(list.status).toBe(200);
    expect(list.body.items.map((o: any) => o.customerId)).toEqual([me]);
    const foreign = await mine.get(`/orders?customerId=${other}`);
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("www-authenticate")).toMatch(/^Bearer error="insufficient_scope"/);
    expect(foreign.text).toMatch(/Orders\.Operate/);
  });

  it("another customer's order answers 404 on read, poll, cancel and the ledger, like an unknown id", async () => {
    const owner = uniqueCustomer("owner");
    const created = await createOrder(api.as(tokens.customer(owner)), big(owner));
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const intruder = api.as(tokens.customer(uniqueCustomer("intruder")));
    for (const [method, p] of [
      ["GET", `/orders/${created.orderId}`],
      ["GET", `/orders/${created.orderId}/status`],
      ["GET", `/orders/${created.orderId}/payments`],
      ["GET", `/orders/${created.orderId}/notifications`],
      ["POST", `/orders/${created.orderId}/cancel`],
    ]) {
      const res = await intruder.request(method!, p!);
      expect(`${method} ${p} ${res.status}`).toBe(`${method} ${p} 404`);
      expect(res.body.type).toBe("urn:orders:problem:not-found");
      expect(res.text).not.toContain(owner);
    }
    // Nothing happened to it: still waiting for a decision.
    expect((await storedOrder(created.orderId)).status).toBe("AwaitingApproval");
    expect((await api.post(`/orders/${created.orderId}/cancel`)).status).toBe(202);
  });

  it("creating an order in another customer's name is 403 and writes nothing", async () => {
    const me = uniqueCustomer("me");
    const victim = uniqueCustomer("victim");
    const res = await api
      .as(tokens.customer(me))
      .post("/orders", orderRequest({ customerId: victim }), {
        "idempotency-key": "forged",
      });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toMatch(/insufficient_scope/);
    expect(res.text).toMatch(/Orders\.Submit/);
    expect(await storedOrders(victim)).toEqual([]);
  });

  it("a forged x-ms-client-principal header is ignored", async () => {
    const principal = Buffer.from(
      JSON.stringify({ auth_typ: "aad", claims: [{ typ: "roles", val: ROLES.operate }] }),
    ).toString("base64");
    const forged = { "x-ms-client-principal": principal, "x-ms-client-principal-id": "op" };
    const anonymous = await api.anonymous().request("GET", "/orders", { headers: forged });
    expect(anonymous.status).toBe(401);
    const me = uniqueCustomer("me");
    const someone = uniqueCustomer("someone");
    const created = await createOrder(api, orderRequest({ customerId: someone }));
    const res = await api
      .as(tokens.customer(me))
      .request("GET", `/orders/${created.orderId}`, { headers: forged });
    expect(res.status).toBe(404);
  });
});

describe("tokens that are not good enough", () => {
  it("no token → 401 Bearer; an expired token on a poll → 401 invalid_token; another audience → 401", async () => {
    const me = uniqueCustomer("me");
    const created = await createOrder(
      api.as(tokens.customer(me)),
      orderRequest({ customerId: me }),
    );
    const none = await api.anonymous().get(created.location);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toBe("Bearer");
    expect(none.headers.get("content-type")).toMatch(/^application\/problem\+json/);

    const expired = await tokens.customer(me, { expiresIn: -120 });
    const poll = await api.as(expired).get(created.location);
    expect(poll.status).toBe(401);
    expect(poll.headers.get("www-authenticate")).toMatch(/^Bearer error="invalid_token"/);
    expect(poll.text).toMatch(/expired/);
    expect(poll.text).not.toContain(expired);
    expect(poll.text).not.toContain(created.orderId);

    const elsewhere = await tokens.customer(me, { audience: "another-api" });
    expect((await api.as(elsewhere).get(created.location)).status).toBe(401);
  });
});

describe("a storefront application (Orders.Submit)", () => {
  it("creates for any customer, reads, lists and cancels what it created; another app sees nothing", async () => {
    const store = api.as(tokens.app("storefront-a"));
    const otherApp = api.as(tokens.app("storefront-b"));
    const customer = uniqueCustomer("shopper");
    const created = await createOrder(store, big(customer), "sf-1");
    await waitForStage(store, created.orderId, "AwaitingApproval");
    expect((await store.get(`/orders/${created.orderId}`)).body.createdBy).toEqual({
      kind: "app",
      id: "storefront-a",
    });
    expect((await store.get(`/orders?customerId=${customer}`)).body.items).toHaveLength(1);
    expect((await otherApp.get(`/orders?customerId=${customer}`)).body.items).toEqual([]);
    expect((await otherApp.get(`/orders/${created.orderId}`)).status).toBe(404);
    expect((await otherApp.post(`/orders/${created.orderId}/cancel`)).status).toBe(404);
    // Its key replayed by someone else (the customer themselves): 422, no order data.
    const replay = await api.as(tokens.customer(customer)).post("/orders", big(customer), {
      "idempotency-key": "sf-1",
    });
    expect(replay.status).toBe(422);
    expect(replay.text).not.toContain(created.orderId);
    expect(replay.headers.get("location")).toBeNull();
    // It may not decide orders.
    expect(
      (await store.post(`/orders/${created.orderId}/approval`, { approved: true })).status,
    ).toBe(403);
    expect((await storedOrder(created.orderId)).status).toBe("AwaitingApproval");

    expect((await store.post(`/orders/${created.orderId}/cancel`)).status).toBe(202);
    const outcome = (await pollToOutcome(store, created.location)).body.outcome;
    expect(outcome).toMatchObject({
      status: "Cancelled",
      decidedBy: { id: "storefront-a", name: "storefront-a", at: expect.any(String) },
    });
  });
});

describe("approvers (Orders.Approve)", () => {
  it("decide orders awaiting approval, attributed to the token, not to a forged approver field", async () => {
    const customer = uniqueCustomer("big");
    const created = await createOrder(api, big(customer));
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const ada = api.as(tokens.approver("ada", "Ada Lovelace"));
    // Listed among the orders awaiting approval, readable and pollable.
    const waiting = await ada.get("/orders?status=AwaitingApproval&limit=100");
    expect(waiting.body.items.map((o: any) => o.orderId)).toContain(created.orderId);
    expect((await ada.get(created.location)).status).toBe(202);
    // Not the ledger (that is the customer's and operators').
    expect((await ada.get(`/orders/${created.orderId}/payments`)).status).toBe(403);

    const res = await ada.post(`/orders/${created.orderId}/approval`, {
      approved: true,
      approver: "mallory",
    });
    expect(res.status).toBe(202);
    // She sees it all the way through (recorded as decided by her with the next status).
    for (let seen = ""; seen !== "Completed"; await sleep(50)) {
      const res = await ada.get(`/orders/${created.orderId}`);
      expect(res.status).toBe(200);
      seen = res.body.status;
      if (seen !== "AwaitingApproval") expect(res.body.decidedBy).toMatchObject({ id: "ada" });
    }
    const outcome = (await pollToOutcome(ada, created.location)).body.outcome;
    expect(outcome).toMatchObject({
      status: "Completed",
      approvedBy: "Ada Lovelace",
      decidedBy: { id: "ada", name: "Ada Lovelace", at: expect.any(String) },
    });
    const stored = await storedOrder(created.orderId);
    expect(stored.outcome.decidedBy.id).toBe("ada");
    expect(stored.decidedBy).toEqual(stored.outcome.decidedBy);
    // Decided by Ada: she still sees it; another approver does not (it no longer awaits approval).
    expect((await ada.get(`/orders/${created.orderId}`)).status).toBe(200);
    const bob = api.as(tokens.approver("bob", "Bob"));
    expect((await bob.get(`/orders/${created.orderId}`)).status).toBe(404);
    expect(JSON.stringify((await ada.get("/orders?limit=100")).body)).not.toContain("mallory");
  });

  it("nobody approves an order they placed (403, nothing raised)", async () => {
    // Ada also shops: a delegated token with the customer scope and the approver role.
    const ada = api.as(
      tokens.user("ada-shopper", "Ada", [ROLES.approve], { scopes: ["Orders.ReadWrite"] }),
    );
    const created = await createOrder(ada, big("ada-shopper"));
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const res = await ada.post(`/orders/${created.orderId}/approval`, { approved: true });
    expect(res.status).toBe(403);
    expect(res.headers.get("www-authenticate")).toMatch(/insufficient_scope/);
    await sleep(300);
    expect((await storedOrder(created.orderId)).status).toBe("AwaitingApproval");
    expect((await ada.get(created.location)).body.status).toBe("AwaitingApproval");
    // A customer without the role: 403 naming it.
    const plain = await api
      .as(tokens.customer("ada-shopper"))
      .post(`/orders/${created.orderId}/approval`, { approved: true });
    expect(plain.status).toBe(403);
    expect(plain.text).toMatch(/Orders\.Approve/);
    expect((await api.post(`/orders/${created.orderId}/cancel`)).status).toBe(202);
  });
});

describe("operators (Orders.Operate)", () => {
  it("list and read every order, see every ledger, cancel any order awaiting approval", async () => {
    const olu = api.as(tokens.operator("olu", "Olu"));
    const a = uniqueCustomer("a");
    const b = uniqueCustomer("b");
    const done = await createOrder(api.as(tokens.customer(a)), orderRequest({ customerId: a }));
    await pollToOutcome(api, done.location);
    const waiting = await createOrder(api.as(tokens.customer(b)), big(b));
    await waitForStage(api, waiting.orderId, "AwaitingApproval");

    const all = (await olu.get("/orders?limit=100")).body.items.map((o: any) => o.orderId);
    expect(all).toEqual(expect.arrayContaining([done.orderId, waiting.orderId]));
    expect((await olu.get(`/orders?customerId=${a}`)).body.items).toHaveLength(1);
    expect((await olu.get(`/orders/${done.orderId}/payments`)).body.items.length).toBeGreaterThan(
      0,
    );
    expect((await olu.get(`/orders/${done.orderId}/notifications`)).status).toBe(200);
    // Operators do not decide.
    expect((await olu.post(`/orders/${waiting.orderId}/approval`, { approved: true })).status).toBe(
      403,
    );
    expect((await olu.post(`/orders/${waiting.orderId}/cancel`)).status).toBe(202);
    expect((await pollToOutcome(olu, waiting.location)).body.outcome).toMatchObject({
      status: "Cancelled",
      decidedBy: { id: "olu", name: "Olu" },
    });
    expect((await storedOrder(waiting.orderId)).outcome.decidedBy).toMatchObject({ id: "olu" });
  });
});

describe("npm run token and the issuer across restarts", () => {
  const token = (...args: string[]) => {
    const out = execFileSync(
      process.execPath,
      [path.join(PROJECT_ROOT, "dist", "local-host", "src", "token-cli.js"), ...args],
      { cwd: PROJECT_ROOT, env: { ...process.env, DATA_DIR: host.dataDir }, encoding: "utf8" },
    );
    return out.trimEnd().split("\n").at(-1)!;
  };

  it("prints a token alone on the last line; the key and iss survive a restart of the DATA_DIR", async () => {
    const me = uniqueCustomer("cli");
    const cli = token("--customer", me);
    expect(cli).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const created = await createOrder(api.as(cli), orderRequest({ customerId: me }));
    const expired = token("--customer", me, "--expires-in", "-60");
    expect((await api.as(expired).get(created.location)).status).toBe(401);
    const app = token("--app", "cli-app", "--roles", ROLES.submit);
    expect((await api.as(app).post("/orders", orderRequest())).status).toBe(202);
    const op = token(
      "--user",
      "op-1",
      "--name",
      "Op One",
      "--roles",
      `${ROLES.approve},${ROLES.operate}`,
    );
    expect((await api.as(op).get(`/orders/${created.orderId}`)).status).toBe(200);

    const issuerBefore = (host.endpoints as any).issuer;
    earlierLogs.push(host.logs());
    await host.stop();
    host = await startHost({
      appDir: PROJECT_ROOT,
      dataDir: host.dataDir,
      env: { APPROVAL_THRESHOLD_MINOR: String(THRESHOLD) },
    });
    api = Api.forHost(host, api.responses);
    expect((host.endpoints as any).issuer).toEqual(issuerBefore);
    // Minted before the restart, still good.
    expect((await api.as(cli).get(`/orders/${created.orderId}`)).status).toBe(200);
  }, 120000);
});
