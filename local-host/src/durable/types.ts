// Shapes shared by the engine's parts: DTFx history events (as the JS SDK reads them), instance
// and entity records, and the operations written to the log.
import type { SpanIdentity } from "../telemetry/orchestrationSpans";

export const EventType = {
  ExecutionStarted: 0,
  ExecutionCompleted: 1,
  ExecutionFailed: 2,
  ExecutionTerminated: 3,
  TaskScheduled: 4,
  TaskCompleted: 5,
  TaskFailed: 6,
  SubOrchestrationInstanceCreated: 7,
  SubOrchestrationInstanceCompleted: 8,
  SubOrchestrationInstanceFailed: 9,
  TimerCreated: 10,
  TimerFired: 11,
  OrchestratorStarted: 12,
  OrchestratorCompleted: 13,
  EventSent: 14,
  EventRaised: 15,
  ContinueAsNew: 16,
  GenericEvent: 17,
  HistoryState: 18,
  ExecutionSuspended: 19,
  ExecutionResumed: 20,
} as const;
export type EventTypeValue = (typeof EventType)[keyof typeof EventType];
export const EventTypeName: Record<number, string> = Object.fromEntries(
  Object.entries(EventType).map(([k, v]) => [v, k]),
);

/** A DTFx history event in the JSON shape the out-of-proc SDK consumes (PascalCase fields). */
export interface HistoryEvent {
  EventType: EventTypeValue;
  EventId: number;
  IsPlayed: boolean;
  Timestamp: string;
  [field: string]: unknown;
}

/** A history event with the base fields (EventId -1: not a scheduling event, not yet played). */
export function historyEvent(
  type: EventTypeValue,
  timestamp: string,
  fields: Record<string, unknown> = {},
): HistoryEvent {
  return { EventType: type, EventId: -1, IsPlayed: false, Timestamp: timestamp, ...fields };
}

export type RuntimeStatus =
  | "Pending"
  | "Running"
  | "Completed"
  | "ContinuedAsNew"
  | "Failed"
  | "Canceled"
  | "Terminated"
  | "Suspended";

export const TERMINAL: ReadonlySet<RuntimeStatus> = new Set([
  "Completed",
  "Failed",
  "Terminated",
  "Canceled",
]);

/** A message waiting in an instance's inbox; `seq` identifies it in the log. */
export interface InboxMessage {
  seq: number;
  event: HistoryEvent;
  /** Set for replies meant for one execution (dropped when the instance continues as new). */
  executionId?: string;
}

export interface ParentRef {
  instanceId: string;
  executionId: string;
  taskScheduledId: number;
}

export interface InstanceRecord {
  instanceId: string;
  name: string;
  version: string;
  executionId: string;
  status: RuntimeStatus;
  /** JSON text of the input, or null when started without one. */
  input: string | null;
  /** JSON text of the output (the failure message for Failed, the reason for Terminated). */
  output: string | null;
  customStatus: string | null;
  createdTime: string;
  lastUpdatedTime: string;
  parent?: ParentRef;
  /** The orchestration span's identity (reopened after a restart: one trace per instance). */
  trace?: SpanIdentity;
  history: HistoryEvent[];
  inbox: InboxMessage[];
  /** Failure details kept for rewind and status. */
  failure?: { message: string; details?: string; errorType?: string };
}

/** What listing and filtering read of an instance (live or finished) without its history. */
export interface InstanceSummary {
  instanceId: string;
  name: string;
  status: RuntimeStatus;
  createdTime: string;
  lastUpdatedTime: string;
}

/** One request in an entity's queue (an operation from a client or an orchestration). */
export interface EntityRequest {
  seq: number;
  op: string;
  /** JSON text of the operation input, if any. */
  input?: string;
  signal: boolean;
  /** Request id; for calls, the EventRaised name the caller waits for. */
  id: string;
  parent?: string;
  parentExecution?: string;
  time: string;
}

export interface EntityRecord {
  /** Scheduler id "@name@key" (name lower-cased, as the SDK and extension do). */
  id: string;
  name: string;
  key: string;
  exists: boolean;
  state?: string;
  queue: EntityRequest[];
  lastModified: string;
}

/** A message produced by a work item for another instance or entity. */
export type Delivery =
  | { kind: "instance"; instanceId: string; executionId?: string; event: HistoryEvent; seq: number }
  | { kind: "entity"; entityId: string; request: EntityRequest };

export interface CreateInstance {
  instanceId: string;
  name: string;
  version: string;
  executionId: string;
  input: string | null;
  parent?: ParentRef;
  trace?: SpanIdentity;
  time: string;
  seq: number;
}

/** Log operations: every state change is one of these, applied in order on recovery. */
export type Op =
  | { t: "create"; c: CreateInstance }
  | { t: "deliver"; d: Delivery }
  | {
      t: "episode";
      instanceId: string;
      executionId: string;
      consumed: number[];
      append: HistoryEvent[];
      status: RuntimeStatus;
      output?: string | null;
      customStatus?: string | null;
      failure?: { message: string; details?: string; errorType?: string };
      time: string;
      /** Continue-as-new: the next execution starts with this (fresh history). */
      continueAsNew?: { executionId: string; input: string | null; seq: number };
      creates?: CreateInstance[];
      deliveries?: Delivery[];
    }
  | {
      t: "entity";
      entityId: string;
      consumed: number[];
      exists: boolean;
      state?: string;
      time: string;
      deliveries?: Delivery[];
    }
  | { t: "rewind"; instanceId: string; history: HistoryEvent[]; time: string; seq: number }
  | { t: "purge"; instanceIds: string[] }
  | { t: "purgeEntity"; entityId: string };

/** What the orchestrator function returns (OrchestratorState in the SDK). */
export interface OrchestratorResult {
  isDone: boolean;
  actions: unknown[][];
  output?: unknown;
  error?: string;
  customStatus?: unknown;
  schemaVersion?: number;
}

export interface RetryOptionsPayload {
  firstRetryIntervalInMilliseconds: number;
  maxNumberOfAttempts: number;
  backoffCoefficient?: number;
  maxRetryIntervalInMilliseconds?: number;
  retryTimeoutInMilliseconds?: number;
}

/** An action from the SDK's actions list (only the fields the engine uses). */
export interface SdkAction {
  actionType: number;
  functionName?: string;
  input?: unknown;
  instanceId?: string;
  operation?: string;
  fireAt?: string;
  isCanceled?: boolean;
  externalEventName?: string;
  retryOptions?: RetryOptionsPayload;
  compoundActions?: SdkAction[];
  httpRequest?: Record<string, unknown>;
  version?: string;
}

export const ActionType = {
  CallActivity: 0,
  CallActivityWithRetry: 1,
  CallSubOrchestrator: 2,
  CallSubOrchestratorWithRetry: 3,
  ContinueAsNew: 4,
  CreateTimer: 5,
  WaitForExternalEvent: 6,
  CallEntity: 7,
  CallHttp: 8,
  SignalEntity: 9,
  ScheduledSignalEntity: 10,
  WhenAny: 11,
  WhenAll: 12,
  LockEntities: 13,
  ReleaseEntities: 14,
} as const;
