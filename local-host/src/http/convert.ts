// Conversions between node:http and the RPC shapes the Node worker exchanges with the host
// (RpcHttpData in, RpcHttpData out), as the Functions host does for the v4 programming model.
import type { IncomingMessage } from "node:http";
import type { RpcHttpCookie, RpcHttpData, RpcTypedData } from "../worker/functionsCore";

/** The response the shell writes: `setCookies` is separate since Set-Cookie repeats. */
export interface ShellHttpResponse {
  status: number;
  headers: Record<string, string>;
  setCookies: string[];
  body: Buffer;
}

/** Headers with the case the client sent; repeated headers joined as the host does. */
export function headersOf(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  const byLower = new Map<string, string>();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i];
    const value = req.rawHeaders[i + 1];
    const lower = name.toLowerCase();
    const existing = byLower.get(lower);
    if (existing === undefined) {
      byLower.set(lower, name);
      out[name] = value;
    } else {
      out[existing] += (lower === "cookie" ? "; " : ", ") + value;
    }
  }
  return out;
}

/** Query parameters; a repeated key gets its values joined with commas (ASP.NET's StringValues). */
export function queryOf(url: URL): Record<string, string> {
  const out: Record<string, string> = {};
  for (const key of new Set(url.searchParams.keys())) {
    out[key] = url.searchParams.getAll(key).join(",");
  }
  return out;
}

export function toRpcHttpRequest(args: {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
  params: Record<string, string>;
}): RpcHttpData {
  // The Node worker announces RawHttpBodyBytes, so the host always sends the body as bytes.
  const body: RpcTypedData | undefined = args.body.length > 0 ? { bytes: args.body } : undefined;
  return {
    method: args.method,
    url: args.url.toString(),
    headers: args.headers,
    query: queryOf(args.url),
    params: args.params,
    body,
  };
}

function bodyBytes(data: RpcTypedData | null | undefined): Buffer {
  if (!data) return Buffer.alloc(0);
  if (data.bytes) return Buffer.from(data.bytes);
  if (data.stream) return Buffer.from(data.stream);
  if (typeof data.string === "string") return Buffer.from(data.string, "utf8");
  if (typeof data.json === "string") return Buffer.from(data.json, "utf8");
  if (typeof data.int === "number") return Buffer.from(String(data.int));
  if (typeof data.double === "number") return Buffer.from(String(data.double));
  return Buffer.alloc(0);
}

export function cookieHeader(cookie: RpcHttpCookie): string {
  const parts = [`${cookie.name}=${cookie.value}`];
  if (cookie.domain?.value) parts.push(`Domain=${cookie.domain.value}`);
  if (cookie.path?.value) parts.push(`Path=${cookie.path.value}`);
  if (cookie.expires?.value) {
    parts.push(`Expires=${new Date(Number(cookie.expires.value.seconds) * 1000).toUTCString()}`);
  }
  if (cookie.maxAge && typeof cookie.maxAge.value === "number") {
    parts.push(`Max-Age=${Math.trunc(cookie.maxAge.value)}`);
  }
  if (cookie.secure?.value) parts.push("Secure");
  if (cookie.httpOnly?.value) parts.push("HttpOnly");
  const sameSite = String(cookie.sameSite ?? "none").toLowerCase();
  if (sameSite === "lax") parts.push("SameSite=Lax");
  else if (sameSite === "strict") parts.push("SameSite=Strict");
  else if (sameSite === "explicitnone") parts.push("SameSite=None");
  return parts.join("; ");
}

/** The worker's RpcHttpData (or nothing) as the response the host sends. */
export function fromRpcHttpResponse(http: RpcHttpData | null | undefined): ShellHttpResponse {
  if (!http) {
    // A handler that returns nothing: the host answers 204 No Content.
    return { status: 204, headers: {}, setCookies: [], body: Buffer.alloc(0) };
  }
  const status = http.statusCode ? Number.parseInt(String(http.statusCode), 10) : 200;
  const headers: Record<string, string> = {};
  const setCookies: string[] = [];
  for (const [name, value] of Object.entries(http.headers ?? {})) {
    if (name.toLowerCase() === "set-cookie") setCookies.push(value);
    else headers[name] = value;
  }
  for (const cookie of http.cookies ?? []) setCookies.push(cookieHeader(cookie));
  return {
    status: Number.isFinite(status) && status >= 100 && status <= 999 ? status : 500,
    headers,
    setCookies,
    body: bodyBytes(http.body),
  };
}
