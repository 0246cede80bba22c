// GET /api/console/config.json (anonymous): what the console needs to sign in (authority, its
// client id, the scopes) from app settings, and the redirect URI: /api/console/ on this host. Public by nature: a browser client
// has no secret. A missing setting is a 500 naming it (in the log; the body names the setting).
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { app } from "@azure/functions";
import { ConfigError, getSettings, readConsoleConfig } from "../config";
import { guard } from "../http/guard";
import { problem } from "../http/problem";
import { json, ROUTE_PREFIX } from "../http/responses";
import { logError } from "../observability/log";

export async function getConsoleConfig(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guard(context, { route: "GET /console/config.json" }, async () => {
    let config;
    try {
      config = readConsoleConfig();
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      logError(context, "console.misconfigured", err);
      return problem("internal", 500, `The console is not configured: ${err.message}.`);
    }
    return json(
      200,
      {
        authority: config.authority,
        clientId: config.clientId,
        scope: config.scope,
        redirectUri: new URL(`/${ROUTE_PREFIX}/console/`, request.url).href,
        // For the approvals inbox's deadlines (APPROVAL_TIMEOUT after an order starts waiting).
        approvalTimeoutSeconds: getSettings().approvalTimeoutMs / 1000,
      },
      { "Cache-Control": "no-cache" },
    );
  });
}

app.http("getConsoleConfig", {
  methods: ["GET"],
  route: "console/config.json",
  authLevel: "anonymous" /* public sign-in settings, no secret */,
  handler: getConsoleConfig,
});
