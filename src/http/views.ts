// What clients see of a stored order: no payment token or card fingerprint (a token can be
// charged, a fingerprint links cards across orders) and no internal request hash.
import type { Order } from "../domain/order";

export interface OrderView {
  orderId: string;
  customerId: string;
  currency: string;
  lines: Order["lines"];
  totals: Order["totals"];
  shippingAddress: Order["shippingAddress"];
  payment: { brand: string; last4: string };
  status: Order["status"];
  outcome?: Order["outcome"];
  source: Order["source"];
  createdBy?: Order["createdBy"];
  decidedBy?: Order["decidedBy"];
  idempotencyKey?: string;
  createdAt: string;
  updatedAt: string;
}

export function orderView(order: Order): OrderView {
  const view: OrderView = {
    orderId: order.id,
    customerId: order.customerId,
    currency: order.currency,
    lines: order.lines,
    totals: order.totals,
    shippingAddress: order.shippingAddress,
    payment: { brand: order.payment.brand, last4: order.payment.last4 },
    status: order.status,
    source: order.source,
    createdAt: order.createdAt,
    updatedAt: order.updatedAt,
  };
  if (order.outcome) view.outcome = order.outcome;
  if (order.idempotencyKey) view.idempotencyKey = order.idempotencyKey;
  if (order.createdBy) view.createdBy = order.createdBy;
  if (order.decidedBy) view.decidedBy = order.decidedBy;
  return view;
}
