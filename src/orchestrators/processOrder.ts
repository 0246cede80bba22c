// The order workflow, as a durable orchestration. Read it top to bottom as the business process:
// approval (large orders) → charge → capture and record Paid → notify → Completed, with the
// refund as compensation once money has been taken. Orchestrators are replayed from history, so
// this file is deterministic by construction (ESLint enforces it): time comes from
// context.df.currentUtcDateTime, configuration from the input, and all I/O from activities.
//
// Workflow versions: an instance keeps the version it was started with (host.json
// `defaultVersion` at the time, see README "Shipping a workflow change safely"), so an order
// finishes under the steps it began with after a deployment. Orders started before versioning
// have no version and are version 1.
//   1: every stage is its own setOrderStatus round trip.
//   2: a stage nothing else happens in is recorded together with the next one (Approved with
//      Charging, Paid with Notifying): two activity round trips fewer per order.
//   3: stages are recorded by the activity that does the work (`step.handOver`): chargePayment
//      records Charging before it charges; one sendNotifications call records Paid and
//      Notifying, enqueues every channel in one Service Bus batch and records Completed.
//      A completed order takes 3 activities (4 with approval) instead of 8 (9).
import * as df from "durable-functions";
import type {
  OrchestrationContext,
  OrchestrationHandler,
  Task,
  TimerTask,
} from "durable-functions";
import { activities, type ActivityOutput, type StageRecord } from "../activities/contracts";
import { parseIsoDuration } from "../domain/duration";
import {
  APPROVAL_EVENT,
  CANCEL_EVENT,
  ORCHESTRATOR_NAME,
  type ApprovalDecision,
  type CancelRequest,
  type DecidedBy,
  type OrderCustomStatus,
  type OrderOutcome,
  type OrderStatus,
  type ProcessOrderInput,
} from "../domain/order";
import { logInfo, logWarn } from "../observability/log";

/** Charging: transient gateway errors back off 1s, 2s, 4s, 8s (5 attempts, ~15 s in all). */
export const CHARGE_RETRY = retryOptions({
  firstMs: 1_000,
  attempts: 5,
  coefficient: 2,
  maxMs: 30_000,
});
/** Every other step: transient store/queue errors back off 1s, 2s, 4s, 8s (5 attempts, ~15 s),
 *  so a dependency gone for a few seconds (a restart, a failover) delays orders, not fails them. */
export const STEP_RETRY = retryOptions({
  firstMs: 1_000,
  attempts: 5,
  coefficient: 2,
  maxMs: 10_000,
});

const processOrder: OrchestrationHandler = function* (context: OrchestrationContext) {
  const order = context.df.getInput() as ProcessOrderInput;
  const version = workflowVersion(context.df.version);
  const step = stepper(context, order, version);
  let approvedBy: string | undefined;
  let decidedBy: DecidedBy | undefined;

  // 1. Large orders wait for a person: approve, reject, cancel, or let the deadline pass.
  if (order.total >= order.approval.thresholdMinor) {
    yield* step.enter(
      "AwaitingApproval",
      `total ${order.total} ≥ ${order.approval.thresholdMinor}`,
    );
    const decision = yield* awaitApproval(context, parseIsoDuration(order.approval.timeout));
    if (decision.kind === "cancelled") {
      return yield* step.finish(
        withDefined({
          status: "Cancelled",
          reason: "Cancelled before approval",
          decidedBy: decision.decidedBy,
        }),
      );
    }
    if (decision.kind === "timedOut") {
      return yield* step.finish({
        status: "Rejected",
        reason: `No decision within ${order.approval.timeout}`,
      });
    }
    if (!decision.approved) {
      return yield* step.finish(
        withDefined({
          status: "Rejected",
          reason: decision.reason ?? `Rejected by ${decision.approver}`,
          decidedBy: decision.decidedBy,
        }),
      );
    }
    approvedBy = decision.approver;
    decidedBy = decision.decidedBy;
    if (version === 1)
      yield* step.enter("Approved", `approved by ${approvedBy}`, undefined, decidedBy);
  }

  // 2. Charge. A decline comes back as a result; only transient failures are retried. From
  //    version 3 the charge activity records Charging itself, before it charges.
  const charging =
    version >= 2 && approvedBy
      ? yield* step.handOver("Charging", `approved by ${approvedBy}`, "Approved", decidedBy)
      : yield* step.handOver("Charging");
  let charge: ActivityOutput<"chargePayment">;
  try {
    charge = yield activities.chargePayment(
      context,
      {
        orderId: order.orderId,
        token: order.payment.token,
        amount: order.total,
        currency: order.currency,
        ...charging,
      },
      CHARGE_RETRY,
    );
  } catch (err) {
    step.warn("payment.failed", err);
    return yield* step.finish({
      status: "PaymentFailed",
      reason: `Payment gateway failed ${CHARGE_RETRY.maxNumberOfAttempts} times`,
    });
  }
  if (charge.outcome === "declined") {
    return yield* step.finish({ status: "PaymentDeclined", reason: charge.reason });
  }
  const chargeId = charge.chargeId;
  const completed = withDefined({ status: "Completed", chargeId, approvedBy, decidedBy });
  const notification = {
    orderId: order.orderId,
    customerId: order.customerId,
    template: "order-completed",
    data: { total: order.total, currency: order.currency, last4: order.payment.last4 },
  } as const;

  // 3.–4. Money is taken: from here on, a step that fails for good is compensated by a refund.
  try {
    const capture: ActivityOutput<"capturePayment"> = yield activities.capturePayment(
      context,
      { orderId: order.orderId, chargeId },
      STEP_RETRY,
    );
    if (!capture.captured) throw new Error(capture.reason);
    if (version >= 3) {
      // One activity records Paid and Notifying, sends every channel, and records Completed.
      const notifying = yield* step.handOver("Notifying", order.channels.join(", "), "Paid");
      yield activities.sendNotifications(
        context,
        { ...notification, channels: order.channels, ...notifying, outcome: completed },
        STEP_RETRY,
      );
      return step.finishRecorded(completed);
    }
    if (version >= 2) {
      yield* step.enter("Notifying", order.channels.join(", "), "Paid");
    } else {
      yield* step.enter("Paid");
      yield* step.enter("Notifying", order.channels.join(", "));
    }
    yield context.df.Task.all(
      order.channels.map((channel) =>
        activities.sendNotification(context, { ...notification, channel }, STEP_RETRY),
      ),
    );
  } catch (err) {
    const reason = err instanceof Error ? firstLine(err.message) : String(err);
    step.warn("order.compensating", err);
    let refund: ActivityOutput<"refundPayment">;
    try {
      refund = yield activities.refundPayment(
        context,
        { orderId: order.orderId, chargeId, amount: order.total, currency: order.currency, reason },
        STEP_RETRY,
      );
    } catch (refundError) {
      // Money was taken and could not be given back: record it on the order, then fail the
      // instance itself so operators are alerted (this is not a business outcome).
      yield* step.finish({ status: "Failed", reason: `${reason}; refund failed`, chargeId });
      throw refundError;
    }
    return yield* step.finish({ status: "Failed", reason, chargeId, refundId: refund.refundId });
  }

  // 5. Done (version 3 returned above: its last activity recorded Completed).
  return yield* step.finish(completed);
};

df.app.orchestration(ORCHESTRATOR_NAME, processOrder);

type Approval =
  | { kind: "cancelled"; decidedBy?: DecidedBy }
  | { kind: "timedOut" }
  | {
      kind: "decided";
      approved: boolean;
      approver: string;
      reason?: string;
      decidedBy?: DecidedBy;
    };

/** Waits for the first of: an approval decision, a cancel request, or the deadline. */
function* awaitApproval(
  context: OrchestrationContext,
  timeoutMs: number,
): Generator<Task, Approval, unknown> {
  const deadline = new Date(context.df.currentUtcDateTime.getTime() + timeoutMs);
  const decisionEvent = context.df.waitForExternalEvent(APPROVAL_EVENT);
  const cancelEvent = context.df.waitForExternalEvent(CANCEL_EVENT);
  const timer: TimerTask = context.df.createTimer(deadline);
  const winner = yield context.df.Task.any([decisionEvent, cancelEvent, timer]);
  // A pending timer keeps the instance alive until it fires: cancel it when an event won.
  if (winner !== timer) timer.cancel();
  if (winner === cancelEvent) {
    const cancel = (cancelEvent.result ?? {}) as Partial<CancelRequest>;
    return { kind: "cancelled", ...decider(cancel.decidedBy) };
  }
  if (winner === timer) return { kind: "timedOut" };
  const decision = (decisionEvent.result ?? {}) as Partial<ApprovalDecision>;
  return {
    kind: "decided",
    approved: decision.approved === true,
    approver: typeof decision.approver === "string" ? decision.approver : "unknown",
    ...(typeof decision.reason === "string" && decision.reason ? { reason: decision.reason } : {}),
    ...decider(decision.decidedBy),
  };
}

/** The event's decidedBy when well-formed (instances started earlier sent none). */
function decider(value: unknown): { decidedBy?: DecidedBy } {
  const d = value as Partial<DecidedBy> | undefined;
  return d && typeof d.id === "string" && typeof d.name === "string" && typeof d.at === "string"
    ? { decidedBy: { id: d.id, name: d.name, at: d.at } }
    : {};
}

/** Status bookkeeping: custom status for pollers, the stored order status, and a log line. */
function stepper(context: OrchestrationContext, order: ProcessOrderInput, version: number) {
  const fields = { orderId: order.orderId, instanceId: context.df.instanceId };
  const publish = (stage: OrderStatus, detail?: string) => {
    const status: OrderCustomStatus = {
      stage,
      updatedAt: context.df.currentUtcDateTime.toISOString(),
      ...(detail ? { detail } : {}),
    };
    context.df.setCustomStatus(status);
    if (!context.df.isReplaying) logInfo(context, "order.stage", { ...fields, stage, detail });
  };
  const setStatus = (
    status: OrderStatus,
    outcome?: OrderOutcome,
    via?: OrderStatus,
    decidedBy?: DecidedBy,
  ) =>
    activities.setOrderStatus(
      context,
      {
        orderId: order.orderId,
        status,
        ...(outcome ? { outcome } : {}),
        ...(via ? { via } : {}),
        ...(decidedBy ? { decidedBy } : {}),
      },
      STEP_RETRY,
    );
  return {
    /**
     * Enters `stage`; with `via`, records that stage on the way in the same activity call; with
     * `decidedBy`, records the approver on the order too.
     */
    *enter(
      stage: OrderStatus,
      detail?: string,
      via?: OrderStatus,
      decidedBy?: DecidedBy,
    ): Generator<Task, void, unknown> {
      publish(stage, detail);
      yield setStatus(stage, undefined, via, decidedBy);
    },
    /**
     * Enters `stage` as `enter` does, but from version 3 leaves the store write to the next
     * activity: returns `{ stage }` for its input (earlier versions: writes it, returns `{}`).
     */
    *handOver(
      stage: OrderStatus,
      detail?: string,
      via?: OrderStatus,
      decidedBy?: DecidedBy,
    ): Generator<Task, { stage?: StageRecord }, unknown> {
      if (version < 3) {
        yield* this.enter(stage, detail, via, decidedBy);
        return {};
      }
      publish(stage, detail);
      return {
        stage: { status: stage, ...(via ? { via } : {}), ...(decidedBy ? { decidedBy } : {}) },
      };
    },
    *finish(outcome: OrderOutcome): Generator<Task, OrderOutcome, unknown> {
      publish(outcome.status, outcome.reason);
      yield setStatus(outcome.status, outcome);
      return outcome;
    },
    /** Ends with an outcome the last activity has recorded already. */
    finishRecorded(outcome: OrderOutcome): OrderOutcome {
      publish(outcome.status, outcome.reason);
      return outcome;
    },
    warn(event: string, err: unknown) {
      if (context.df.isReplaying) return;
      const error = err instanceof Error ? firstLine(err.message) : String(err);
      logWarn(context, event, { ...fields, error });
    },
  };
}

/**
 * The workflow version of an instance: the major number of its orchestration version ("2.0" → 2);
 * no version (orders started before versioning) is 1. A version newer than this code knows runs
 * the newest steps; the host's versionMatchStrategy keeps such instances off older code.
 */
export function workflowVersion(version: string | undefined): number {
  const major = /^\s*(\d+)/.exec(version ?? "");
  return major ? Math.max(1, Number(major[1])) : 1;
}

function retryOptions(o: {
  firstMs: number;
  attempts: number;
  coefficient: number;
  maxMs: number;
}) {
  const options = new df.RetryOptions(o.firstMs, o.attempts);
  options.backoffCoefficient = o.coefficient;
  options.maxRetryIntervalInMilliseconds = o.maxMs;
  return options;
}

/** The SDK appends the activity's stack to failure messages; the reason is the first line. */
function firstLine(message: string): string {
  return message.split("\n")[0]!.trim();
}

function withDefined(outcome: OrderOutcome): OrderOutcome {
  return Object.fromEntries(
    Object.entries(outcome).filter(([, v]) => v !== undefined),
  ) as unknown as OrderOutcome;
}
