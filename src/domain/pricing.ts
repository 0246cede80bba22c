// Server-side pricing: the caller's cart supplies unit prices (its quote), the server computes
// every line total and the order total. Money is integer minor units; any amount that is not a
// safe integer (or would overflow Number.MAX_SAFE_INTEGER when multiplied or summed) is refused
// rather than silently rounded.
import type { OrderItemInput, OrderLine, OrderTotals } from "./order";

/** One problem with a field, addressed by JSON pointer into the request body. */
export interface FieldError {
  pointer: string;
  detail: string;
}

export class PricingError extends Error {
  constructor(readonly errors: FieldError[]) {
    super(`Order cannot be priced: ${errors.map((e) => `${e.pointer} ${e.detail}`).join("; ")}`);
    this.name = "PricingError";
  }
}

export interface PricedOrder {
  lines: OrderLine[];
  totals: OrderTotals;
}

export function priceOrder(items: readonly OrderItemInput[]): PricedOrder {
  const errors: FieldError[] = [];
  if (items.length === 0) errors.push({ pointer: "/items", detail: "must not be empty" });
  const lines: OrderLine[] = [];
  let subtotal = 0;
  items.forEach((item, i) => {
    const base = `/items/${i}`;
    if (!Number.isSafeInteger(item.quantity) || item.quantity < 1) {
      errors.push({ pointer: `${base}/quantity`, detail: "must be a positive integer" });
      return;
    }
    if (!Number.isSafeInteger(item.unitPrice) || item.unitPrice < 0) {
      errors.push({
        pointer: `${base}/unitPrice`,
        detail: "must be a non-negative integer amount in minor units",
      });
      return;
    }
    const lineTotal = item.quantity * item.unitPrice;
    if (!Number.isSafeInteger(lineTotal)) {
      errors.push({ pointer: base, detail: "quantity × unitPrice exceeds the largest amount" });
      return;
    }
    subtotal += lineTotal;
    lines.push({ ...item, lineTotal });
  });
  if (errors.length === 0 && !Number.isSafeInteger(subtotal)) {
    errors.push({ pointer: "/items", detail: "the order total exceeds the largest amount" });
  }
  if (errors.length > 0) throw new PricingError(errors);
  // No tax or shipping in this model: the total is the sum of the lines.
  return { lines, totals: { subtotal, total: subtotal } };
}
