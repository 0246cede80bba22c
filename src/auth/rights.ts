// Who may do what: the one place that turns a validated token into rights and decides, per
// operation and per order, whether the caller may go on. A token's rights are the union of what
// its scope and each of its roles grant (see README, "Who may do what"):
//   customer  (scope Orders.ReadWrite): their own orders (customerId = the token's oid/sub)
//   submitter (role Orders.Submit):     orders for any customer; reads the ones it created
//   approver  (role Orders.Approve):    orders awaiting approval or decided by them; decides them
//   operator  (role Orders.Operate):    every order, ledger and delivery; cancels any order
import type { CreatedBy, DecidedBy, Order } from "../domain/order";
import type { TokenClaims } from "./token";

export const SCOPE = "Orders.ReadWrite";
export const ROLES = {
  submit: "Orders.Submit",
  approve: "Orders.Approve",
  operate: "Orders.Operate",
} as const;

export type Grant = "customer" | "submitter" | "approver" | "operator";

const GRANTED_BY: Record<Grant, { scope?: string; role?: string }> = {
  customer: { scope: SCOPE },
  submitter: { role: ROLES.submit },
  approver: { role: ROLES.approve },
  operator: { role: ROLES.operate },
};

export interface Caller extends TokenClaims {
  grants: ReadonlySet<Grant>;
}

export function callerOf(claims: TokenClaims): Caller {
  const grants = new Set<Grant>();
  for (const [grant, by] of Object.entries(GRANTED_BY) as [
    Grant,
    { scope?: string; role?: string },
  ][]) {
    if (
      (by.scope && claims.scopes.includes(by.scope)) ||
      (by.role && claims.roles.includes(by.role))
    )
      grants.add(grant);
  }
  return { ...claims, grants };
}

/** An operation and the grants that may call it at all. */
export interface Right {
  name: string;
  grants: readonly Grant[];
}

const right = (name: string, ...grants: Grant[]): Right => ({ name, grants });

/** The rights the HTTP functions state, one each. */
export const RIGHTS = {
  createOrder: right("create orders", "customer", "submitter"),
  readOrder: right("read orders", "customer", "submitter", "approver", "operator"),
  listOrders: right("list orders", "customer", "submitter", "approver", "operator"),
  decideOrder: right("approve or reject orders", "approver"),
  cancelOrder: right("cancel orders", "customer", "submitter", "operator"),
  readLedger: right("see payments and notifications", "customer", "operator"),
  // Operator API (README "Operating it"):
  operate: right("resubmit or discard failed messages, act on stuck orders", "operator"),
  readFailures: right("see rejected messages, dead letters and stuck orders", "operator"),
  readAudit: right("read the audit log", "operator"),
  readHistory: right("see an order's orchestration history and trace", "operator", "approver"),
  readOrderStats: right("see order counts and latency", "operator"),
} as const;

/** The scope and roles any of which would grant `r` (for 403 bodies and WWW-Authenticate). */
export function needed(r: Right): { scopes: string[]; roles: string[] } {
  const scopes = r.grants.flatMap((g) => (GRANTED_BY[g].scope ? [GRANTED_BY[g].scope] : []));
  const roles = r.grants.flatMap((g) => (GRANTED_BY[g].role ? [GRANTED_BY[g].role] : []));
  return { scopes, roles };
}

/** The caller's grants that count for `r` (empty: 403). */
export function grantsFor(caller: Caller, r: Right): Set<Grant> {
  return new Set(r.grants.filter((g) => caller.grants.has(g)));
}

/** May the caller (with its grants for this right) see this order? Otherwise it is a 404. */
export function canSee(caller: Caller, grants: ReadonlySet<Grant>, order: Order): boolean {
  if (grants.has("operator")) return true;
  if (grants.has("customer") && order.customerId === caller.id) return true;
  if (
    grants.has("submitter") &&
    caller.clientId !== undefined &&
    order.createdBy?.kind === "app" &&
    order.createdBy.id === caller.clientId
  )
    return true;
  if (
    grants.has("approver") &&
    (order.status === "AwaitingApproval" ||
      order.decidedBy?.id === caller.id ||
      order.outcome?.decidedBy?.id === caller.id)
  )
    return true;
  return false;
}

/** Nobody decides an order they placed. */
export function placedBy(caller: Caller, order: Order): boolean {
  return (
    order.customerId === caller.id ||
    (order.createdBy?.kind === "customer" && order.createdBy.id === caller.id)
  );
}

/** Who creates an order for `customerId`, or why not (403). */
export function creatorFor(
  caller: Caller,
  customerId: string,
): { ok: true; createdBy: CreatedBy } | { ok: false; detail: string; needs: string } {
  if (caller.grants.has("customer") && customerId === caller.id) {
    return {
      ok: true,
      createdBy: {
        kind: "customer",
        id: caller.id,
        ...(caller.clientId ? { clientId: caller.clientId } : {}),
      },
    };
  }
  if (caller.grants.has("submitter")) {
    if (!caller.clientId) {
      return {
        ok: false,
        detail: "The token names no client application (azp or appid).",
        needs: "an azp or appid claim",
      };
    }
    return { ok: true, createdBy: { kind: "app", id: caller.clientId } };
  }
  return {
    ok: false,
    detail: `A customer places orders for themselves only; creating an order for another customer needs the ${ROLES.submit} role.`,
    needs: `the ${ROLES.submit} role`,
  };
}

export const sameCreator = (a: CreatedBy | undefined, b: CreatedBy): boolean =>
  a !== undefined && a.kind === b.kind && a.id === b.id;

/** What a list may contain: everything, or the union of these (the store ORs them). */
export interface Visibility {
  customerId?: string;
  createdByApp?: string;
  approverId?: string;
}

/**
 * The part of GET /orders the caller may see: `all`, a visibility filter, or a 403 for a
 * customer asking for someone else's orders.
 */
export function listScope(
  caller: Caller,
  grants: ReadonlySet<Grant>,
  customerIdFilter: string | undefined,
): { ok: true; visibleTo?: Visibility } | { ok: false; detail: string; needs: string } {
  if (grants.has("operator")) return { ok: true };
  const visibleTo: Visibility = {};
  if (grants.has("customer")) visibleTo.customerId = caller.id;
  if (grants.has("submitter") && caller.clientId) visibleTo.createdByApp = caller.clientId;
  if (grants.has("approver")) visibleTo.approverId = caller.id;
  const onlyCustomer = !grants.has("submitter") && !grants.has("approver");
  if (customerIdFilter !== undefined && onlyCustomer && customerIdFilter !== caller.id) {
    return {
      ok: false,
      detail: `A customer lists their own orders only; other customers' orders need the ${ROLES.operate} role.`,
      needs: `the ${ROLES.operate} role`,
    };
  }
  return { ok: true, visibleTo };
}

/** Operator and approver actions are audited; a customer's own cancel is not an operator action. */
export function audited(grants: ReadonlySet<Grant>): boolean {
  return grants.has("operator") || grants.has("approver");
}

/** The attributable record of a decision by the caller. */
export function decidedBy(caller: Caller, at: Date): DecidedBy {
  return { id: caller.id, name: caller.name ?? caller.id, at: at.toISOString() };
}
