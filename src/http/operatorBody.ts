// The body of a mutating operator call: JSON with a required, non-empty `reason` (the text rules
// of src/domain/validation.ts), or the problem response to send.
import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { validateOperatorAction } from "../domain/validation";
import { readJsonBody } from "./body";
import { problems } from "./problem";

export async function readReason(
  request: HttpRequest,
): Promise<{ ok: true; reason: string } | { ok: false; response: HttpResponseInit }> {
  const body = await readJsonBody(request);
  if (!body.ok) return body;
  const parsed = validateOperatorAction(body.value);
  if (!parsed.ok) return { ok: false, response: problems.invalid(parsed.errors) };
  return { ok: true, reason: parsed.value.reason };
}
