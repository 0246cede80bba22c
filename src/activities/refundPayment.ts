// Compensation: refunds a charge when a later step failed for good. Idempotent per order, so a
// retried refund is recorded once in the ledger.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { logError, logInfo } from "../observability/log";
import { activityFields } from "./activityLog";
import type { RefundPaymentInput, RefundPaymentOutput } from "./contracts";

export async function refundPayment(
  input: RefundPaymentInput,
  context: InvocationContext,
): Promise<RefundPaymentOutput> {
  const fields = {
    ...activityFields(context, input.orderId),
    chargeId: input.chargeId,
    amount: input.amount,
    reason: input.reason,
  };
  try {
    const { refundId } = await getServices().gateway.refund({
      idempotencyKey: input.orderId,
      chargeId: input.chargeId,
      amount: input.amount,
      currency: input.currency,
      reason: input.reason,
    });
    logInfo(context, "payment.refunded", { ...fields, refundId });
    return { refundId };
  } catch (err) {
    logError(context, "payment.refund.failed", err, fields);
    throw err;
  }
}

df.app.activity("refundPayment", { handler: refundPayment });
