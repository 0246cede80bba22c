/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Bad input over real HTTP: each request gets application/problem+json naming what is wrong, and
// nothing is written (the customer it names has no order, in the API and in Cosmos itself).
import fs from "node:fs";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  CARDS,
  cosmosContainer,
  createOrder,
  ensureFreshBuild,
  orderRequest,
  uniqueCustomer,
  type Res,
} from "./support/e2e";

const LUHN_INVALID = "4242424242424241";
let host: StartedHost;
let api: Api;
/** Every customer a rejected request named: none of them may own an order at the end. */
const rejectedCustomers: string[] = [];

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT });
  api = Api.forHost(host);
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

function expectProblem(res: Res, status: number): void {
  expect({ status: res.status, text: res.text }).toMatchObject({ status });
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: expect.stringMatching(/^urn:orders:problem:/),
    title: expect.any(String),
    status,
    detail: expect.any(String),
  });
}

const pointers = (res: Res) => (res.body.errors ?? []).map((e: any) => e.pointer);

async function expectNoOrderFor(customerId: string): Promise<void> {
  const listed = await api.get(`/orders?customerId=${encodeURIComponent(customerId)}`);
  expect(listed.status).toBe(200);
  expect(listed.body.items).toEqual([]);
}

/** POSTs a raw body for a fresh customer; returns the response after checking nothing was written. */
async function postRaw(
  label: string,
  build: (customerId: string) => { body: string | Buffer; contentType?: string },
): Promise<Res> {
  const customerId = uniqueCustomer(label);
  rejectedCustomers.push(customerId);
  const { body, contentType } = build(customerId);
  const headers: Record<string, string> = {};
  if (contentType) headers["content-type"] = contentType;
  const res = await api.request("POST", "/orders", { body, headers });
  await expectNoOrderFor(customerId);
  return res;
}

/** POSTs `mutate(valid order)` as JSON for a fresh customer. */
async function postOrder(label: string, mutate: (o: any) => void): Promise<Res> {
  return postRaw(label, (customerId) => {
    const order = orderRequest({ customerId });
    mutate(order);
    return { body: JSON.stringify(order), contentType: "application/json" };
  });
}

describe("bad input → problem+json and nothing written", () => {
  it("malformed JSON → 400 with pointer '' (the body)", async () => {
    const res = await postRaw("malformed", (c) => ({
      body: `{"customerId":"${c}","payment":{"cardNumber":"${CARDS.approve}"},"items":[`,
      contentType: "application/json",
    }));
    expectProblem(res, 400);
    expect(pointers(res)).toEqual([""]);
    expect(res.text).not.toContain(CARDS.approve);
  });

  it("an empty body and a JSON array are 400 too", async () => {
    const empty = await postRaw("empty", () => ({ body: "", contentType: "application/json" }));
    expectProblem(empty, 400);
    const array = await postRaw("array", (c) => ({
      body: JSON.stringify([orderRequest({ customerId: c })]),
      contentType: "application/json",
    }));
    expectProblem(array, 400);
    expect(pointers(array)).toEqual([""]);
  });

  it("a key twice in one object → 400 naming it (the server must not pick one of two readings)", async () => {
    const res = await postRaw("duplicate-key", (c) => {
      const json = JSON.stringify(orderRequest({ customerId: c }));
      // A second "city" in the address: JSON.parse would keep the last one silently.
      return {
        body: json.replace('"city":', '"city":"Elsewhere","city":'),
        contentType: "application/json",
      };
    });
    expectProblem(res, 400);
    expect(pointers(res)).toEqual(["/shippingAddress/city"]);
  });

  it("control characters and lone surrogates in text fields → 400 naming each field", async () => {
    const res = await postOrder("control-chars", (o) => {
      o.items[0].name = "Widget\u0000";
      o.shippingAddress.line1 = "1 Main St\u001b[2J";
      o.shippingAddress.city = "Seattle\ud800";
    });
    expectProblem(res, 400);
    expect(pointers(res).sort()).toEqual([
      "/items/0/name",
      "/shippingAddress/city",
      "/shippingAddress/line1",
    ]);
  });

  it("wrong types → 400 naming each field", async () => {
    const res = await postOrder("types", (o) => {
      o.items[0].quantity = "2";
      o.items[0].unitPrice = 19.99;
      o.currency = 840;
    });
    expectProblem(res, 400);
    expect(pointers(res).sort()).toEqual(["/currency", "/items/0/quantity", "/items/0/unitPrice"]);
  });

  it("negative and zero quantities → 400 at /items/n/quantity", async () => {
    const res = await postOrder("negative", (o) => {
      o.items = [
        { ...o.items[0], quantity: -1 },
        { ...o.items[0], sku: "SKU-2", quantity: 0 },
      ];
    });
    expectProblem(res, 400);
    expect(pointers(res).sort()).toEqual(["/items/0/quantity", "/items/1/quantity"]);
  });

  it("empty items → 400 at /items", async () => {
    const res = await postOrder("empty-items", (o) => (o.items = []));
    expectProblem(res, 400);
    expect(pointers(res)).toEqual(["/items"]);
  });

  it("more than 100 items → 400 at /items", async () => {
    const res = await postOrder("too-many", (o) => {
      o.items = Array.from({ length: 101 }, (_, i) => ({ ...o.items[0], sku: `SKU-${i}` }));
    });
    expectProblem(res, 400);
    expect(pointers(res)).toEqual(["/items"]);
  });

  it("missing and unknown fields → 400 ('is required', 'is not allowed')", async () => {
    const res = await postOrder("fields", (o) => {
      delete o.shippingAddress;
      o.total = 1;
    });
    expectProblem(res, 400);
    const byPointer = Object.fromEntries(res.body.errors.map((e: any) => [e.pointer, e.detail]));
    expect(byPointer).toEqual({ "/shippingAddress": "is required", "/total": "is not allowed" });
  });

  it("a card number failing the Luhn check → 400 at /payment/cardNumber, not echoed", async () => {
    const bad = LUHN_INVALID;
    const res = await postOrder("luhn", (o) => (o.payment.cardNumber = bad));
    expectProblem(res, 400);
    expect(pointers(res)).toEqual(["/payment/cardNumber"]);
    expect(res.text).not.toContain(bad);
  });

  it("an oversized body (Content-Length over 64 KiB) → 413", async () => {
    const res = await postOrder("oversized", (o) => (o.items[0].name = "x".repeat(70 * 1024)));
    expectProblem(res, 413);
  });

  it("an oversized chunked body (no Content-Length) → 413", async () => {
    const customerId = uniqueCustomer("chunked");
    rejectedCustomers.push(customerId);
    const order = orderRequest({ customerId });
    order.items[0].name = "y".repeat(70 * 1024);
    const bytes = Buffer.from(JSON.stringify(order));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192)
          controller.enqueue(bytes.subarray(i, i + 8192));
        controller.close();
      },
    });
    const res = await fetch(`${host.baseUrl}/api/orders`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(await api.authorization()) },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    await res.text();
    await expectNoOrderFor(customerId);
  });

  it("a wrong or missing content type → 415 with Accept-Post", async () => {
    for (const contentType of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
      const res = await postRaw("content-type", (c) => ({
        body: JSON.stringify(orderRequest({ customerId: c })),
        contentType,
      }));
      expectProblem(res, 415);
      expect(res.body.detail).toMatch(/Content-Type/);
      expect(res.headers.get("accept-post")).toBe("application/json");
    }
  });

  it("a bad Idempotency-Key → 400 naming the header; the key is not burned by a bad body", async () => {
    const customerId = uniqueCustomer("key");
    rejectedCustomers.push(customerId);
    const badKey = await api.post("/orders", orderRequest({ customerId }), {
      "idempotency-key": "has spaces in it",
    });
    expectProblem(badKey, 400);
    expect(badKey.body.errors.map((e: any) => e.header?.toLowerCase())).toEqual([
      "idempotency-key",
    ]);
    await expectNoOrderFor(customerId);

    // An invalid body under a key writes nothing, so the same key still works for a valid one.
    const key = `k-${customerId}`;
    const invalid = orderRequest({ customerId });
    invalid.items = [];
    expectProblem(await api.post("/orders", invalid, { "idempotency-key": key }), 400);
    await expectNoOrderFor(customerId);
    const valid = orderRequest({ customerId, cardNumber: CARDS.mastercard });
    const created = await createOrder(api, valid, key);
    const listed = await api.get(`/orders?customerId=${encodeURIComponent(customerId)}`);
    expect(listed.body.items.map((o: any) => o.orderId)).toEqual([created.orderId]);
    rejectedCustomers.pop();
  });

  it("bad list parameters → 400 naming the parameter", async () => {
    const res = await api.get("/orders?limit=0");
    expectProblem(res, 400);
    expect(res.body.errors.map((e: any) => e.parameter)).toEqual(["limit"]);
  });

  it("Cosmos itself holds no order for any rejected request's customer", async () => {
    expect(rejectedCustomers.length).toBeGreaterThanOrEqual(12);
    const { resources } = await cosmosContainer(host.endpoints, "orders")
      .items.query({
        query: "SELECT c.id, c.customerId FROM c WHERE ARRAY_CONTAINS(@customers, c.customerId)",
        parameters: [{ name: "@customers", value: rejectedCustomers }],
      })
      .fetchAll();
    expect(resources).toEqual([]);
    // The query does find orders when they exist: the one valid order of this file.
    const { resources: all } = await cosmosContainer(host.endpoints, "orders")
      .items.query("SELECT c.id FROM c")
      .fetchAll();
    expect(all).toHaveLength(1);
  });
});

describe("artefacts", () => {
  it("no full card number in DATA_DIR, the logs or any response; no management URL or key", () => {
    const report = searchArtefacts(host, api, [LUHN_INVALID]);
    expect(report.corpus).toContain('"last4":"4444"');
    expect(report.hits).toEqual([]);
    expect(report.leaks).toEqual([]);
  });
});
