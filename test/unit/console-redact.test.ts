// The console's last line of defence before display (console/src/redact.ts): token-, key-, secret-
// and card-like fields are hidden and card-length digit runs masked, brand and last four kept.
import { HIDDEN, pretty, redact } from "../../console/src/redact";

describe("console redact()", () => {
  it("hides tokens, keys, secrets and card numbers by field name, at any depth", () => {
    const out = redact({
      payment: { token: "tok_abc", brand: "visa", last4: "4242", cardNumber: "4242424242424242" },
      nested: [{ accessToken: "eyJ.x.y", idempotencyKey: "k-1", clientSecret: "s" }],
      authorization: "Bearer eyJ",
      fingerprint: "fp_1",
      status: "Completed",
    }) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(out.payment).toEqual({
      token: HIDDEN,
      brand: "visa",
      last4: "4242",
      cardNumber: HIDDEN,
    });
    expect(out.nested[0]).toEqual({
      accessToken: HIDDEN,
      idempotencyKey: HIDDEN,
      clientSecret: HIDDEN,
    });
    expect(out.authorization).toBe(HIDDEN);
    expect(out.fingerprint).toBe(HIDDEN);
    expect(out.status).toBe("Completed");
  });

  it("masks card-length digit runs inside text, keeping the last four", () => {
    const text = pretty({
      note: "card 4000 0000 0000 0002 declined",
      at: "2026-12-02T01:03:14.123Z",
    });
    expect(text).not.toMatch(/4000 0000 0000 0002|4000000000000002/);
    expect(text).toContain("••••0002");
    expect(text).toContain("2026-12-02T01:03:14.123Z");
  });
});
