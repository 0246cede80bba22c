// Activity names, inputs and outputs, plus a typed way for the orchestrator to call them
// (`activities.chargePayment(context, input, retry)`), in the spirit of Temporal's
// proxyActivities. This module must stay free of I/O: the orchestrator imports it.
import type { OrchestrationContext, RetryOptions, Task } from "durable-functions";
import type { ChargeResult, NotificationMessage } from "../adapters/ports";
import type { DecidedBy, NotificationChannel, OrderOutcome, OrderStatus } from "../domain/order";

/** A status change for the order store, made by setOrderStatus or inside a working activity. */
export interface StageRecord {
  status: OrderStatus;
  outcome?: OrderOutcome;
  /** A stage recorded on the way to `status` in the same call (workflow version 2). */
  via?: OrderStatus;
  /** The approver, recorded on the order with the first status after the approval. */
  decidedBy?: DecidedBy;
}

export interface SetOrderStatusInput extends StageRecord {
  orderId: string;
}
export interface SetOrderStatusOutput {
  status: OrderStatus;
}

export interface ChargePaymentInput {
  orderId: string;
  token: string;
  amount: number;
  currency: string;
  /** Recorded on the order before the charge (workflow version 3; earlier ones send none). */
  stage?: StageRecord;
}
/** A decline is a result, not an error: RetryOptions cannot tell the two apart. */
export type ChargePaymentOutput = ChargeResult;

export interface CapturePaymentInput {
  orderId: string;
  chargeId: string;
}
/** A refused capture is a result; only transient failures throw (and are retried). */
export type CapturePaymentOutput = { captured: true } | { captured: false; reason: string };

export interface RefundPaymentInput {
  orderId: string;
  chargeId: string;
  amount: number;
  currency: string;
  reason: string;
}
export interface RefundPaymentOutput {
  refundId: string;
}

export interface SendNotificationInput {
  orderId: string;
  customerId: string;
  channel: NotificationChannel;
  template: NotificationMessage["template"];
  data: Record<string, unknown>;
}
export interface SendNotificationOutput {
  notificationId: string;
}

/** Every channel's notification in one Service Bus batch (workflow version 3). */
export interface SendNotificationsInput {
  orderId: string;
  customerId: string;
  channels: NotificationChannel[];
  template: NotificationMessage["template"];
  data: Record<string, unknown>;
  /** Recorded on the order before the messages are sent. */
  stage?: StageRecord;
  /** Recorded on the order (as its status) once every message is sent. */
  outcome?: OrderOutcome;
}
export interface SendNotificationsOutput {
  notificationIds: string[];
}

/** Every activity: name → [input, output]. */
export interface ActivityContracts {
  setOrderStatus: [SetOrderStatusInput, SetOrderStatusOutput];
  chargePayment: [ChargePaymentInput, ChargePaymentOutput];
  capturePayment: [CapturePaymentInput, CapturePaymentOutput];
  refundPayment: [RefundPaymentInput, RefundPaymentOutput];
  sendNotification: [SendNotificationInput, SendNotificationOutput];
  sendNotifications: [SendNotificationsInput, SendNotificationsOutput];
}

export type ActivityName = keyof ActivityContracts;
export type ActivityInput<N extends ActivityName> = ActivityContracts[N][0];
export type ActivityOutput<N extends ActivityName> = ActivityContracts[N][1];

export const ACTIVITY_NAMES = [
  "setOrderStatus",
  "chargePayment",
  "capturePayment",
  "refundPayment",
  "sendNotification",
  "sendNotifications",
] as const satisfies readonly ActivityName[];

/** A durable task whose result (what `yield` hands back) has a known type. */
export type ActivityTask<N extends ActivityName> = Task & { readonly __output?: ActivityOutput<N> };

type ActivityCaller<N extends ActivityName> = (
  context: OrchestrationContext,
  input: ActivityInput<N>,
  retry?: RetryOptions,
) => ActivityTask<N>;

function caller<N extends ActivityName>(name: N): ActivityCaller<N> {
  return (context, input, retry) =>
    retry
      ? context.df.callActivityWithRetry(name, retry, input)
      : context.df.callActivity(name, input);
}

/** Typed activity calls for orchestrators: the task to yield, never the result itself. */
export const activities: { [N in ActivityName]: ActivityCaller<N> } = {
  setOrderStatus: caller("setOrderStatus"),
  chargePayment: caller("chargePayment"),
  capturePayment: caller("capturePayment"),
  refundPayment: caller("refundPayment"),
  sendNotification: caller("sendNotification"),
  sendNotifications: caller("sendNotifications"),
};
