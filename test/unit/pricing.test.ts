import { PricingError, priceOrder } from "../../src/domain/pricing";
import type { OrderItemInput } from "../../src/domain/order";

const item = (quantity: number, unitPrice: number, sku = "SKU-1"): OrderItemInput => ({
  sku,
  name: "Widget",
  quantity,
  unitPrice,
});

describe("priceOrder", () => {
  it.each([
    { items: [item(2, 1999)], subtotal: 3998, lines: [3998] },
    { items: [item(1, 0)], subtotal: 0, lines: [0] },
    { items: [item(3, 100), item(1, 50, "SKU-2")], subtotal: 350, lines: [300, 50] },
    {
      items: [item(1, Number.MAX_SAFE_INTEGER)],
      subtotal: Number.MAX_SAFE_INTEGER,
      lines: [Number.MAX_SAFE_INTEGER],
    },
  ])("totals $subtotal from the quoted unit prices", ({ items, subtotal, lines }) => {
    const priced = priceOrder(items);
    expect(priced.totals).toEqual({ subtotal, total: subtotal });
    expect(priced.lines.map((l) => l.lineTotal)).toEqual(lines);
    expect(priced.lines[0]).toMatchObject({ sku: items[0]!.sku, quantity: items[0]!.quantity });
  });

  it.each([
    { name: "empty cart", items: [], pointer: "/items" },
    { name: "zero quantity", items: [item(0, 100)], pointer: "/items/0/quantity" },
    { name: "fractional quantity", items: [item(1.5, 100)], pointer: "/items/0/quantity" },
    { name: "negative price", items: [item(1, -1)], pointer: "/items/0/unitPrice" },
    { name: "fractional price", items: [item(1, 19.99)], pointer: "/items/0/unitPrice" },
    { name: "unsafe price", items: [item(1, 2 ** 53)], pointer: "/items/0/unitPrice" },
    {
      name: "line overflow",
      items: [item(1, 1), item(2, Number.MAX_SAFE_INTEGER)],
      pointer: "/items/1",
    },
    {
      name: "total overflow",
      items: [item(1, Number.MAX_SAFE_INTEGER), item(1, 1)],
      pointer: "/items",
    },
  ])("rejects $name at $pointer", ({ items, pointer }) => {
    let error: unknown;
    try {
      priceOrder(items);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(PricingError);
    expect((error as PricingError).errors.map((e) => e.pointer)).toEqual([pointer]);
  });

  it("reports every bad line at once", () => {
    expect(() => priceOrder([item(0, 1), item(1, -5)])).toThrow(
      expect.objectContaining({
        errors: [
          expect.objectContaining({ pointer: "/items/0/quantity" }),
          expect.objectContaining({ pointer: "/items/1/unitPrice" }),
        ],
      }),
    );
  });
});
