import { HttpRequest, HttpResponse, InvocationContext } from "@azure/functions";
import { dependencyUnavailable } from "../../src/adapters/errors";
import { isJsonContentType, MAX_BODY_BYTES, readJsonBody } from "../../src/http/body";
import { guard } from "../../src/http/guard";
import { problem, problems, PROBLEM_CONTENT_TYPE } from "../../src/http/problem";
import { accepted, statusUrl } from "../../src/http/responses";

function request(body: string | Uint8Array | undefined, headers: Record<string, string> = {}) {
  return new HttpRequest({
    method: "POST",
    url: "http://localhost:7071/api/orders",
    headers,
    body:
      body === undefined
        ? undefined
        : typeof body === "string"
          ? { string: body }
          : { bytes: body },
  });
}

interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  errors?: unknown[];
}

async function problemOf(init: ReturnType<typeof problem>) {
  const res = new HttpResponse(init);
  const body = (await res.json()) as ProblemBody;
  return { status: res.status, type: res.headers.get("content-type"), body };
}

describe("problem+json", () => {
  it("has the RFC 9457 members and media type", async () => {
    const res = await problemOf(
      problems.invalid([{ pointer: "/items/0/quantity", detail: "must be between 1 and 10000" }]),
    );
    expect(res).toEqual({
      status: 400,
      type: PROBLEM_CONTENT_TYPE,
      body: {
        type: "urn:orders:problem:invalid-request",
        title: "The request is invalid",
        status: 400,
        detail: expect.any(String),
        errors: [{ pointer: "/items/0/quantity", detail: "must be between 1 and 10000" }],
      },
    });
  });

  it("omits an empty errors list and keeps status in body and response equal", async () => {
    for (const init of [
      problems.notFound("Order x does not exist"),
      problems.conflict("no"),
      problems.internal(),
    ]) {
      const res = await problemOf(init);
      expect(res.body.status).toBe(res.status);
      expect(res.body).not.toHaveProperty("errors");
      expect(res.type).toBe(PROBLEM_CONTENT_TYPE);
    }
  });

  it("names the header for an idempotency conflict and sets Retry-After on 503", async () => {
    const reused = await problemOf(problems.idempotencyKeyReused());
    expect(reused.status).toBe(422);
    expect(reused.body.errors).toEqual([{ header: "Idempotency-Key", detail: expect.any(String) }]);
    const unavailable = new HttpResponse(problems.unavailable(7));
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get("retry-after")).toBe("7");
  });
});

describe("guard: dependency down vs bug", () => {
  const context = new InvocationContext({ functionName: "test" });
  const failWith = (err: unknown) =>
    guard(context, { route: "test" }, () => Promise.reject(err)).then((r) => new HttpResponse(r));
  const refused = () =>
    Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:8081"), {
      code: "ECONNREFUSED",
    });

  it.each<[string, unknown, number | undefined]>([
    ["a refused socket", refused(), 5],
    [
      "a socket error wrapped as cause (fetch)",
      new TypeError("fetch failed", { cause: refused() }),
      5,
    ],
    ["inside an AggregateError", new AggregateError([new Error("x"), refused()]), 5],
    [
      "Cosmos 429 with its own wait",
      Object.assign(new Error("throttled"), { code: 429, retryAfterInMs: 2100 }),
      3,
    ],
    ["Cosmos 503", Object.assign(new Error("unavailable"), { code: 503 }), 5],
    ["an HTTP 504 status", Object.assign(new Error("gateway timeout"), { statusCode: 504 }), 5],
    [
      "a retryable ServiceBusError",
      Object.assign(new Error("busy"), { name: "ServiceBusError", retryable: true }),
      5,
    ],
    [
      "a non-retryable ServiceBusError",
      Object.assign(new Error("no"), { name: "ServiceBusError", retryable: false }),
      undefined,
    ],
    [
      "the task hub's 503 through the durable client",
      new Error(
        'The operation failed with an unexpected status code: 503. Details: {"Message":"busy"}',
      ),
      5,
    ],
    [
      "the task hub's 400 through the durable client",
      new Error("The operation failed with an unexpected status code: 400. Details: {}"),
      undefined,
    ],
    ["Cosmos 409", Object.assign(new Error("conflict"), { code: 409 }), undefined],
    ["a TypeError bug", new TypeError("x is undefined"), undefined],
    ["a thrown string", "boom", undefined],
  ])("%s", async (_name, err, retryAfter) => {
    expect(dependencyUnavailable(err)?.retryAfterSeconds).toBe(retryAfter);
    const res = await failWith(err);
    const body = (await res.json()) as ProblemBody;
    expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
    if (retryAfter === undefined) {
      expect(res.status).toBe(500);
      expect(body.type).toBe("urn:orders:problem:internal");
      expect(res.headers.get("retry-after")).toBeNull();
    } else {
      expect(res.status).toBe(503);
      expect(body.type).toBe("urn:orders:problem:unavailable");
      expect(res.headers.get("retry-after")).toBe(String(retryAfter));
    }
    // Neither leaks the error itself.
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|undefined|boom|throttled/);
  });

  it("caps a store's suggested wait at a minute", () => {
    const err = Object.assign(new Error("throttled"), { code: 429, retryAfterInMs: 600000 });
    expect(dependencyUnavailable(err)).toEqual({ retryAfterSeconds: 60 });
  });

  it("survives a cause cycle", () => {
    const a = new Error("a") as Error & { cause?: unknown };
    a.cause = new Error("b", { cause: a });
    expect(dependencyUnavailable(a)).toBeUndefined();
  });
});

describe("readJsonBody", () => {
  it.each<[string | null, boolean]>([
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ['Application/JSON;charset="UTF-8"', true],
    ["application/merge-patch+json", true],
    ["application/json; charset=latin1", false],
    ["text/plain", false],
    ["application/x-www-form-urlencoded", false],
    ["application/jsonp", false],
    [null, false],
  ])("content type %j → JSON=%s", (type, ok) => {
    expect(isJsonContentType(type)).toBe(ok);
  });

  it("parses a JSON body", async () => {
    const result = await readJsonBody(
      request('{"a":[1,2]}', { "content-type": "application/json" }),
    );
    expect(result).toEqual({ ok: true, value: { a: [1, 2] } });
  });

  it("answers 415 for a non-JSON content type, and for none", async () => {
    for (const headers of [{ "content-type": "text/plain" }, {}] as Record<string, string>[]) {
      const result = await readJsonBody(request('{"a":1}', headers));
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      const res = await problemOf(result.response);
      expect(res.status).toBe(415);
      expect(res.body.type).toBe("urn:orders:problem:unsupported-media-type");
    }
  });

  it.each([
    ["truncated", '{"a":'],
    ["trailing garbage", '{"a":1} x'],
    ["single quotes", "{'a':1}"],
    ["empty", ""],
  ])('answers 400 with pointer "" for malformed JSON (%s)', async (_name, body) => {
    const result = await readJsonBody(request(body, { "content-type": "application/json" }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const res = await problemOf(result.response);
    expect(res.status).toBe(400);
    expect(res.body.errors).toEqual([{ pointer: "", detail: res.body.detail }]);
  });

  it("does not quote the malformed input (it may hold a card number)", async () => {
    const body = '{"payment":{"cardNumber": 4242424242424242x}}';
    const result = await readJsonBody(request(body, { "content-type": "application/json" }));
    expect(JSON.stringify(result)).not.toContain("4242");
  });

  it("rejects invalid UTF-8", async () => {
    const bytes = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    const result = await readJsonBody(request(bytes, { "content-type": "application/json" }));
    expect(result.ok).toBe(false);
    if (!result.ok) expect((await problemOf(result.response)).body.detail).toMatch(/UTF-8/);
  });

  it("answers 413 when Content-Length is over the limit, without reading", async () => {
    const result = await readJsonBody(
      request("{}", {
        "content-type": "application/json",
        "content-length": String(MAX_BODY_BYTES + 1),
      }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.response.status).toBe(413);
  });

  it("answers 413 when the actual body is over the limit whatever Content-Length says", async () => {
    const big = JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES) });
    const result = await readJsonBody(
      request(big, { "content-type": "application/json", "content-length": "10" }),
    );
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.response.status).toBe(413);
  });

  it("accepts a body of exactly the limit", async () => {
    const body = JSON.stringify({ pad: "x".repeat(MAX_BODY_BYTES - 10) });
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
    const result = await readJsonBody(request(body, { "content-type": "application/json" }));
    expect(result.ok).toBe(true);
  });

  it("returns the empty value for an optional empty body", async () => {
    const result = await readJsonBody(request(undefined), { optional: true, emptyValue: {} });
    expect(result).toEqual({ ok: true, value: {} });
    const typed = await readJsonBody(request("", { "content-type": "application/json" }), {
      optional: true,
      emptyValue: {},
    });
    expect(typed).toEqual({ ok: true, value: {} });
  });
});

describe("accepted", () => {
  it("points Location, Retry-After and statusQueryGetUri at our status endpoint", async () => {
    const req = new HttpRequest({
      method: "POST",
      url: "https://orders.example.net/api/orders?code=secret",
    });
    const res = new HttpResponse(accepted(req, "abc", { orderId: "abc", status: "Received" }));
    expect(res.status).toBe(202);
    expect(res.headers.get("location")).toBe("https://orders.example.net/api/orders/abc/status");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(await res.json()).toEqual({
      orderId: "abc",
      status: "Received",
      statusQueryGetUri: "https://orders.example.net/api/orders/abc/status",
    });
    expect(statusUrl(req, "a/b")).toBe("https://orders.example.net/api/orders/a%2Fb/status");
  });
});
