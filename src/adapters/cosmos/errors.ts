// Status codes of Cosmos errors, from the SDK's ErrorResponse (code may be a number or string).

export function cosmosStatus(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const status = typeof code === "string" ? Number(code) : code;
  return typeof status === "number" && Number.isFinite(status) ? status : undefined;
}

/** Removes Cosmos system properties before a document leaves the adapter. */
export function withoutSystemProperties<T extends object>(doc: T): T {
  const copy = { ...doc } as Record<string, unknown>;
  for (const key of ["_rid", "_self", "_etag", "_attachments", "_ts"]) delete copy[key];
  return copy as T;
}
