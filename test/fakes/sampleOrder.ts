// A valid stored order for tests (no card number: only the token and its public parts).
import type { Order } from "../../src/domain/order";

export function sampleOrder(overrides: Partial<Order> = {}): Order {
  return {
    id: "11111111-2222-4333-8444-555555555555",
    customerId: "c-1",
    currency: "USD",
    lines: [{ sku: "SKU-1", name: "Widget", quantity: 2, unitPrice: 1999, lineTotal: 3998 }],
    totals: { subtotal: 3998, total: 3998 },
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: {
      token: "tok_sim_approve_00000000000000000000000000000000",
      brand: "visa",
      last4: "4242",
      fingerprint: "fp",
    },
    status: "Received",
    requestHash: "h",
    source: "http",
    createdAt: "2024-01-01T00:00:00.000Z",
    updatedAt: "2024-01-01T00:00:00.000Z",
    ...overrides,
  };
}

/** A valid order request body (what a client POSTs), for validation tests to edit. */
export function validOrderRequest(): Record<string, unknown> {
  return {
    customerId: "c-1",
    currency: "USD",
    items: [{ sku: "SKU-1", name: "Widget", quantity: 2, unitPrice: 1999 }],
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: { cardNumber: "4242424242424242" },
  };
}
