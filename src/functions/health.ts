// GET /api/health (anonymous): 200 when every dependency answers, 503 otherwise, with each one's
// state. Probes run in parallel with a deadline so a hung dependency cannot hang the probe.
// Failure details go to the log only: this endpoint is public.
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { json } from "../http/responses";
import { logError, logInfo } from "../observability/log";

export const HEALTH_TIMEOUT_MS = 5_000;

type DependencyState = { status: "up" | "down"; latencyMs: number };

async function probe(
  name: string,
  check: () => Promise<void>,
  context: InvocationContext,
): Promise<DependencyState> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer within ${HEALTH_TIMEOUT_MS} ms`)),
      HEALTH_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([check(), deadline]);
    return { status: "up", latencyMs: Math.round(performance.now() - started) };
  } catch (err) {
    logError(context, "health.dependency_down", err, { dependency: name });
    return { status: "down", latencyMs: Math.round(performance.now() - started) };
  } finally {
    clearTimeout(timer);
  }
}

export async function health(
  _request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  let checks: ReturnType<typeof getServices>["health"] | undefined;
  try {
    checks = getServices().health;
  } catch (err) {
    // Misconfiguration (e.g. a missing connection setting) makes every dependency unreachable.
    logError(context, "health.misconfigured", err);
  }
  const fail = () => Promise.reject(new Error("not configured"));
  const [cosmos, serviceBus] = await Promise.all([
    probe("cosmos", checks ? () => checks.cosmos() : fail, context),
    probe("serviceBus", checks ? () => checks.serviceBus() : fail, context),
  ]);
  const healthy = cosmos.status === "up" && serviceBus.status === "up";
  logInfo(context, "health.checked", {
    healthy,
    cosmos: cosmos.status,
    serviceBus: serviceBus.status,
  });
  return json(
    healthy ? 200 : 503,
    { status: healthy ? "healthy" : "unhealthy", dependencies: { cosmos, serviceBus } },
    { "Cache-Control": "no-store" },
  );
}

app.http("health", {
  methods: ["GET"],
  route: "health",
  authLevel: "anonymous",
  handler: health,
});
