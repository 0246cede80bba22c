// The extension's management HTTP API (HttpApiHandler.cs): the same routes under the public
// webhook base (/runtime/webhooks/durabletask, system key required when keys are enforced) and
// the loopback rpc base (/durabletask/) that DurableClient uses, with the same status codes,
// Location / Retry-After headers and continuation tokens.
import type { HostHttpRequest, HostHttpResponse, ManagementChannel } from "../contracts";
import { DurableLogStalledError } from "../../../durable-log/src";
import { count } from "../counters";
// The engine as this layer sees it (an interface: no import of engine.ts, so no cycle).
import type { ManagementApi as DurableEngine } from "./api";
import { BadRequestError, StartConflictError } from "./errors";
import {
  EventType,
  EventTypeName,
  TERMINAL,
  type HistoryEvent,
  type InstanceRecord,
  type InstanceSummary,
  type RuntimeStatus,
} from "./types";

const WEBHOOK_BASE = "/runtime/webhooks/durabletask";
const RPC_BASE = "/durabletask";
const STATUSES: RuntimeStatus[] = [
  "Pending",
  "Running",
  "Completed",
  "ContinuedAsNew",
  "Failed",
  "Canceled",
  "Terminated",
  "Suspended",
];

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): HostHttpResponse {
  return {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
    body: JSON.stringify(body),
  };
}

function empty(status: number, headers: Record<string, string> = {}): HostHttpResponse {
  return { status, headers };
}

function error(status: number, message: string): HostHttpResponse {
  return json(status, { Message: message });
}

/** DateTime "s" format + Z, as the extension prints createdTime / lastUpdatedTime. */
function formatTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, "Z");
}

function parseValue(text: string | null): unknown {
  if (text === null || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function parseBool(v: string | null): boolean | undefined {
  if (v === null) return undefined;
  if (/^true$/i.test(v)) return true;
  if (/^false$/i.test(v)) return false;
  return undefined;
}

function parseDate(v: string | null): Date | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function parseStatuses(v: string[]): RuntimeStatus[] {
  const out: RuntimeStatus[] = [];
  for (const part of v.flatMap((x) => x.split(","))) {
    const s = STATUSES.find((x) => x.toLowerCase() === part.trim().toLowerCase());
    if (s) out.push(s);
  }
  return out;
}

function header(req: HostHttpRequest, name: string): string | undefined {
  const lower = name.toLowerCase();
  for (const [k, v] of Object.entries(req.headers)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** The history shape the extension returns with showHistory (names, merged scheduling info). */
function formatHistory(inst: InstanceRecord, showOutput: boolean): Record<string, unknown>[] {
  const scheduled = new Map<number, HistoryEvent>();
  for (const e of inst.history) {
    if (
      e.EventType === EventType.TaskScheduled ||
      e.EventType === EventType.SubOrchestrationInstanceCreated
    ) {
      scheduled.set(e.EventId, e);
    }
  }
  const out: Record<string, unknown>[] = [];
  for (const e of inst.history) {
    const base: Record<string, unknown> = {
      EventType: EventTypeName[e.EventType],
      Timestamp: e.Timestamp,
    };
    switch (e.EventType) {
      case EventType.OrchestratorStarted:
      case EventType.OrchestratorCompleted:
      case EventType.TaskScheduled:
      case EventType.SubOrchestrationInstanceCreated:
        continue;
      case EventType.ExecutionStarted:
        base.FunctionName = e.Name;
        if (showOutput) base.Input = parseValue(e.Input as string | null);
        break;
      case EventType.TaskCompleted:
      case EventType.TaskFailed:
      case EventType.SubOrchestrationInstanceCompleted:
      case EventType.SubOrchestrationInstanceFailed: {
        const s = scheduled.get(Number(e.TaskScheduledId));
        base.FunctionName = s?.Name;
        base.ScheduledTime = s?.Timestamp;
        if (
          e.EventType === EventType.SubOrchestrationInstanceCompleted ||
          e.EventType === EventType.SubOrchestrationInstanceFailed
        ) {
          base.InstanceId = s?.InstanceId;
        }
        if (e.Reason !== undefined) base.Reason = e.Reason;
        if (e.Details !== undefined) base.Details = e.Details;
        if (showOutput && e.Result !== undefined) base.Result = parseValue(e.Result as string);
        break;
      }
      case EventType.TimerCreated:
      case EventType.TimerFired:
        base.FireAt = e.FireAt;
        break;
      case EventType.EventRaised:
        base.Name = e.Name;
        if (showOutput) base.Input = parseValue(e.Input as string | null);
        break;
      case EventType.EventSent:
        base.Name = e.Name;
        base.InstanceId = e.InstanceId;
        break;
      case EventType.ExecutionCompleted:
        base.OrchestrationStatus = e.OrchestrationStatus;
        if (showOutput) base.Result = parseValue(e.Result as string);
        if (e.FailureDetails) base.FailureDetails = e.FailureDetails;
        break;
      case EventType.ExecutionTerminated:
        base.Input = parseValue(e.Input as string | null);
        break;
      default:
        break;
    }
    out.push(base);
  }
  return out;
}

export function statusPayload(
  inst: InstanceRecord,
  opts: { showHistory?: boolean; showHistoryOutput?: boolean; showInput?: boolean } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = {
    name: inst.name,
    instanceId: inst.instanceId,
    runtimeStatus: inst.status,
    input: opts.showInput === false ? null : parseValue(inst.input),
    customStatus: parseValue(inst.customStatus),
    output: parseValue(inst.output),
    createdTime: formatTime(inst.createdTime),
    lastUpdatedTime: formatTime(inst.lastUpdatedTime),
  };
  if (opts.showHistory) {
    const history = formatHistory(inst, opts.showHistoryOutput === true);
    body.historyEvents = history;
    body.history = history; // the JS SDK reads `history` (azure-functions-durable-js#620)
  }
  return body;
}

function managementUrls(
  engine: DurableEngine,
  origin: string,
  instanceId: string,
): Record<string, string> {
  const base = `${origin}${WEBHOOK_BASE}/instances/${encodeURIComponent(instanceId)}`;
  const q = engine.querySuffix();
  return {
    id: instanceId,
    statusQueryGetUri: `${base}?${q}`,
    sendEventPostUri: `${base}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${base}/terminate?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${base}?${q}`,
    restartPostUri: `${base}/restart?${q}`,
    suspendPostUri: `${base}/suspend?reason={text}&${q}`,
    resumePostUri: `${base}/resume?reason={text}&${q}`,
  };
}

function checkStatusResponse(
  engine: DurableEngine,
  origin: string,
  instanceId: string,
): HostHttpResponse {
  const urls = managementUrls(engine, origin, instanceId);
  return json(202, urls, { Location: urls.statusQueryGetUri, "Retry-After": "10" });
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

function decodeToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const v = JSON.parse(Buffer.from(token, "base64url").toString()) as { o?: unknown };
    return typeof v.o === "number" && v.o >= 0 ? v.o : 0;
  } catch {
    return 0;
  }
}

function parseJsonBody(body: Buffer): { ok: true; text: string | null } | { ok: false } {
  const raw = body.toString("utf8");
  if (raw.length === 0) return { ok: true, text: null };
  try {
    return { ok: true, text: JSON.stringify(JSON.parse(raw)) };
  } catch {
    return { ok: false };
  }
}

export async function handleManagementRequest(
  engine: DurableEngine,
  req: HostHttpRequest,
  channel: ManagementChannel,
): Promise<HostHttpResponse | undefined> {
  const base = channel === "webhook" ? WEBHOOK_BASE : RPC_BASE;
  const pathname = req.url.pathname;
  if (pathname !== base && !pathname.startsWith(`${base}/`)) return undefined;

  if (channel === "webhook" && engine.options.systemKey) {
    const code = req.url.searchParams.get("code") ?? header(req, "x-functions-key");
    if (code !== engine.options.systemKey)
      return error(401, "A valid system key is required (code=... or x-functions-key).");
  }

  const segments = pathname
    .slice(base.length)
    .split("/")
    .filter((s) => s.length > 0)
    .map((s) => decodeURIComponent(s));
  const origin =
    channel === "webhook" ? req.url.origin : engine.options.publicBaseUrl.replace(/\/$/, "");

  // While the log cannot write (the disk is full) nothing is acknowledged and nothing is read
  // that a crash could take back; the log retries by itself and requests succeed again after.
  const stalled = (): HostHttpResponse => {
    const res = error(503, "The task hub cannot persist changes for now; retry later.");
    return { ...res, headers: { ...res.headers, "Retry-After": "1" } };
  };
  if (engine.persistenceStalled) return stalled();
  try {
    return await engine.untilStalled(route(engine, req, segments, origin));
  } catch (err) {
    if (err instanceof DurableLogStalledError) return stalled();
    throw err;
  }
}

async function route(
  engine: DurableEngine,
  req: HostHttpRequest,
  segments: string[],
  origin: string,
): Promise<HostHttpResponse> {
  const method = req.method.toUpperCase();
  const query = req.url.searchParams;
  try {
    const [controller, a, b, c] = segments;
    if (controller === "orchestrators" && a && segments.length <= 3) {
      if (method !== "POST") return empty(404);
      return await startOrchestration(engine, req, origin, a, b);
    }
    if (controller === "entities" && segments.length <= 3) {
      return await entityRoute(engine, req, method, a, b);
    }
    if (controller === "instances") {
      if (segments.length === 1) {
        if (method === "GET") return listInstances(engine, req);
        if (method === "DELETE") return await purgeByFilter(engine, query);
        return empty(404);
      }
      if (segments.length === 2) {
        if (method === "GET") return getStatus(engine, req, a);
        if (method === "DELETE") return await purgeOne(engine, a);
        return empty(404);
      }
      if (segments.length === 4 && b === "raiseEvent" && c) {
        if (method !== "POST") return empty(404);
        return await raiseEvent(engine, req, a, c);
      }
      if (segments.length === 3 && method === "POST") {
        return await instanceOperation(engine, req, origin, a, b);
      }
      return empty(404);
    }
    return empty(404);
  } catch (err) {
    if (err instanceof BadRequestError) return error(400, err.message);
    if (err instanceof StartConflictError) return error(409, err.message);
    return error(
      500,
      `Something went wrong while processing your request: ${(err as Error).message}`,
    );
  }
}

async function startOrchestration(
  engine: DurableEngine,
  req: HostHttpRequest,
  origin: string,
  functionName: string,
  instanceId: string | undefined,
): Promise<HostHttpResponse> {
  const body = parseJsonBody(req.body);
  if (!body.ok) return error(400, "Invalid JSON content");
  const id = await engine.startNew(
    functionName,
    instanceId,
    body.text,
    req.url.searchParams.get("version") ?? undefined,
    req.headers.traceparent,
  );
  return waitOrCheckStatus(engine, req, origin, id);
}

async function waitOrCheckStatus(
  engine: DurableEngine,
  req: HostHttpRequest,
  origin: string,
  id: string,
): Promise<HostHttpResponse> {
  const timeout = Number(req.url.searchParams.get("timeout"));
  const interval = Number(req.url.searchParams.get("pollingInterval"));
  if (timeout > 0 && interval > 0) {
    const inst = await engine.waitForCompletion(id, timeout * 1000);
    if (inst?.status === "Completed") return json(200, parseValue(inst.output));
    if (inst && TERMINAL.has(inst.status)) return json(200, statusPayload(inst));
  }
  return checkStatusResponse(engine, origin, id);
}

/** The fields a status payload without history is made of; equal fields, equal JSON. */
interface StatusText {
  status: string;
  lastUpdatedTime: string;
  input: string | null;
  customStatus: string | null | undefined;
  output: string | null | undefined;
  executionId: string;
  showInput: boolean;
  text: string;
}

/**
 * The status JSON of each instance as last served (SDK waits poll it every few ms): rebuilt only
 * when a field it is made of changed, so a poll of an unchanged instance parses and stringifies
 * nothing. Weak: dropping an instance drops its entry.
 */
const statusTexts = new WeakMap<InstanceRecord, StatusText>();

function statusText(inst: InstanceRecord, showInput: boolean): string {
  const c = statusTexts.get(inst);
  if (
    c &&
    c.status === inst.status &&
    c.lastUpdatedTime === inst.lastUpdatedTime &&
    c.input === inst.input &&
    c.customStatus === inst.customStatus &&
    c.output === inst.output &&
    c.executionId === inst.executionId &&
    c.showInput === showInput
  ) {
    return c.text;
  }
  const text = JSON.stringify(statusPayload(inst, { showInput }));
  statusTexts.set(inst, {
    status: inst.status,
    lastUpdatedTime: inst.lastUpdatedTime,
    input: inst.input,
    customStatus: inst.customStatus,
    output: inst.output,
    executionId: inst.executionId,
    showInput,
    text,
  });
  return text;
}

function getStatus(
  engine: DurableEngine,
  req: HostHttpRequest,
  instanceId: string,
): HostHttpResponse {
  count("durable.statusReads");
  const inst = engine.getInstance(instanceId);
  if (!inst) return empty(404);
  const q = req.url.searchParams;
  const showInput = parseBool(q.get("showInput")) ?? true;
  const body =
    parseBool(q.get("showHistory")) === true
      ? JSON.stringify(
          statusPayload(inst, {
            showHistory: true,
            showHistoryOutput: parseBool(q.get("showHistoryOutput")) === true,
            showInput,
          }),
        )
      : statusText(inst, showInput);
  const answer = (status: number, headers: Record<string, string> = {}): HostHttpResponse => ({
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", ...headers },
    body,
  });
  switch (inst.status) {
    case "Running":
    case "Pending":
    case "ContinuedAsNew":
    case "Suspended":
      return answer(202, { Location: req.url.href, "Retry-After": "5" });
    case "Failed":
      return answer(parseBool(q.get("returnInternalServerErrorOnFailure")) ? 500 : 200);
    default:
      return answer(200);
  }
}

function filterInstances(engine: DurableEngine, q: URLSearchParams): InstanceSummary[] {
  const from = parseDate(q.get("createdTimeFrom"));
  const to = parseDate(q.get("createdTimeTo"));
  const statuses = parseStatuses(q.getAll("runtimeStatus"));
  const prefix = q.get("instanceIdPrefix");
  return engine
    .listInstances()
    .filter((i) => {
      const created = new Date(i.createdTime).getTime();
      if (from && created < from.getTime()) return false;
      if (to && created > to.getTime()) return false;
      if (statuses.length > 0 && !statuses.includes(i.status)) return false;
      if (prefix && !i.instanceId.startsWith(prefix)) return false;
      return true;
    })
    .sort((x, y) =>
      x.createdTime === y.createdTime
        ? x.instanceId.localeCompare(y.instanceId)
        : x.createdTime.localeCompare(y.createdTime),
    );
}

function listInstances(engine: DurableEngine, req: HostHttpRequest): HostHttpResponse {
  const q = req.url.searchParams;
  const all = filterInstances(engine, q);
  const top = Number(q.get("top"));
  const offset = decodeToken(header(req, "x-ms-continuation-token"));
  const size = Number.isInteger(top) && top > 0 ? top : 100;
  const page = all.slice(offset, offset + size);
  const showInput = parseBool(q.get("showInput")) ?? false;
  const headers: Record<string, string> = {};
  if (offset + size < all.length) headers["x-ms-continuation-token"] = encodeToken(offset + size);
  const records = page.map((i) => engine.getInstance(i.instanceId)).filter((i) => i !== undefined);
  return json(
    200,
    records.map((i) => statusPayload(i, { showInput })),
    headers,
  );
}

async function purgeOne(engine: DurableEngine, instanceId: string): Promise<HostHttpResponse> {
  if (instanceId.startsWith("@")) {
    return (await engine.purgeEntity(instanceId)) ? json(200, { instancesDeleted: 1 }) : empty(404);
  }
  const inst = engine.getInstance(instanceId);
  if (!inst) return empty(404);
  if (!TERMINAL.has(inst.status)) {
    return error(
      412,
      `Only orchestrations in a terminal state can be purged, but the orchestration with instance ID ${instanceId} has status ${inst.status}`,
    );
  }
  const deleted = await engine.purge([instanceId]);
  return json(200, { instancesDeleted: deleted });
}

async function purgeByFilter(engine: DurableEngine, q: URLSearchParams): Promise<HostHttpResponse> {
  if (!parseDate(q.get("createdTimeFrom"))) {
    return json(400, "Please provide value for 'createdTimeFrom' parameter.");
  }
  const targets = filterInstances(engine, q).filter((i) => TERMINAL.has(i.status));
  const deleted = await engine.purge(targets.map((i) => i.instanceId));
  if (deleted === 0) return empty(404);
  return json(200, { instancesDeleted: deleted });
}

async function raiseEvent(
  engine: DurableEngine,
  req: HostHttpRequest,
  instanceId: string,
  eventName: string,
): Promise<HostHttpResponse> {
  const inst = engine.getInstance(instanceId);
  if (!inst) return empty(404);
  if (TERMINAL.has(inst.status)) return empty(410);
  const type = (header(req, "content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (type !== "application/json")
    return error(400, "Only application/json request content is supported");
  const body = parseJsonBody(req.body);
  if (!body.ok) return error(400, "Invalid JSON content");
  await engine.raiseEvent(instanceId, eventName, body.text ?? "null");
  return empty(202);
}

async function instanceOperation(
  engine: DurableEngine,
  req: HostHttpRequest,
  origin: string,
  instanceId: string,
  operation: string,
): Promise<HostHttpResponse> {
  const op = operation.toLowerCase();
  const reason = req.url.searchParams.get("reason");
  const inst = engine.getInstance(instanceId);
  if (op === "restart") {
    if (!inst) return error(400, "InstanceId does not match a valid orchestration instance.");
    const fresh = parseBool(req.url.searchParams.get("restartWithNewInstanceId")) ?? true;
    try {
      const id = await engine.restart(instanceId, fresh);
      return await waitOrCheckStatus(engine, req, origin, id);
    } catch (err) {
      if (err instanceof StartConflictError) {
        return error(409, "A non-terminal instance with this instance ID already exists.");
      }
      throw err;
    }
  }
  if (op === "rewind") {
    if (!inst) return json(404, `No orchestration with instance ID "${instanceId}" found.`);
    if (inst.status !== "Failed") {
      return json(
        412,
        `This orchestration has status ${inst.status}, but only orchestrations in the "Failed" state can be rewound.`,
      );
    }
    await engine.rewind(instanceId);
    return empty(202);
  }
  if (op !== "terminate" && op !== "suspend" && op !== "resume") return empty(404);
  if (!inst) return empty(404);
  if (TERMINAL.has(inst.status)) return empty(410);
  if (op === "terminate") await engine.terminate(instanceId, reason);
  else if (op === "suspend") await engine.suspend(instanceId, reason);
  else await engine.resume(instanceId, reason);
  return empty(202);
}

async function entityRoute(
  engine: DurableEngine,
  req: HostHttpRequest,
  method: string,
  name: string | undefined,
  key: string | undefined,
): Promise<HostHttpResponse> {
  if (method === "GET") {
    if (!name) return error(400, "An entity name is required.");
    if (key === undefined || key === "") {
      const list = [...engineEntities(engine, name)].map((e) => ({
        entityId: { name: e.name, key: e.key },
        lastOperationTime: formatTime(e.lastModified),
        state: e.state === undefined ? null : parseValue(e.state),
      }));
      return json(200, list);
    }
    const entity = engine.getEntity(`@${name.toLowerCase()}@${key === "$" ? "" : key}`);
    if (!entity || !entity.exists) return empty(404);
    return json(200, entity.state === undefined ? null : parseValue(entity.state));
  }
  if (method === "POST" || method === "DELETE") {
    if (!name || key === undefined) return error(400, "Both an entity name and key are required.");
    const op = method === "DELETE" ? "delete" : (req.url.searchParams.get("op") ?? "");
    let input: string | undefined;
    if (req.body.length > 0) {
      const type = (header(req, "content-type") ?? "").split(";")[0].trim().toLowerCase();
      if (type === "application/json") {
        const parsed = parseJsonBody(req.body);
        if (!parsed.ok) return error(400, "Could not parse JSON content");
        input = parsed.text ?? undefined;
      } else {
        input = JSON.stringify(req.body.toString("utf8"));
      }
    }
    await engine.signalEntity(name, key, op, input);
    return empty(202);
  }
  return empty(404);
}

function* engineEntities(engine: DurableEngine, name: string) {
  const lower = name.toLowerCase();
  for (const e of engine.listEntities()) if (e.name === lower && e.exists) yield e;
}
