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

// Socket-level failures: the dependency could not be reached (or dropped the connection).
const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);
// HTTP statuses a store answers when it is throttling or briefly unavailable (Cosmos: 408, 429,
// 503; also the Durable management API behind the durable client).
const BUSY_STATUSES = new Set([408, 429, 502, 503, 504]);
const DEFAULT_RETRY_AFTER_SECONDS = 5;
const DURABLE_CLIENT_STATUS = /^The operation failed with an unexpected status code: (\d{3})\b/;

/**
 * Whether `err` says a dependency (Cosmos, Service Bus, the task hub) is unreachable or busy,
 * as opposed to a bug; with the wait it suggests. Walks `cause` chains and AggregateErrors,
 * since the SDKs wrap socket errors.
 */
export function dependencyUnavailable(err: unknown): { retryAfterSeconds: number } | undefined {
  const seen = new Set<unknown>();
  const pending: unknown[] = [err];
  while (pending.length > 0) {
    const e = pending.shift();
    if (!e || typeof e !== "object" || seen.has(e)) continue;
    seen.add(e);
    const o = e as Record<string, unknown>;
    const status = [o.statusCode, o.status, o.code].find((v) => typeof v === "number");
    if (typeof o.code === "string" && UNREACHABLE_CODES.has(o.code)) {
      return { retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
    }
    // The durable client reports a task hub answer only in its message (durable-functions'
    // DurableClient: "The operation failed with an unexpected status code: 503. ...").
    const taskHub = typeof o.message === "string" ? DURABLE_CLIENT_STATUS.exec(o.message) : null;
    if (taskHub && BUSY_STATUSES.has(Number(taskHub[1]))) {
      return { retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
    }
    if (typeof status === "number" && BUSY_STATUSES.has(status)) {
      const ms = typeof o.retryAfterInMs === "number" ? o.retryAfterInMs : undefined;
      const seconds =
        ms !== undefined && ms > 0 ? Math.ceil(ms / 1000) : DEFAULT_RETRY_AFTER_SECONDS;
      return { retryAfterSeconds: Math.min(seconds, 60) };
    }
    // @azure/service-bus marks what is worth retrying (ServiceBusy, timeouts, lost connection).
    if (o.name === "ServiceBusError" && o.retryable === true) {
      return { retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS };
    }
    pending.push(o.cause, o.innerError, ...(Array.isArray(o.errors) ? o.errors : []));
  }
  return undefined;
}
