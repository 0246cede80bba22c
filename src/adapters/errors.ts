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
