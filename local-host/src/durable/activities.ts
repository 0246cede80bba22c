// Activities: invoke the activity function (or the built-in HTTP activity) and hand the result to
// the instance as a volatile TaskCompleted / TaskFailed; it becomes durable with the next
// episode, so an activity whose result was not committed runs again (at-least-once).
import { randomUUID } from "node:crypto";
import { FunctionInvocationError, type FunctionInvoker } from "../contracts";
import type { OrchestrationSpans } from "../telemetry/orchestrationSpans";
import { decodeReturn, nowIso, type FunctionRegistry } from "./functions";
import { jsonText } from "./replay";
import type { ActivityItem, Scheduler } from "./scheduler";
import type { EngineState } from "./state";
import { EventType, historyEvent, type HistoryEvent } from "./types";

export class ActivityRunner {
  constructor(
    private readonly state: EngineState,
    private readonly scheduler: Scheduler,
    private readonly functions: FunctionRegistry,
    private readonly invoker: FunctionInvoker,
    private readonly spans: OrchestrationSpans | undefined,
    private readonly report: (level: "info" | "warn", message: string) => void,
  ) {}

  async run(item: ActivityItem): Promise<void> {
    if (this.scheduler.stopped) return;
    const inst = this.state.live.get(item.instanceId);
    if (!inst || inst.executionId !== item.executionId) return;
    let event: HistoryEvent;
    try {
      const value = item.http ? await runHttp(item.http) : await this.#invoke(item);
      event = historyEvent(EventType.TaskCompleted, nowIso(), {
        TaskScheduledId: item.id,
        Result: jsonText(value),
      });
    } catch (err) {
      if (!(err instanceof FunctionInvocationError) && !item.http) {
        // Infrastructure failure (worker exited): run the activity again (at-least-once).
        if (this.scheduler.stopped) return;
        item.attempt++;
        const delay = Math.min(100 * 2 ** Math.min(item.attempt, 6), 5000);
        this.report(
          "warn",
          `Activity '${item.name}' could not run (${String(err)}); retrying in ${delay} ms.`,
        );
        this.scheduler.retryActivity(item, delay);
        return;
      }
      event = taskFailedEvent(item, err);
    }
    this.scheduler.pushVolatile(item.instanceId, item.executionId, event);
  }

  async #invoke(item: ActivityItem): Promise<unknown> {
    const fn = this.functions.ofKind(item.name, "activity");
    if (!fn) {
      throw new FunctionInvocationError(
        item.name,
        `The function '${item.name}' doesn't exist, is disabled, or is not an activity function.`,
      );
    }
    // The Functions host's line for every invocation, activities included: it tells an operator
    // (or a fault test) that the worker is now inside this activity.
    const invocationId = randomUUID();
    this.report(
      "info",
      `Executing 'Functions.${fn.name}' (Reason='(null)', Id=${invocationId}, InstanceId=${item.instanceId})`,
    );
    const response = await this.invoker.invoke(fn.name, {
      invocationId,
      inputData: [{ name: fn.binding, data: { json: item.input } }],
      traceContext: this.spans?.traceContext(item.instanceId),
    });
    return decodeReturn(response.returnValue);
  }
}

function taskFailedEvent(item: ActivityItem, err: unknown): HistoryEvent {
  const message = err instanceof Error ? err.message : String(err);
  const details =
    err instanceof FunctionInvocationError ? (err.details ?? "") : ((err as Error)?.stack ?? "");
  const event: HistoryEvent = historyEvent(EventType.TaskFailed, nowIso(), {
    TaskScheduledId: item.id,
    Reason: `Activity function '${item.name}' failed: ${message}`,
    Details: details,
  });
  // With an exception-properties provider registered, the SDK sends failure details as JSON.
  try {
    const parsed = JSON.parse(message) as Record<string, unknown>;
    if (parsed && typeof parsed.errorType === "string" && typeof parsed.errorMessage === "string") {
      event.Reason = `Activity function '${item.name}' failed: ${parsed.errorMessage}`;
      event.FailureDetails = {
        ErrorType: parsed.errorType,
        ErrorMessage: parsed.errorMessage,
        StackTrace: parsed.stackTrace ?? details,
        IsNonRetriable: parsed.isNonRetriable === true,
        Properties: parsed.properties,
      };
    }
  } catch {
    // a plain message
  }
  return event;
}

/** The extension's built-in HTTP activity (context.df.callHttp). */
async function runHttp(request: Record<string, unknown>): Promise<unknown> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries((request.headers as Record<string, unknown>) ?? {})) {
    headers[k] = Array.isArray(v) ? v.join(", ") : String(v);
  }
  const method = String(request.method ?? "GET").toUpperCase();
  const content = request.content;
  const res = await fetch(String(request.uri), {
    method,
    headers,
    body:
      content === undefined || content === null || method === "GET" || method === "HEAD"
        ? undefined
        : typeof content === "string"
          ? content
          : JSON.stringify(content),
    signal: AbortSignal.timeout(Number(request.timeout) > 0 ? Number(request.timeout) : 90_000),
  });
  const resHeaders: Record<string, string> = {};
  res.headers.forEach((v, k) => (resHeaders[k] = v));
  return { statusCode: res.status, headers: resHeaders, content: await res.text() };
}
