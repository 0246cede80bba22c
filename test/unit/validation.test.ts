import {
  luhnValid,
  toPointer,
  validateApproval,
  validateCancel,
  validateIdempotencyKey,
  validateInboundOrder,
  validateListQuery,
  validateOrderRequest,
} from "../../src/domain/validation";
import { validOrderRequest } from "../fakes/sampleOrder";

const PAN = "4242424242424242";

const validOrder = validOrderRequest;

/** Applies `edit` to a fresh valid order (mutating a deep copy; edits make it ill-typed on purpose). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function order(edit: (o: any) => void): unknown {
  const o = structuredClone(validOrder());
  edit(o);
  return o;
}

describe("validateOrderRequest", () => {
  it("accepts the documented example and returns a normalised request", () => {
    const result = validateOrderRequest(validOrder());
    expect(result).toEqual({ ok: true, value: validOrder() });
  });

  it.each<[string, unknown]>([
    ["0 unit price (free item)", order((o) => (o.items[0].unitPrice = 0))],
    ["max quantity", order((o) => (o.items[0].quantity = 10_000))],
    ["100 items", order((o) => (o.items = Array.from({ length: 100 }, () => o.items[0])))],
    [
      "optional address fields",
      order((o) => Object.assign(o.shippingAddress, { line2: "Apt 2", region: "WA" })),
    ],
    ["JPY currency", order((o) => (o.currency = "JPY"))],
    ["card with spaces", order((o) => (o.payment.cardNumber = "4242 4242 4242 4242"))],
    ["19-digit card", order((o) => (o.payment.cardNumber = "6011000000000000001"))],
    ["max safe unit price", order((o) => (o.items[0].unitPrice = Number.MAX_SAFE_INTEGER))],
  ])("accepts %s", (_name, body) => {
    const result = validateOrderRequest(body);
    expect(result.ok).toBe(true);
  });

  it("strips card separators and trims text", () => {
    const result = validateOrderRequest(
      order((o) => {
        o.payment.cardNumber = "4242-4242-4242-4242";
        o.customerId = "  c-1 ";
      }),
    );
    expect(result.ok && result.value.payment.cardNumber).toBe(PAN);
    expect(result.ok && result.value.customerId).toBe("c-1");
  });

  it.each<[string, unknown, string, RegExp]>([
    ["not an object", [], "", /JSON object/],
    ["null body", null, "", /JSON object/],
    ["missing customerId", order((o) => delete o.customerId), "/customerId", /is required/],
    ["empty customerId", order((o) => (o.customerId = "  ")), "/customerId", /must not be empty/],
    ["numeric customerId", order((o) => (o.customerId = 7)), "/customerId", /must be a string/],
    [
      "long customerId",
      order((o) => (o.customerId = "x".repeat(129))),
      "/customerId",
      /at most 128/,
    ],
    ["lower-case currency", order((o) => (o.currency = "usd")), "/currency", /ISO 4217/],
    ["unknown currency", order((o) => (o.currency = "XYZ")), "/currency", /ISO 4217/],
    ["items not an array", order((o) => (o.items = {})), "/items", /array of items/],
    ["empty items", order((o) => (o.items = [])), "/items", /at least one item/],
    [
      "101 items",
      order((o) => (o.items = Array.from({ length: 101 }, () => o.items[0]))),
      "/items",
      /at most 100/,
    ],
    [
      "negative quantity",
      order((o) => (o.items[0].quantity = -1)),
      "/items/0/quantity",
      /between 1 and 10000/,
    ],
    [
      "zero quantity",
      order((o) => (o.items[0].quantity = 0)),
      "/items/0/quantity",
      /between 1 and 10000/,
    ],
    [
      "fractional quantity",
      order((o) => (o.items[0].quantity = 1.5)),
      "/items/0/quantity",
      /whole number/,
    ],
    [
      "quantity over limit",
      order((o) => (o.items[0].quantity = 10_001)),
      "/items/0/quantity",
      /between/,
    ],
    [
      "string quantity",
      order((o) => (o.items[0].quantity = "2")),
      "/items/0/quantity",
      /whole number/,
    ],
    [
      "negative price",
      order((o) => (o.items[0].unitPrice = -5)),
      "/items/0/unitPrice",
      /between 0/,
    ],
    [
      "decimal price",
      order((o) => (o.items[0].unitPrice = 19.99)),
      "/items/0/unitPrice",
      /minor currency units/,
    ],
    [
      "unsafe price",
      order((o) => (o.items[0].unitPrice = 2 ** 53)),
      "/items/0/unitPrice",
      /minor currency units/,
    ],
    ["missing sku", order((o) => delete o.items[0].sku), "/items/0/sku", /is required/],
    ["long sku", order((o) => (o.items[0].sku = "S".repeat(65))), "/items/0/sku", /at most 64/],
    ["missing address", order((o) => delete o.shippingAddress), "/shippingAddress", /is required/],
    [
      "address a string",
      order((o) => (o.shippingAddress = "1 Main St")),
      "/shippingAddress",
      /must be an object/,
    ],
    [
      "lower-case country",
      order((o) => (o.shippingAddress.country = "us")),
      "/shippingAddress/country",
      /ISO 3166-1/,
    ],
    [
      "non-country region",
      order((o) => (o.shippingAddress.country = "EU")),
      "/shippingAddress/country",
      /ISO 3166-1/,
    ],
    ["missing payment", order((o) => delete o.payment), "/payment", /is required/],
    [
      "short card",
      order((o) => (o.payment.cardNumber = "42424242424")),
      "/payment/cardNumber",
      /12 to 19 digits/,
    ],
    [
      "letters in card",
      order((o) => (o.payment.cardNumber = "4242abcd42424242")),
      "/payment/cardNumber",
      /12 to 19 digits/,
    ],
    [
      "card failing Luhn",
      order((o) => (o.payment.cardNumber = "4242424242424241")),
      "/payment/cardNumber",
      /checksum/,
    ],
    [
      "card as a number",
      order((o) => (o.payment.cardNumber = 4242424242424242)),
      "/payment/cardNumber",
      /string of digits/,
    ],
    ["unknown top-level field", order((o) => (o.total = 1)), "/total", /is not allowed/],
    [
      "unknown item field",
      order((o) => (o.items[0].price = 1)),
      "/items/0/price",
      /is not allowed/,
    ],
    [
      "misspelt address field",
      order((o) => (o.shippingAddress.line_2 = "x")),
      "/shippingAddress/line_2",
      /is not allowed/,
    ],
    [
      "extra payment field",
      order((o) => (o.payment.cvv = "123")),
      "/payment/cvv",
      /is not allowed/,
    ],
    [
      "orderId on the HTTP API",
      order((o) => (o.orderId = "0f8fad5b-d9cb-469f-a165-70867728950e")),
      "/orderId",
      /is not allowed/,
    ],
  ])("rejects %s at %s", (_name, body, pointer, detail) => {
    const result = validateOrderRequest(body);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const hit = result.errors.find((e) => e.pointer === pointer);
    expect(hit).toBeDefined();
    expect(hit!.detail).toMatch(detail);
  });

  it("reports every field at fault, not just the first", () => {
    const result = validateOrderRequest(
      order((o) => {
        o.items[0].quantity = -1;
        o.currency = "dollars";
        delete o.shippingAddress.city;
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.map((e) => e.pointer).sort()).toEqual([
      "/currency",
      "/items/0/quantity",
      "/shippingAddress/city",
    ]);
  });

  it("never echoes a card number in an error", () => {
    const bad = [
      order((o) => (o.payment.cardNumber = "4242424242424241")),
      order((o) => (o.payment.cardNumber = 4242424242424242)),
      order((o) => (o.customerId = PAN + PAN + "x".repeat(200))),
      order((o) => (o.currency = PAN)),
      order((o) => (o.shippingAddress.country = PAN)),
    ];
    for (const body of bad) {
      const result = validateOrderRequest(body);
      expect(result.ok).toBe(false);
      expect(JSON.stringify(result)).not.toContain("424242424242");
    }
  });
});

describe("validateInboundOrder", () => {
  it("accepts an optional orderId (UUID, lower-cased)", () => {
    const result = validateInboundOrder(
      order((o) => (o.orderId = "0F8FAD5B-D9CB-469F-A165-70867728950E")),
    );
    expect(result.ok && result.value.orderId).toBe("0f8fad5b-d9cb-469f-a165-70867728950e");
    expect(result.ok && result.value.request).toEqual(validOrder());
  });

  it("accepts a message without an orderId", () => {
    const result = validateInboundOrder(validOrder());
    expect(result).toEqual({ ok: true, value: { request: validOrder() } });
  });

  it("rejects an orderId that is not a UUID", () => {
    const result = validateInboundOrder(order((o) => (o.orderId = "order-1")));
    expect(result).toEqual({
      ok: false,
      errors: [{ pointer: "/orderId", detail: "must be a UUID" }],
    });
  });
});

describe("validateApproval / validateCancel", () => {
  it.each<[unknown, boolean]>([
    [{ approved: true, approver: "alice" }, true],
    [{ approved: false, approver: "alice", reason: "too big" }, true],
    [{ approved: "yes", approver: "alice" }, false],
    [{ approver: "alice" }, false],
    // approver is optional, deprecated and ignored (the decider comes from the token)
    [{ approved: true }, true],
    [{ approved: true, approver: "" }, true],
    [{ approved: true, approver: 7 }, false],
    [{ approved: true, approver: "a", reason: "r".repeat(1001) }, false],
    [{ approved: true, approver: "a", extra: 1 }, false],
    ["approve", false],
  ])("approval %j → ok=%s", (body, ok) => {
    expect(validateApproval(body).ok).toBe(ok);
  });

  it("names the approval fields at fault", () => {
    expect(validateApproval({ approved: "yes" })).toEqual({
      ok: false,
      errors: [{ pointer: "/approved", detail: "must be true or false" }],
    });
  });

  it("drops the deprecated approver from the decision", () => {
    expect(validateApproval({ approved: true, approver: "mallory", reason: "ok" })).toEqual({
      ok: true,
      value: { approved: true, reason: "ok" },
    });
  });

  it.each<[unknown, boolean]>([
    [{}, true],
    [{ reason: "changed my mind" }, true],
    [{ reason: 5 }, false],
    [{ why: "x" }, false],
  ])("cancel %j → ok=%s", (body, ok) => {
    expect(validateCancel(body).ok).toBe(ok);
  });
});

describe("small validators", () => {
  it.each([
    ["4242424242424242", true],
    ["4000000000000002", true],
    ["4000000000009995", true],
    ["4000000000000119", true],
    ["4000000000000259", true],
    ["4242424242424241", false],
    ["79927398713", true],
    ["79927398710", false],
  ])("luhn(%s) = %s", (digits, valid) => {
    expect(luhnValid(digits)).toBe(valid);
  });

  it.each<[string, boolean]>([
    ["k-1", true],
    ["x".repeat(255), true],
    ["", false],
    ["x".repeat(256), false],
    ["has space", false],
    ["ünïcode", false],
  ])("idempotency key case %#", (key, valid) => {
    expect(validateIdempotencyKey(key) === undefined).toBe(valid);
  });

  it("escapes JSON pointer tokens (RFC 6901)", () => {
    expect(toPointer(["a/b", "c~d", 0])).toBe("/a~1b/c~0d/0");
    expect(toPointer([])).toBe("");
  });

  it.each<[Record<string, string>, unknown]>([
    [{}, { ok: true, value: { limit: 25 } }],
    [
      { customerId: "c-1", status: "Completed", limit: "10", continuationToken: "abc" },
      {
        ok: true,
        value: { customerId: "c-1", status: "Completed", limit: 10, continuationToken: "abc" },
      },
    ],
    [
      { limit: "0" },
      { ok: false, errors: [{ parameter: "limit", detail: expect.stringMatching(/1 to 100/) }] },
    ],
    [{ limit: "101" }, { ok: false, errors: [{ parameter: "limit", detail: expect.any(String) }] }],
    [{ limit: "1e1" }, { ok: false, errors: [{ parameter: "limit", detail: expect.any(String) }] }],
    [
      { status: "Done" },
      { ok: false, errors: [{ parameter: "status", detail: expect.stringMatching(/Completed/) }] },
    ],
    [
      { customerId: "" },
      { ok: false, errors: [{ parameter: "customerId", detail: expect.any(String) }] },
    ],
    [
      { from: "2026-12-01T10:00:00+01:00", to: "2026-12-01T10:00:00Z" },
      {
        ok: true,
        value: { from: "2026-12-01T09:00:00.000Z", to: "2026-12-01T10:00:00.000Z", limit: 25 },
      },
    ],
    [
      { from: "yesterday" },
      { ok: false, errors: [{ parameter: "from", detail: expect.stringMatching(/ISO 8601/) }] },
    ],
    [
      { to: "2026-13-01T00:00:00Z" },
      { ok: false, errors: [{ parameter: "to", detail: expect.stringMatching(/ISO 8601/) }] },
    ],
    [
      { from: "2026-12-01T10:00:00Z", to: "2026-12-01T10:00:00Z" },
      { ok: false, errors: [{ parameter: "from", detail: "must be before to" }] },
    ],
  ])("list query %j", (params, expected) => {
    expect(validateListQuery(new URLSearchParams(params))).toEqual(expected);
  });
});
