// Text fields refuse control characters and lone surrogates; a JSON body may not repeat a key in
// one object. Each case names the field (a JSON pointer) in the 400, and nothing is echoed.
/* eslint-disable @typescript-eslint/no-explicit-any -- test bodies are edited as plain JSON */
import { HttpRequest, HttpResponse } from "@azure/functions";
import { readJsonBody } from "../../src/http/body";
import { firstDuplicateKey } from "../../src/http/duplicateKeys";
import {
  validateApproval,
  validateCancel,
  validateOrderRequest,
} from "../../src/domain/validation";
import { validOrderRequest } from "../fakes/sampleOrder";

const validOrder = validOrderRequest;

const TEXT_FIELDS: [string, (o: any, v: string) => void][] = [
  ["/customerId", (o, v) => (o.customerId = v)],
  ["/items/0/sku", (o, v) => (o.items[0].sku = v)],
  ["/items/0/name", (o, v) => (o.items[0].name = v)],
  ["/shippingAddress/line1", (o, v) => (o.shippingAddress.line1 = v)],
  ["/shippingAddress/line2", (o, v) => (o.shippingAddress.line2 = v)],
  ["/shippingAddress/city", (o, v) => (o.shippingAddress.city = v)],
  ["/shippingAddress/region", (o, v) => (o.shippingAddress.region = v)],
  ["/shippingAddress/postalCode", (o, v) => (o.shippingAddress.postalCode = v)],
];

const BAD: [string, string, RegExp][] = [
  ["NUL", "Wid\u0000get", /control characters/],
  ["newline", "Wid\nget", /control characters/],
  ["escape", "\u001b[31mred", /control characters/],
  ["DEL", "Wid\u007fget", /control characters/],
  ["C1 control", "Wid\u0085get", /control characters/],
  ["lone high surrogate", "Wid\ud83dget", /unpaired UTF-16 surrogates/],
  ["lone low surrogate", "Wid\ude00get", /unpaired UTF-16 surrogates/],
];

describe("text fields", () => {
  describe.each(TEXT_FIELDS)("%s", (pointer, set) => {
    it.each(BAD)("refuses a %s, naming the field", (_kind, value, message) => {
      const body = structuredClone(validOrder());
      set(body, value);
      const result = validateOrderRequest(body);
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.errors).toEqual([{ pointer, detail: expect.stringMatching(message) }]);
      expect(JSON.stringify(result.errors)).not.toContain(value);
    });
  });

  it("keeps letters, marks, emoji (paired surrogates) and inner spaces", () => {
    const body = structuredClone(validOrder()) as any;
    body.items[0].name = "Café crème 😀 ß";
    body.shippingAddress.line1 = "Straße 5 / Hinterhaus";
    const result = validateOrderRequest(body);
    expect(result.ok).toBe(true);
    if (result.ok) expect(result.value.items[0].name).toBe("Café crème 😀 ß");
  });

  it("reasons on approvals and cancellations are checked the same way", () => {
    const approval = validateApproval({ approved: false, reason: "no\u0000" });
    expect(approval).toMatchObject({ ok: false, errors: [{ pointer: "/reason" }] });
    const cancel = validateCancel({ reason: "x\ud800" });
    expect(cancel).toMatchObject({ ok: false, errors: [{ pointer: "/reason" }] });
    expect(validateCancel({ reason: "changed my mind" }).ok).toBe(true);
  });
});

describe("duplicate JSON keys", () => {
  it.each([
    ['{"a":1,"a":2}', "/a"],
    ['{"a":{"b":1,"c":2,"b":3}}', "/a/b"],
    ['{"items":[{"sku":"x"},{"sku":"y","sku":"z"}]}', "/items/1/sku"],
    ['{"a/b":1,"a/b":2}', "/a~1b"],
    ['{"\\u0061":1,"a":2}', "/a"], // the same key, spelt with an escape
  ])("finds the repeated key in %s", (json, pointer) => {
    expect(firstDuplicateKey(json)).toBe(pointer);
  });

  it.each(['{"a":1,"b":{"a":2}}', "[1,2,3]", '"text"', '{"items":[{"a":1},{"a":2}]}'])(
    "accepts %s (same names in different objects are fine)",
    (json) => expect(firstDuplicateKey(json)).toBeUndefined(),
  );

  it("a request body with a duplicate key is a 400 naming it; the value is not echoed", async () => {
    const body = '{"customerId":"c-1","customerId":"c-2-secret","currency":"USD"}';
    const result = await readJsonBody(
      new HttpRequest({
        method: "POST",
        url: "http://localhost:7071/api/orders",
        headers: { "content-type": "application/json" },
        body: { string: body },
      }),
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.response.status).toBe(400);
    const problem = (await new HttpResponse(result.response).json()) as Record<string, unknown>;
    expect(problem).toMatchObject({
      status: 400,
      errors: [{ pointer: "/customerId", detail: expect.stringContaining("repeats a key") }],
    });
    expect(JSON.stringify(problem)).not.toContain("c-2-secret");
  });
});
