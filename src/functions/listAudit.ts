// GET /api/operator/audit?orderId=&actor=&limit=&continuationToken=: operator and approver
// actions, newest first (kept AUDIT_RETENTION_DAYS, src/adapters/cosmos/containers.ts).
import {
  app,
  type HttpRequest,
  type HttpResponseInit,
  type InvocationContext,
} from "@azure/functions";
import { getServices } from "../adapters/services";
import { RIGHTS } from "../auth/rights";
import { LIMITS, type ParameterError } from "../domain/validation";
import { guardRoute } from "../http/guard";
import { fetchPage, pageBody, readPaging } from "../http/paging";
import { problems } from "../http/problem";
import { json } from "../http/responses";

export async function listAudit(
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  return guardRoute(request, context, "GET /operator/audit", RIGHTS.readAudit, async () => {
    const paging = readPaging(request);
    if (!paging.ok) return paging.response;
    const filters: { orderId?: string; actor?: string } = {};
    const errors: ParameterError[] = [];
    for (const name of ["orderId", "actor"] as const) {
      const value = request.query.get(name);
      if (value === null || value === "") continue;
      if (value.trim().length === 0 || value.length > LIMITS.id) {
        errors.push({ parameter: name, detail: `must be 1 to ${LIMITS.id} characters` });
      } else filters[name] = name === "orderId" ? value.trim().toLowerCase() : value.trim();
    }
    if (errors.length) return problems.invalid(errors);
    const fetched = await fetchPage(paging.token, () =>
      getServices().audit.list({
        ...filters,
        limit: paging.limit,
        ...(paging.token ? { continuationToken: paging.token } : {}),
      }),
    );
    if (!fetched.ok) return fetched.response;
    const page = fetched.page;
    return json(200, pageBody(page.items, page.continuationToken));
  });
}

app.http("listAudit", {
  methods: ["GET"],
  route: "operator/audit",
  authLevel: "anonymous" /* a bearer token is required (src/auth) */,
  handler: listAudit,
});
