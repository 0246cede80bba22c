/** A client request the extension would answer with 400. */
export class BadRequestError extends Error {}

/** startNew on an id whose instance is still running (the extension's 409). */
export class StartConflictError extends Error {}
