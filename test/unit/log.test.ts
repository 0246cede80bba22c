import { redact } from "../../src/observability/log";

describe("log redaction", () => {
  it.each([
    ["card 4242424242424242 declined", "card [redacted …4242] declined"],
    ["4000 0000 0000 0002", "[redacted …0002]"],
    ["4000-0000-0000-9995", "[redacted …9995]"],
    ['{"n":378282246310005}', '{"n":[redacted …0005]}'],
  ])("masks card-number-like runs: %s", (text, expected) => expect(redact(text)).toBe(expected));

  it.each([
    "order 7a1b2c3d-0000-4000-8000-000000000001 charged",
    "ch_sim_approve_11111111-2222-4333-8444-555555555555",
    "amount 3998, at 2024-06-01T10:00:00.000Z",
  ])("keeps ids and ordinary numbers: %s", (text) => expect(redact(text)).toBe(text));

  it("still masks a card number next to a UUID", () => {
    expect(redact("7a1b2c3d-0000-4000-8000-000000000001 4242424242424242")).toBe(
      "7a1b2c3d-0000-4000-8000-000000000001 [redacted …4242]",
    );
  });
});
