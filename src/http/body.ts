// Reads a JSON request body with the API's rules: JSON media types only (415), at most
// MAX_BODY_BYTES (413, checked against Content-Length before reading and against the bytes
// actually received, which a chunked or lying request can exceed), valid UTF-8 JSON (400 with
// pointer ""), no key twice in one object (400 naming it). The result is either the parsed value or the problem response to send.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { firstDuplicateKey } from "./duplicateKeys";
import { problem } from "./problem";

export const MAX_BODY_BYTES = 64 * 1024;

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: HttpResponseInit };

/** application/json or any structured-syntax +json type (RFC 6839), parameters allowed. */
export function isJsonContentType(contentType: string | null): boolean {
  if (!contentType) return false;
  const [essence, ...params] = contentType.split(";").map((p) => p.trim().toLowerCase());
  if (!/^application\/(?:[\w.+-]+\+)?json$/.test(essence)) return false;
  const charset = params.find((p) => p.startsWith("charset="));
  return !charset || /^charset="?utf-8"?$/.test(charset);
}

const tooLarge = (): BodyResult => ({
  ok: false,
  response: problem("payloadTooLarge", 413, `The body must be at most ${MAX_BODY_BYTES} bytes.`),
});

async function readCapped(request: HttpRequest, max: number): Promise<Buffer | undefined> {
  if (!request.body) return Buffer.alloc(0);
  const reader = request.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(Buffer.from(value));
  }
  return Buffer.concat(chunks, size);
}

export interface ReadJsonOptions {
  /** Accept an empty body (no Content-Type needed) and return `emptyValue`. */
  optional?: boolean;
  emptyValue?: unknown;
  maxBytes?: number;
}

export async function readJsonBody(
  request: HttpRequest,
  options: ReadJsonOptions = {},
): Promise<BodyResult> {
  const max = options.maxBytes ?? MAX_BODY_BYTES;
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared) && Number(declared) > max) return tooLarge();
  const contentType = request.headers.get("content-type");
  if (options.optional && (declared === "0" || (!request.body && !contentType))) {
    return { ok: true, value: options.emptyValue };
  }
  if (!isJsonContentType(contentType)) {
    return {
      ok: false,
      response: problem(
        "unsupportedMediaType",
        415,
        contentType
          ? `Content-Type '${contentType.slice(0, 100)}' is not supported; send application/json (UTF-8).`
          : "The Content-Type header is missing; send application/json (UTF-8).",
        { headers: { "Accept-Post": "application/json" } },
      ),
    };
  }
  const bytes = await readCapped(request, max);
  if (!bytes) return tooLarge();
  if (bytes.length === 0 && options.optional) return { ok: true, value: options.emptyValue };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return malformed("The body is not valid UTF-8.");
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    // Only the position is reported: newer V8 versions quote a slice of the input in the
    // message, and that slice could be part of a card number.
    const position = /position (\d+)/.exec((err as Error).message)?.[1];
    return malformed(
      bytes.length === 0
        ? "The body is empty."
        : `The body is not valid JSON${position ? ` (error at position ${position})` : ""}.`,
    );
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) {
    const detail = "repeats a key that appears earlier in the same object";
    return {
      ok: false,
      response: problem("malformedJson", 400, `The body has a duplicate key at ${duplicate}.`, {
        errors: [{ pointer: duplicate, detail }],
      }),
    };
  }
  return { ok: true, value };
}

function malformed(detail: string): BodyResult {
  return {
    ok: false,
    response: problem("malformedJson", 400, detail, { errors: [{ pointer: "", detail }] }),
  };
}
