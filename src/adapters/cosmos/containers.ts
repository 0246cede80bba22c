// The Cosmos DB containers the app uses. The app never creates them (in Azure it has data-plane
// RBAC only): infrastructure and the local emulator provision this list
// (local-host/config/cosmos.json must match it; a test checks that).
//  - orders: pk /id, so the hot path (read/update one order by id) is a single-partition point
//    read; listing by customer is a cross-partition query, acceptable at this scale.
//  - payments, notifications: pk /orderId, so an order's ledger or deliveries are one partition.
//  - rejected-messages: pk /id, written once and read rarely.
//  - audit: pk /id, written once per operator/approver action; Cosmos deletes an entry
//    AUDIT_RETENTION_DAYS after it was written (the container's default TTL).
export const COSMOS_CONTAINERS = [
  { id: "orders", partitionKey: "/id" },
  { id: "payments", partitionKey: "/orderId" },
  { id: "notifications", partitionKey: "/orderId" },
  { id: "rejected-messages", partitionKey: "/id" },
  { id: "audit", partitionKey: "/id", defaultTtl: 34_560_000 },
] as const;

/** 400 days: a year and a quarter, so an annual review still finds last year's actions. */
export const AUDIT_RETENTION_DAYS = 400;

export type ContainerName = (typeof COSMOS_CONTAINERS)[number]["id"];
