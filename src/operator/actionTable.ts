// Which operator action is allowed on a stuck order, by its stage (the stored status), the
// runtime status of its orchestration ("None": no instance) and whether the payments ledger shows
// the charge. Three rules decide every cell:
//   1. money taken ends Completed or refunded;  2. never charge twice;  3. never lose the order.
//
// | stage                          | Pending/Running | Suspended       | Failed          | Terminated/Canceled/None          |
// |--------------------------------|-----------------|-----------------|-----------------|-----------------------------------|
// | Received, AwaitingApproval,    | cancel          | resume, cancel  | rewind, cancel  | cancel (+ start: Received, None)  |
// |   Approved (before the charge) |                 |                 |                 |                                   |
// | Charging, no charge in ledger  | — (under way)   | resume          | rewind, cancel  | cancel                            |
// | Charging/Paid/Notifying with   | refund          | resume, refund  | rewind, refund  | refund                            |
// |   the charge in the ledger     |                 |                 |                 |                                   |
// | Failed, charged, not refunded  | —               | —               | rewind, refund  | refund                            |
//
//  - start:  starts the orchestration of an order that has none (the intake's own repair).
//  - resume: resumes a suspended instance.
//  - rewind: only for runtime Failed; replays the failed step. Charging is idempotent per order
//            (the gateway returns the first result), so a rewind never charges twice.
//  - cancel: before the charge. A running instance awaiting approval gets the workflow's own
//            CancelOrder event; otherwise the instance is terminated first and the order ends
//            Cancelled (PaymentFailed from Charging: the charge was never made). Refused if the
//            ledger shows a charge by then.
//  - refund: once the charge is in the ledger: terminates a live instance, refunds the charge
//            (idempotent per order, like the workflow's compensation) and ends the order Failed
//            with chargeId and refundId.
//  A running instance in Charging gets nothing: its retries end in Paid, a decline or
//  PaymentFailed within seconds, and terminating it mid-charge could leave money taken unseen.
import type { OrderStatus } from "../domain/order";
import { isTerminal } from "../domain/status";

export const STUCK_ACTIONS = ["start", "resume", "rewind", "cancel", "refund"] as const;
export type StuckAction = (typeof STUCK_ACTIONS)[number];

export const BEFORE_CHARGE: readonly OrderStatus[] = ["Received", "AwaitingApproval", "Approved"];
export const AFTER_CHARGE: readonly OrderStatus[] = ["Paid", "Notifying"];

export interface Situation {
  status: OrderStatus;
  /** The instance's runtime status, or "None" when there is no instance. */
  runtimeStatus: string;
  /** The ledger has the order's charge. */
  charged: boolean;
  /** The ledger has the order's refund. */
  refunded: boolean;
}

const LIVE = new Set(["Pending", "Running", "ContinuedAsNew"]);
const ENDED = new Set(["Terminated", "Canceled", "None"]);

export function allowedActions(s: Situation): StuckAction[] {
  const { status, runtimeStatus: rt } = s;
  // A charge in the ledger counts whatever the stage says (the stage may lag behind it).
  const moneyTaken = AFTER_CHARGE.includes(status) || s.charged;
  if (status === "Failed") {
    if (!s.charged || s.refunded) return [];
    if (rt === "Failed") return ["rewind", "refund"];
    return ENDED.has(rt) ? ["refund"] : [];
  }
  // Other business outcomes are final (a Completed order keeps its charge).
  if (isTerminal(status) || rt === "Completed") return [];
  if (moneyTaken) {
    if (LIVE.has(rt)) return ["refund"];
    if (rt === "Suspended") return ["resume", "refund"];
    if (rt === "Failed") return ["rewind", "refund"];
    return ENDED.has(rt) ? ["refund"] : [];
  }
  if (status === "Charging") {
    if (LIVE.has(rt)) return [];
    if (rt === "Suspended") return ["resume"];
    if (rt === "Failed") return ["rewind", "cancel"];
    return ENDED.has(rt) ? ["cancel"] : [];
  }
  if (BEFORE_CHARGE.includes(status)) {
    if (LIVE.has(rt)) return ["cancel"];
    if (rt === "Suspended") return ["resume", "cancel"];
    if (rt === "Failed") return ["rewind", "cancel"];
    if (rt === "None" && status === "Received") return ["start", "cancel"];
    return ENDED.has(rt) ? ["cancel"] : [];
  }
  return [];
}
