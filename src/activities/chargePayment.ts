// Charges the order's card token through the gateway, keyed by the order id so a retried or
// replayed attempt never charges twice. A decline is returned as a result (the orchestrator ends
// the order as PaymentDeclined); only transient failures throw, so callActivityWithRetry retries
// exactly those. From workflow version 3 it records the order's Charging stage (its `stage`)
// first: a failed write throws before any money moves, and a retry finds it written.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { getServices } from "../adapters/services";
import { logInfo, logWarn } from "../observability/log";
import { activityFields } from "./activityLog";
import type { ChargePaymentInput, ChargePaymentOutput } from "./contracts";
import { paymentAttempt } from "../observability/metrics";
import { recordStage } from "./recordStage";

export async function chargePayment(
  input: ChargePaymentInput,
  context: InvocationContext,
): Promise<ChargePaymentOutput> {
  const fields = { ...activityFields(context, input.orderId), amount: input.amount };
  if (input.stage) await recordStage(context, input.orderId, input.stage);
  try {
    const result = await getServices().gateway.charge({
      idempotencyKey: input.orderId,
      token: input.token,
      amount: input.amount,
      currency: input.currency,
    });
    if (result.outcome === "approved") {
      logInfo(context, "payment.charged", { ...fields, chargeId: result.chargeId });
      paymentAttempt("charged");
    } else {
      logInfo(context, "payment.declined", { ...fields, reason: result.reason });
      paymentAttempt("declined");
    }
    return result;
  } catch (err) {
    paymentAttempt("transient_failure");
    logWarn(context, "payment.charge.transientFailure", {
      ...fields,
      error: err instanceof Error ? err.message : String(err),
      retryCount: context.retryContext?.retryCount,
    });
    throw err;
  }
}

df.app.activity("chargePayment", { handler: chargePayment });
