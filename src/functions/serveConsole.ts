// GET /api/console/{*path} (anonymous): the console's static files (built by `npm run build` into
// dist/src/console, so they ship in the deployment package). Anonymous because a browser loads
// them before anyone signs in; the API calls the console makes carry bearer tokens. Every file
// goes out with a Content-Security-Policy that allows scripts, styles and API calls from this
// origin only, plus the sign-in authority for the token exchange.
import path from "node:path";
import type { HttpRequest, HttpResponseInit, InvocationContext } from "@azure/functions";
import { app } from "@azure/functions";
import { readAuthConfig } from "../config";
import { guard } from "../http/guard";
import { serveStatic } from "../http/staticFiles";

/** dist/src/console next to dist/src/functions. */
export const CONSOLE_ROOT = path.resolve(__dirname, "..", "console");

export function consolePolicy(authority: string | undefined): string {
  const origin = authority ? ` ${new URL(authority).origin}` : "";
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    `connect-src 'self'${origin}`,
    `form-action 'self'${origin}`,
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function authorityOrUndefined(): string | undefined {
  try {
    return readAuthConfig().authority;
  } catch {
    return undefined; // the page still loads and config.json names the missing setting
  }
}

export function consoleHandler(root: string) {
  return (request: HttpRequest, context: InvocationContext): Promise<HttpResponseInit> =>
    guard(context, { route: "GET /console/{*path}" }, async () => {
      const requested = request.params.path ?? "";
      // /api/console → /api/console/ so the page's relative URLs resolve under it.
      if (requested === "" && !new URL(request.url).pathname.endsWith("/")) {
        return { status: 308, headers: { Location: `${new URL(request.url).pathname}/` } };
      }
      return serveStatic(root, requested === "" ? "index.html" : requested, {
        "Content-Security-Policy": consolePolicy(authorityOrUndefined()),
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
      });
    });
}

app.http("serveConsole", {
  methods: ["GET"],
  route: "console/{*path}",
  authLevel: "anonymous" /* static files only; the API calls carry bearer tokens */,
  handler: consoleHandler(CONSOLE_ROOT),
});
