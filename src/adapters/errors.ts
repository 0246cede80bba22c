// Errors the stores throw (the Cosmos adapters and the test fakes alike), so callers can tell a
// missing order or a lost update race from a transient failure.

export class OrderNotFoundError extends Error {
  constructor(readonly orderId: string) {
    super(`Order ${orderId} does not exist`);
    this.name = "OrderNotFoundError";
  }
}

export class ConcurrentUpdateError extends Error {
  constructor(orderId: string, attempts: number) {
    super(`Order ${orderId} kept changing: status update gave up after ${attempts} attempts`);
    this.name = "ConcurrentUpdateError";
  }
}

/** How many read-check-replace rounds a status update makes before giving up. */
export const MAX_UPDATE_ATTEMPTS = 5;

/** A retryable failure (timeout, 5xx from the gateway): the charge did not happen. */
export class TransientGatewayError extends Error {
  readonly transient = true;
  constructor(message: string) {
    super(message);
    this.name = "TransientGatewayError";
  }
}

/** The gateway refused to capture an approved charge; retrying will not help. */
export class CaptureFailedError extends Error {
  readonly permanent = true;
  constructor(chargeId: string) {
    super(`Capture of charge ${chargeId} was refused by the gateway`);
    this.name = "CaptureFailedError";
  }
}
