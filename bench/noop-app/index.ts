/**
 * The peer benchmark's workflow as a Durable app: save, charge, three parallel notifications,
 * complete — six no-op activities. Started and awaited through the SDK's
 * `waitForCompletionOrCreateCheckStatusResponse` (POST /api/workflows/sdk) or directly through the
 * host's start-and-wait route (POST /runtime/webhooks/durabletask/orchestrators/noopWorkflow
 * ?timeout=&pollingInterval=). host.json sets no concurrency caps: the local host's defaults run.
 */
import { app, type HttpRequest, type InvocationContext } from "@azure/functions";
import * as df from "durable-functions";

const noop = (input: unknown): unknown => input;
for (const name of ["noopSave", "noopCharge", "noopNotify", "noopComplete"]) {
  df.app.activity(name, { handler: noop });
}

df.app.orchestration("noopWorkflow", function* (ctx) {
  const input: unknown = ctx.df.getInput();
  yield ctx.df.callActivity("noopSave", input);
  yield ctx.df.callActivity("noopCharge", input);
  yield ctx.df.Task.all(
    ["email", "sms", "push"].map((channel) => ctx.df.callActivity("noopNotify", channel)),
  );
  yield ctx.df.callActivity("noopComplete", input);
  return "done";
});

/** How often the SDK's wait polls the status (BENCH_POLL_MS; 5 ms, as in the earlier runs). */
const retryIntervalInMilliseconds = Number(process.env.BENCH_POLL_MS ?? 5);

app.http("noopStartAndWait", {
  route: "workflows/sdk",
  methods: ["POST"],
  authLevel: "anonymous",
  extraInputs: [df.input.durableClient()],
  handler: async (request: HttpRequest, context: InvocationContext) => {
    const client = df.getClient(context);
    const id = await client.startNew("noopWorkflow", { input: { n: 1 } });
    return client.waitForCompletionOrCreateCheckStatusResponse(request, id, {
      timeoutInMilliseconds: 60_000,
      retryIntervalInMilliseconds,
    });
  },
});
