// What the management HTTP API (http.ts) needs from the engine: http.ts depends on this
// interface, not on engine.ts, so the engine and its HTTP layer have no import cycle.
import type { EntityRecord, HistoryEvent, InstanceRecord, InstanceSummary } from "./types";

export interface ManagementApi {
  readonly options: { readonly systemKey?: string; readonly publicBaseUrl: string };
  /** `taskHub=..&connection=Storage[&code=..]`, as the extension appends to management URLs. */
  querySuffix(): string;
  /** The write error while the log holds appends back (the disk is full), else undefined. */
  readonly persistenceStalled: Error | undefined;
  /** `work`, unless the log starts holding appends back first (then DurableLogStalledError). */
  untilStalled<T>(work: Promise<T>): Promise<T>;
  startNew(
    name: string,
    instanceId: string | undefined,
    input: string | null,
    version?: string,
    traceparent?: string,
  ): Promise<string>;
  waitForCompletion(instanceId: string, timeoutMs: number): Promise<InstanceRecord | undefined>;
  getInstance(id: string): InstanceRecord | undefined;
  /** Every instance, live and finished, without history (load a page with getInstance). */
  listInstances(): InstanceSummary[];
  getEntity(id: string): EntityRecord | undefined;
  listEntities(): Iterable<EntityRecord>;
  sendToInstance(instanceId: string, event: HistoryEvent): Promise<void>;
  raiseEvent(instanceId: string, name: string, data: string): Promise<void>;
  terminate(instanceId: string, reason: string | null): Promise<void>;
  suspend(instanceId: string, reason: string | null): Promise<void>;
  resume(instanceId: string, reason: string | null): Promise<void>;
  restart(instanceId: string, newInstanceId: boolean): Promise<string>;
  rewind(instanceId: string): Promise<void>;
  purge(instanceIds: string[]): Promise<number>;
  purgeEntity(entityId: string): Promise<boolean>;
  signalEntity(name: string, key: string, op: string, input: string | undefined): Promise<void>;
}
