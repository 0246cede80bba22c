// The function list `func start` prints before it serves.
import type { FunctionInfo } from "./contracts";
import { httpRoutes } from "./http/server";

export function functionListing(
  functions: FunctionInfo[],
  routePrefix: string,
  baseUrl: string,
): string {
  const routes = new Map(httpRoutes(functions, routePrefix).map((r) => [r.functionName, r]));
  const lines = ["Functions:", ""];
  for (const fn of [...functions].sort((a, b) => a.name.localeCompare(b.name))) {
    const route = routes.get(fn.name);
    if (route) {
      const methods = route.methods
        ? route.methods.join(",")
        : "GET,POST,PUT,DELETE,PATCH,HEAD,OPTIONS";
      lines.push(`  ${fn.name}: [${methods}] ${baseUrl}/${route.route.template}`);
    } else {
      const trigger = Object.values(fn.bindings).find(
        (b) => b.direction === "in" && /trigger$/i.test(String(b.type)),
      );
      lines.push(`  ${fn.name}: ${String(trigger?.type ?? "unknown")}`);
    }
    lines.push("");
  }
  return lines.join("\n");
}
