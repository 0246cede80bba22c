// Confirms capture of an approved charge. A capture the gateway refuses for good is returned as
// `{ captured: false }` so the orchestrator compensates at once instead of retrying; anything
// else that fails throws and is retried.
import type { InvocationContext } from "@azure/functions";
import * as df from "durable-functions";
import { CaptureFailedError } from "../adapters/errors";
import { getServices } from "../adapters/services";
import { logError, logInfo, logWarn } from "../observability/log";
import { activityFields } from "./activityLog";
import type { CapturePaymentInput, CapturePaymentOutput } from "./contracts";

export async function capturePayment(
  input: CapturePaymentInput,
  context: InvocationContext,
): Promise<CapturePaymentOutput> {
  const fields = { ...activityFields(context, input.orderId), chargeId: input.chargeId };
  try {
    await getServices().gateway.capture({
      chargeId: input.chargeId,
      idempotencyKey: input.orderId,
    });
    logInfo(context, "payment.captured", fields);
    return { captured: true };
  } catch (err) {
    if (err instanceof CaptureFailedError) {
      logWarn(context, "payment.capture.refused", { ...fields, reason: err.message });
      return { captured: false, reason: err.message };
    }
    logError(context, "payment.capture.failed", err, fields);
    throw err;
  }
}

df.app.activity("capturePayment", { handler: capturePayment });
