// The app's API, called with the signed-in person's bearer token. Every failure becomes an
// ApiError with a readable message: the problem+json title and detail (and the fields named in
// `errors`), or what went wrong on the way. Response bodies are never shown raw.
import type { Session } from "./auth";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fieldErrors: string[] = [],
  ) {
    super(message);
  }
}

interface Problem {
  title?: string;
  detail?: string;
  errors?: { detail?: string; pointer?: string; parameter?: string; header?: string }[];
}

let session: Session | undefined;
let onUnauthorized: () => void = () => {};

export function useSession(s: Session | undefined, unauthorized: () => void): void {
  session = s;
  onUnauthorized = unauthorized;
}

const where = (e: NonNullable<Problem["errors"]>[number]) =>
  e.pointer !== undefined
    ? e.pointer || "body"
    : e.parameter !== undefined
      ? `parameter ${e.parameter}`
      : e.header !== undefined
        ? `header ${e.header}`
        : "";

async function problemOf(res: Response): Promise<ApiError> {
  let problem: Problem = {};
  try {
    if ((res.headers.get("content-type") ?? "").includes("json")) problem = await res.json();
  } catch {
    // not JSON: the status line is all there is
  }
  const title = problem.title ?? `The API answered ${res.status} ${res.statusText}`.trim();
  const message = problem.detail ? `${title}: ${problem.detail}` : title;
  const fields = (problem.errors ?? []).map((e) => [where(e), e.detail].filter(Boolean).join(": "));
  return new ApiError(res.status, message, fields);
}

export async function api<T>(
  path: string,
  options: { method?: string; body?: unknown; query?: Record<string, string | undefined> } = {},
): Promise<T> {
  const url = new URL(`/api/${path}`, window.location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v) url.searchParams.set(k, v);
  const headers: Record<string, string> = { accept: "application/json" };
  if (session) headers.authorization = `Bearer ${session.accessToken}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  let res: Response;
  try {
    res = await fetch(url, {
      method: options.method ?? "GET",
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch {
    throw new ApiError(0, "The API could not be reached. Check that the app is running.");
  }
  if (res.status === 401) onUnauthorized();
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export interface Page<T> {
  items: T[];
  continuationToken: string | null;
}
