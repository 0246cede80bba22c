// The Durable extension stand-in for the local host (see docs/durable-engine.md).
export { DurableEngine, type DurableEngineOptions } from "./engine";
export { BadRequestError, StartConflictError } from "./errors";
export { handleManagementRequest } from "./http";
export { replay, type Decision, type ReplayResult } from "./replay";
export type { HistoryEvent, InstanceRecord, RuntimeStatus } from "./types";
