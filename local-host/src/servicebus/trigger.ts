// Service Bus triggers as the extension runs them: one peek-lock receiver per registration,
// concurrency from host.json extensions.serviceBus, the message body and metadata handed to the
// function, complete on success and abandon on failure (so the broker redelivers and, after
// maxDeliveryCount, dead-letters).
import { randomUUID } from "node:crypto";
import {
  ServiceBusClient,
  isServiceBusError,
  type ServiceBusReceivedMessage,
  type ServiceBusReceiver,
  type ServiceBusSessionReceiver,
} from "@azure/service-bus";
import type { FunctionInfo, FunctionInvoker } from "../contracts";
import type { RpcBindingInfo, RpcParameterBinding, RpcTypedData } from "../worker/functionsCore";
import type { HostLog } from "../worker/process";
import { expandSettings, resolveConnectionSetting, SettingsError } from "../settings";
import { fromApplicationProperties } from "../telemetry/traceContext";

// Loaded only for identity connections: it is a large module and local runs rarely need it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadIdentity = () => require("@azure/identity") as typeof import("@azure/identity");

export interface ServiceBusTriggerOptions {
  functions: FunctionInfo[];
  env: Record<string, string>;
  invoker: FunctionInvoker;
  /** host.json extensions.serviceBus. */
  settings?: Record<string, unknown>;
  extraInputs?: (
    fn: FunctionInfo,
    binding: [string, RpcBindingInfo],
  ) => RpcParameterBinding | undefined;
  log: HostLog;
}

export interface ServiceBusRegistration {
  functionName: string;
  triggerName: string;
  connection: string;
  queueName?: string;
  topicName?: string;
  subscriptionName?: string;
  sessions: boolean;
}

/** "hh:mm:ss" (or "d.hh:mm:ss") TimeSpan strings as host.json uses them, in milliseconds. */
export function parseTimeSpan(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return value * 1000;
  const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2}(?:\.\d+)?)$/.exec(String(value));
  if (!m)
    throw new SettingsError(`host.json ${where}: '${String(value)}' is not a TimeSpan (hh:mm:ss).`);
  const [, d = "0", h, min, s] = m;
  return ((Number(d) * 24 + Number(h)) * 60 + Number(min)) * 60000 + Number(s) * 1000;
}

function positiveInt(value: unknown, where: string, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0)
    throw new SettingsError(`host.json ${where} must be a non-negative integer.`);
  return n;
}

/** The registrations, plus the functions that are in error (logged, not run, like the host). */
export function serviceBusRegistrations(
  functions: FunctionInfo[],
  env: Record<string, string>,
): {
  registrations: ServiceBusRegistration[];
  errors: { functionName: string; message: string }[];
} {
  const out: ServiceBusRegistration[] = [];
  const errors: { functionName: string; message: string }[] = [];
  for (const fn of functions) {
    try {
      out.push(...registrationsOf(fn, env));
    } catch (err) {
      errors.push({ functionName: fn.name, message: (err as Error).message });
    }
  }
  return { registrations: out, errors };
}

function registrationsOf(fn: FunctionInfo, env: Record<string, string>): ServiceBusRegistration[] {
  const out: ServiceBusRegistration[] = [];
  {
    for (const [name, info] of Object.entries(fn.bindings)) {
      if (String(info.type).toLowerCase() !== "servicebustrigger") continue;
      const where = `function '${fn.name}'`;
      const str = (v: unknown) =>
        typeof v === "string" && v ? expandSettings(v, env, where) : undefined;
      if (String(info.cardinality ?? "one").toLowerCase() === "many") {
        throw new SettingsError(
          `${where}: serviceBusTrigger with cardinality 'many' is not supported by the local host.`,
        );
      }
      const reg: ServiceBusRegistration = {
        functionName: fn.name,
        triggerName: name,
        connection: str(info.connection) ?? "AzureWebJobsServiceBus",
        queueName: str(info.queueName),
        topicName: str(info.topicName),
        subscriptionName: str(info.subscriptionName),
        sessions: info.isSessionsEnabled === true,
      };
      if (!reg.queueName && !(reg.topicName && reg.subscriptionName)) {
        throw new SettingsError(
          `${where}: serviceBusTrigger needs queueName, or topicName and subscriptionName.`,
        );
      }
      out.push(reg);
    }
  }
  return out;
}

/** The message body as the extension hands it to a Node function. */
export function bodyAsTypedData(body: unknown): RpcTypedData {
  if (body === undefined || body === null) return { string: "" };
  if (Buffer.isBuffer(body) || body instanceof Uint8Array) {
    const bytes = Buffer.from(body);
    try {
      return { string: new TextDecoder("utf-8", { fatal: true }).decode(bytes) };
    } catch {
      return { bytes };
    }
  }
  if (typeof body === "string") return { string: body };
  return { json: JSON.stringify(body) };
}

function metaValue(value: unknown): RpcTypedData | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "string") return { string: value };
  if (typeof value === "number")
    return Number.isInteger(value) ? { int: value } : { double: value };
  if (typeof value === "boolean") return { json: JSON.stringify(value) };
  if (value instanceof Date) {
    // "Never expires" is year 31197 in JS; .NET (and so the extension) caps at DateTime.MaxValue.
    const iso = value.getUTCFullYear() > 9999 ? "9999-12-31T23:59:59.999Z" : value.toISOString();
    return { json: JSON.stringify(iso) };
  }
  if (typeof (value as { toNumber?: unknown }).toNumber === "function") {
    return { int: (value as { toNumber(): number }).toNumber() };
  }
  return { json: JSON.stringify(value) };
}

/** Binding data the extension provides for a received message (PascalCase, as the host sends). */
export function triggerMetadataOf(msg: ServiceBusReceivedMessage): Record<string, RpcTypedData> {
  const props: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(msg.applicationProperties ?? {})) {
    props[k] = v instanceof Date ? v.toISOString() : v;
  }
  const raw: Record<string, unknown> = {
    MessageId: msg.messageId,
    DeliveryCount: msg.deliveryCount,
    EnqueuedTimeUtc: msg.enqueuedTimeUtc,
    ExpiresAtUtc: msg.expiresAtUtc,
    LockedUntilUtc: msg.lockedUntilUtc,
    LockToken: msg.lockToken,
    SequenceNumber: msg.sequenceNumber,
    ContentType: msg.contentType,
    CorrelationId: msg.correlationId,
    SessionId: msg.sessionId,
    Subject: msg.subject,
    Label: msg.subject,
    To: msg.to,
    ReplyTo: msg.replyTo,
    ReplyToSessionId: msg.replyToSessionId,
    PartitionKey: msg.partitionKey,
    DeadLetterSource: msg.deadLetterSource,
    ApplicationProperties: props,
    UserProperties: props,
  };
  const out: Record<string, RpcTypedData> = {};
  for (const [k, v] of Object.entries(raw)) {
    const typed = metaValue(v);
    if (typed) out[k] = typed;
  }
  return out;
}

interface Settings {
  maxConcurrentCalls: number;
  prefetchCount: number;
  maxAutoLockRenewalDurationInMs: number;
  maxConcurrentSessions: number;
  sessionIdleTimeoutMs: number;
}

function readSettings(raw: Record<string, unknown> = {}): Settings {
  // v5 extension settings are flat; the v4 shape nested them under messageHandlerOptions.
  const handler = (raw.messageHandlerOptions ?? {}) as Record<string, unknown>;
  const session = (raw.sessionHandlerOptions ?? {}) as Record<string, unknown>;
  const cores = 2; // the extension defaults to 16 × processor count; locally a fixed value is saner
  return {
    maxConcurrentCalls: Math.max(
      1,
      positiveInt(
        raw.maxConcurrentCalls ?? handler.maxConcurrentCalls,
        "extensions.serviceBus.maxConcurrentCalls",
        16 * cores,
      ),
    ),
    prefetchCount: positiveInt(raw.prefetchCount, "extensions.serviceBus.prefetchCount", 0),
    maxAutoLockRenewalDurationInMs:
      parseTimeSpan(
        raw.maxAutoLockRenewalDuration ?? handler.maxAutoRenewDuration,
        "extensions.serviceBus.maxAutoLockRenewalDuration",
      ) ?? 5 * 60 * 1000,
    maxConcurrentSessions: Math.max(
      1,
      positiveInt(
        raw.maxConcurrentSessions ?? session.maxConcurrentSessions,
        "extensions.serviceBus.maxConcurrentSessions",
        8,
      ),
    ),
    sessionIdleTimeoutMs:
      parseTimeSpan(
        raw.sessionIdleTimeout ?? session.messageWaitTimeout,
        "extensions.serviceBus.sessionIdleTimeout",
      ) ?? 1000,
  };
}

export class ServiceBusTriggers {
  readonly registrations: ServiceBusRegistration[];
  readonly #options: ServiceBusTriggerOptions;
  readonly #settings: Settings;
  readonly #clients = new Map<string, ServiceBusClient>();
  readonly #receivers: (ServiceBusReceiver | ServiceBusSessionReceiver)[] = [];
  readonly #loops: Promise<void>[] = [];
  readonly #subscriptions: { close(): Promise<void> }[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  /** Per receiver: the tail of its settlement chain (see #settle). */
  readonly #settling = new WeakMap<object, Promise<void>>();
  #stopped = false;
  readonly #abort = new AbortController();

  constructor(options: ServiceBusTriggerOptions) {
    this.#options = options;
    this.#settings = readSettings(options.settings);
    const { registrations, errors } = serviceBusRegistrations(options.functions, options.env);
    this.registrations = registrations;
    this.errors = errors;
  }

  /** Functions that cannot run (bad settings, missing connection): the host keeps serving the rest. */
  readonly errors: { functionName: string; message: string }[];

  #client(connection: string): ServiceBusClient {
    const existing = this.#clients.get(connection);
    if (existing) return existing;
    const env = this.#options.env;
    const connectionString = resolveConnectionSetting(connection, env);
    let client: ServiceBusClient;
    if (connectionString) {
      client = new ServiceBusClient(connectionString);
    } else {
      const fqns = env[`${connection}__fullyQualifiedNamespace`];
      if (!fqns) {
        throw new SettingsError(
          `Service Bus connection '${connection}' is not configured: set '${connection}' (a connection string) or '${connection}__fullyQualifiedNamespace'.`,
        );
      }
      // Identity-based connections use the same chain the extension does (managed identity,
      // Azure CLI, environment...), optionally pinned to a client id like the host's setting.
      const clientId = env[`${connection}__clientId`];
      const { DefaultAzureCredential } = loadIdentity();
      client = new ServiceBusClient(
        fqns,
        new DefaultAzureCredential(clientId ? { managedIdentityClientId: clientId } : {}),
      );
    }
    this.#clients.set(connection, client);
    return client;
  }

  start(): void {
    for (const reg of this.registrations) {
      let client: ServiceBusClient;
      try {
        client = this.#client(reg.connection);
      } catch (err) {
        this.errors.push({ functionName: reg.functionName, message: (err as Error).message });
        continue;
      }
      if (reg.sessions) {
        for (let i = 0; i < this.#settings.maxConcurrentSessions; i++) {
          this.#loops.push(this.#sessionLoop(client, reg));
        }
      } else {
        const receiver = reg.queueName
          ? client.createReceiver(reg.queueName, this.#receiverOptions())
          : client.createReceiver(reg.topicName!, reg.subscriptionName!, this.#receiverOptions());
        this.#receivers.push(receiver);
        const subscription = receiver.subscribe(
          {
            processMessage: (msg) => this.#process(reg, receiver, msg),
            processError: async (args) => {
              if (this.#stopped) return;
              this.#options.log(
                "warn",
                `Service Bus receiver for '${reg.functionName}' (${args.entityPath}): ${args.error.message}`,
              );
            },
          },
          {
            maxConcurrentCalls: this.#settings.maxConcurrentCalls,
            autoCompleteMessages: false,
          },
        );
        this.#subscriptions.push(subscription);
      }
    }
  }

  #receiverOptions() {
    return {
      receiveMode: "peekLock" as const,
      skipParsingBodyAsJson: true,
      skipConvertingDate: true,
      maxAutoLockRenewalDurationInMs: this.#settings.maxAutoLockRenewalDurationInMs,
    };
  }

  #sessionOptions() {
    return { ...this.#receiverOptions(), abortSignal: this.#abort.signal };
  }

  async #sessionLoop(client: ServiceBusClient, reg: ServiceBusRegistration): Promise<void> {
    while (!this.#stopped) {
      let receiver: ServiceBusSessionReceiver;
      try {
        receiver = reg.queueName
          ? await client.acceptNextSession(reg.queueName, this.#sessionOptions())
          : await client.acceptNextSession(
              reg.topicName!,
              reg.subscriptionName!,
              this.#sessionOptions(),
            );
      } catch (err) {
        if (this.#stopped) return;
        const quiet =
          isServiceBusError(err) &&
          (err.code === "ServiceTimeout" || err.code === "SessionCannotBeLocked");
        if (!quiet)
          this.#options.log(
            "warn",
            `Service Bus session receiver for '${reg.functionName}': ${(err as Error).message}`,
          );
        await new Promise((r) => setTimeout(r, quiet ? 10 : 1000));
        continue;
      }
      this.#receivers.push(receiver);
      try {
        // One message at a time per session keeps the session's order, as the extension does.
        while (!this.#stopped) {
          const messages = await receiver.receiveMessages(1, {
            maxWaitTimeInMs: this.#settings.sessionIdleTimeoutMs,
            abortSignal: this.#abort.signal,
          });
          if (messages.length === 0) break;
          for (const msg of messages) await this.#process(reg, receiver, msg);
        }
      } catch (err) {
        if (!this.#stopped)
          this.#options.log(
            "warn",
            `Service Bus session '${receiver.sessionId}' for '${reg.functionName}': ${(err as Error).message}`,
          );
      } finally {
        this.#receivers.splice(this.#receivers.indexOf(receiver), 1);
        await receiver.close().catch(() => undefined);
      }
    }
  }

  #process(
    reg: ServiceBusRegistration,
    receiver: ServiceBusReceiver | ServiceBusSessionReceiver,
    msg: ServiceBusReceivedMessage,
  ): Promise<void> {
    const run = this.#run(reg, receiver, msg);
    this.#inFlight.add(run);
    return run.finally(() => this.#inFlight.delete(run));
  }

  async #run(
    reg: ServiceBusRegistration,
    receiver: ServiceBusReceiver | ServiceBusSessionReceiver,
    msg: ServiceBusReceivedMessage,
  ): Promise<void> {
    const log = this.#options.log;
    const fn = this.#options.functions.find((f) => f.name === reg.functionName)!;
    const inputData: RpcParameterBinding[] = [
      { name: reg.triggerName, data: bodyAsTypedData(msg.body) },
    ];
    for (const binding of Object.entries(fn.bindings)) {
      if (binding[0] === reg.triggerName || binding[1].direction !== "in") continue;
      const extra = this.#options.extraInputs?.(fn, binding);
      if (extra) inputData.push(extra);
    }
    const invocationId = randomUUID();
    const started = Date.now();
    log(
      "info",
      `Executing 'Functions.${fn.name}' (Reason='(null)', Id=${invocationId})\nTrigger Details: MessageId: ${String(msg.messageId)}, SequenceNumber: ${String(msg.sequenceNumber)}, DeliveryCount: ${msg.deliveryCount}`,
    );
    let ok = false;
    try {
      await this.#options.invoker.invoke(fn.name, {
        invocationId,
        inputData,
        triggerMetadata: triggerMetadataOf(msg),
        traceContext: fromApplicationProperties(msg.applicationProperties),
      });
      ok = true;
      log(
        "info",
        `Executed 'Functions.${fn.name}' (Succeeded, Id=${invocationId}, Duration=${Date.now() - started}ms)`,
      );
    } catch (err) {
      const e = err as Error & { details?: string };
      log(
        "error",
        `Executed 'Functions.${fn.name}' (Failed, Id=${invocationId}, Duration=${Date.now() - started}ms)\n${e.details ?? e.message}`,
      );
    }
    try {
      await this.#settle(receiver, () =>
        ok ? receiver.completeMessage(msg) : receiver.abandonMessage(msg),
      );
    } catch (err) {
      // A lost lock means the broker redelivers the message: at-least-once, as with the extension.
      log(
        "warn",
        `Could not ${ok ? "complete" : "abandon"} message ${String(msg.messageId)} for '${fn.name}': ${(err as Error).message}`,
      );
    }
  }

  /**
   * Settles one message at a time per receiver. rhea 3.0.5 coalesces dispositions written in the
   * same tick for adjacent delivery ids into one range and, when the range so far holds a single
   * delivery, does not compare outcomes (`write_dispositions`: `first !== last && ...`): a
   * complete and an abandon issued together both reach the broker as `accepted`, and the
   * abandoned message is lost. Waiting for each settlement before issuing the next avoids it.
   */
  #settle(receiver: object, settle: () => Promise<void>): Promise<void> {
    const previous = this.#settling.get(receiver) ?? Promise.resolve();
    const next = previous.then(settle, settle);
    this.#settling.set(
      receiver,
      next.catch(() => undefined),
    );
    return next;
  }

  /** Stops receiving, waits for running invocations (up to the timeout) and closes the clients. */
  async stop(timeoutMs = 10000): Promise<void> {
    this.#stopped = true;
    // Stop taking messages (waiting session accepts are aborted), let running invocations
    // settle their messages, then close the links.
    this.#abort.abort();
    // The SDK's close can wait forever on a link that is still opening (a stop right after
    // start): every phase is bounded. Unsettled messages are redelivered after their lock.
    await bounded(Promise.allSettled(this.#subscriptions.map((s) => s.close())), 3000);
    // Session loops are not awaited: a pending accept ends when its client closes.
    await bounded(Promise.allSettled([...this.#inFlight]), timeoutMs);
    await bounded(Promise.allSettled(this.#receivers.map((r) => r.close())), 3000);
    await bounded(Promise.allSettled([...this.#clients.values()].map((c) => c.close())), 3000);
  }
}

function bounded(p: Promise<unknown>, ms: number): Promise<unknown> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).finally(
    () => clearTimeout(timer),
  );
}
