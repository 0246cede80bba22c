// Static files under one directory (the console's build output), for an anonymous GET route.
// Only plain relative paths of known file types are served: a segment that is empty, `.`, `..`,
// hidden, or holds a backslash, a colon or a control character is refused before the file system
// is touched, and the resolved path must stay inside the directory. Everything else is a 404.
import { promises as fs } from "node:fs";
import path from "node:path";
import type { HttpResponseInit } from "@azure/functions";
import { problems } from "./problem";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
};

/** The file a request path names inside `root`, or undefined when the path is not acceptable. */
export function resolveStaticPath(root: string, requestPath: string): string | undefined {
  const segments = requestPath.split("/");
  if (segments.length > 16) return undefined;
  for (const s of segments) {
    // eslint-disable-next-line no-control-regex
    if (s === "" || s.startsWith(".") || /[\\:\u0000-\u001f\u007f%]/.test(s)) return undefined;
  }
  if (!Object.hasOwn(CONTENT_TYPES, path.extname(requestPath).toLowerCase())) return undefined;
  const base = path.resolve(root);
  const file = path.resolve(base, ...segments);
  const rel = path.relative(base, file);
  if (rel.startsWith("..") || path.isAbsolute(rel)) return undefined;
  return file;
}

export const contentTypeOf = (file: string): string =>
  CONTENT_TYPES[path.extname(file).toLowerCase()] ?? "application/octet-stream";

/** 200 with the file and its content type, else a problem+json 404. */
export async function serveStatic(
  root: string,
  requestPath: string,
  headers: Record<string, string> = {},
): Promise<HttpResponseInit> {
  const file = resolveStaticPath(root, requestPath);
  const missing = () => problems.notFound("No console file has this path.");
  if (!file) return missing();
  let body: Buffer;
  try {
    // realpath: a symbolic link out of the directory is not followed.
    const real = await fs.realpath(file);
    const rel = path.relative(await fs.realpath(root), real);
    if (rel.startsWith("..") || path.isAbsolute(rel)) return missing();
    body = await fs.readFile(real);
  } catch {
    return missing();
  }
  return {
    status: 200,
    headers: {
      "Content-Type": contentTypeOf(file),
      "X-Content-Type-Options": "nosniff",
      // File names carry no content hash: revalidate so a deployment is picked up at once.
      "Cache-Control": "no-cache",
      ...headers,
    },
    body,
  };
}
