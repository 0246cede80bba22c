// Request validation for the order API and the orders-inbound queue. Every failure is reported
// as { pointer, detail } with an RFC 6901 JSON pointer into the body, so a client can tell which
// field is wrong. Unknown fields are REJECTED (strict objects): a misspelt optional field
// ("shipingAddress", "line_2") would otherwise be dropped silently and the order stored without
// it, and a stray "total" or "price" suggests the caller thinks it sets the price, which it does
// not. Messages never echo the submitted values (a card number must not reach an error body).
import { z } from "zod";
import { ORDER_STATUSES, type ApprovalDecision, type NewOrderRequest } from "./order";

export interface FieldError {
  /** JSON pointer into the request body ("" = the body itself). */
  pointer: string;
  detail: string;
}

/** A query parameter at fault (RFC 9457 names this member "parameter"). */
export interface ParameterError {
  parameter: string;
  detail: string;
}

export type Validated<T, E = FieldError> = { ok: true; value: T } | { ok: false; errors: E[] };

/** zod error option: "is required" when the field is absent, else what it must be. */
const must = (what: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? "is required" : `must be ${what}`;

export const LIMITS = {
  items: { min: 1, max: 100 },
  quantity: { min: 1, max: 10_000 },
  text: 200,
  id: 128,
  idempotencyKey: 255,
  reason: 1_000,
  listLimit: { min: 1, max: 100, default: 25 },
} as const;

// ISO 3166-1 alpha-2 officially assigned codes (249). A fixed list rather than Intl.DisplayNames,
// which also knows non-country regions such as EU, UN and XK.
const COUNTRIES = new Set(
  (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR " +
    "BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ " +
    "EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW " +
    "GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY " +
    "KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV " +
    "MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY " +
    "QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG " +
    "TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
  ).split(" "),
);

// ISO 4217 codes as known to the runtime's ICU data (full ICU ships with Node's official builds).
let currencies: Set<string> | undefined;
function isCurrency(code: string): boolean {
  currencies ??= new Set(Intl.supportedValuesOf("currency"));
  return currencies.has(code);
}

/** Luhn checksum over a string of digits. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

// C0 and C1 control characters (NUL, newlines, escape sequences) and DEL: names and addresses end
// up on labels, e-mails and screens, where they break layouts or inject terminal escapes.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A lone UTF-16 surrogate is not a character: it cannot be encoded as UTF-8 and round-trips as U+FFFD.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A string of printable, well-formed text. */
const plainString = () =>
  z
    .string({ error: must("a string") })
    .refine((s) => !CONTROL.test(s), { error: "must not contain control characters", abort: true })
    .refine((s) => !LONE_SURROGATE.test(s), {
      error: "must not contain unpaired UTF-16 surrogates",
      abort: true,
    });

const text = (max: number = LIMITS.text) =>
  plainString()
    .trim()
    .min(1, { error: "must not be empty" })
    .max(max, { error: `must be at most ${max} characters` });

const optionalText = (max: number = LIMITS.text) =>
  plainString()
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .optional();

const integer = (what: string, min: number, max: number) =>
  z
    .number({ error: must(what) })
    .refine(Number.isSafeInteger, { error: `must be ${what}`, abort: true })
    .refine((n) => n >= min && n <= max, {
      error: `must be between ${min} and ${max}`,
    });

const itemSchema = z.strictObject({
  sku: text(64),
  name: text(),
  quantity: integer("a whole number", LIMITS.quantity.min, LIMITS.quantity.max),
  unitPrice: integer(
    "a whole number of minor currency units (e.g. cents)",
    0,
    Number.MAX_SAFE_INTEGER,
  ),
});

const addressSchema = z.strictObject({
  line1: text(),
  line2: optionalText(),
  city: text(100),
  region: optionalText(100),
  postalCode: text(20),
  country: z.string({ error: must("a string") }).refine((c) => COUNTRIES.has(c), {
    error: "must be an ISO 3166-1 alpha-2 country code in upper case, e.g. US",
  }),
});

// Spaces and hyphens are accepted as separators (as typed from a card) and removed here.
const cardNumber = z
  .string({ error: must("a string of digits") })
  .transform((s) => s.replace(/[ -]/g, ""))
  .refine((s) => /^\d{12,19}$/.test(s), { error: "must be 12 to 19 digits", abort: true })
  .refine(luhnValid, { error: "is not a valid card number (checksum failed)" });

const orderFields = {
  customerId: text(LIMITS.id),
  currency: z.string({ error: must("a string") }).refine((c) => isCurrency(c), {
    error: "must be an ISO 4217 currency code in upper case, e.g. USD",
  }),
  items: z
    .array(itemSchema, { error: must("an array of items") })
    .min(LIMITS.items.min, { error: "must contain at least one item" })
    .max(LIMITS.items.max, { error: `must contain at most ${LIMITS.items.max} items` }),
  shippingAddress: addressSchema,
  payment: z.strictObject({ cardNumber }),
};

export const orderRequestSchema = z.strictObject(orderFields);

const uuid = z
  .string({ error: must("a string") })
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    error: "must be a UUID",
  })
  .transform((s) => s.toLowerCase());

/** A message on orders-inbound: the same order request, optionally naming its order id. */
export const inboundOrderSchema = z.strictObject({ ...orderFields, orderId: uuid.optional() });

export const approvalSchema = z.strictObject({
  approved: z.boolean({ error: must("true or false") }),
  /** Deprecated and ignored: the decider is the caller named by the token. */
  approver: optionalText(LIMITS.text),
  reason: optionalText(LIMITS.reason),
});

export const cancelSchema = z.strictObject({ reason: optionalText(LIMITS.reason) });

/** The body of every mutating operator call: why (kept on the audit entry and the order). */
export const operatorActionSchema = z.strictObject({ reason: text(LIMITS.reason) });

/** POST /operator/rejected-messages/{id}/resubmit: why, and the corrected order (checked apart). */
export const resubmitSchema = z.strictObject({
  reason: text(LIMITS.reason),
  order: z.record(z.string(), z.unknown(), { error: must("an object") }),
});

/** A corrected inbound order that reuses a stored card token: the order without `payment`. */
export const resubmittedOrderSchema = inboundOrderSchema.omit({ payment: true });

function escapePointerToken(token: PropertyKey): string {
  return String(token).replace(/~/g, "~0").replace(/\//g, "~1");
}

export function toPointer(path: readonly PropertyKey[]): string {
  return path.map((p) => `/${escapePointerToken(p)}`).join("");
}

/** Maps zod issues to field errors: one per unknown key, "is required" for missing fields. */
export function toFieldErrors(error: z.ZodError): FieldError[] {
  const errors: FieldError[] = [];
  for (const issue of error.issues) {
    const base = toPointer(issue.path);
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        errors.push({ pointer: `${base}/${escapePointerToken(key)}`, detail: "is not allowed" });
      }
    } else if (issue.code === "invalid_type" && issue.path.length === 0) {
      errors.push({ pointer: "", detail: "the body must be a JSON object" });
    } else if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input")) {
      // zod's default wording (objects): say it plainly.
      const missing = / received undefined$/.test(issue.message);
      errors.push({
        pointer: base,
        detail: missing ? "is required" : `must be an ${issue.expected}`,
      });
    } else {
      errors.push({ pointer: base, detail: issue.message });
    }
  }
  return errors;
}

function run<T>(schema: z.ZodType<T>, input: unknown): Validated<T> {
  const parsed = schema.safeParse(input);
  return parsed.success
    ? { ok: true, value: parsed.data }
    : { ok: false, errors: toFieldErrors(parsed.error) };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

function normaliseOrder(value: z.infer<typeof orderRequestSchema>): NewOrderRequest {
  return {
    customerId: value.customerId,
    currency: value.currency,
    items: value.items.map((i) => ({ ...i })),
    shippingAddress: withoutUndefined(value.shippingAddress),
    payment: { cardNumber: value.payment.cardNumber },
  };
}

export function validateOrderRequest(input: unknown): Validated<NewOrderRequest> {
  const result = run(orderRequestSchema, input);
  return result.ok ? { ok: true, value: normaliseOrder(result.value) } : result;
}

export function validateInboundOrder(
  input: unknown,
): Validated<{ orderId?: string; request: NewOrderRequest }> {
  const result = run(inboundOrderSchema, input);
  if (!result.ok) return result;
  const { orderId, ...request } = result.value;
  return {
    ok: true,
    value: withoutUndefined({ orderId, request: normaliseOrder(request) }),
  };
}

/**
 * A corrected orders-inbound order paid with a stored token: the inbound rules without the card.
 * A `payment` member is dropped first (the stored token pays, and a console sends back the stored
 * body, whose card number is masked), so an unchanged message fails with its original reasons.
 */
export function validateResubmittedOrder(
  input: unknown,
): Validated<{ orderId?: string; request: Omit<NewOrderRequest, "payment"> }> {
  const body =
    input && typeof input === "object" && !Array.isArray(input)
      ? Object.fromEntries(Object.entries(input).filter(([k]) => k !== "payment"))
      : input;
  const result = run(resubmittedOrderSchema, body);
  if (!result.ok) return result;
  const { orderId, ...rest } = result.value;
  const { payment: _none, ...request } = normaliseOrder({ ...rest, payment: { cardNumber: "" } });
  return { ok: true, value: withoutUndefined({ orderId, request }) };
}

export function validateOperatorAction(input: unknown): Validated<{ reason: string }> {
  return run(operatorActionSchema, input);
}

export function validateResubmit(
  input: unknown,
): Validated<{ reason: string; order: Record<string, unknown> }> {
  return run(resubmitSchema, input);
}

/** The body of POST /orders/{id}/approval; a deprecated `approver` is accepted and dropped. */
export function validateApproval(
  input: unknown,
): Validated<Omit<ApprovalDecision, "approver" | "decidedBy">> {
  const result = run(approvalSchema, input);
  if (!result.ok) return result;
  const { approver: _ignored, ...decision } = result.value;
  return { ok: true, value: withoutUndefined(decision) };
}

export function validateCancel(input: unknown): Validated<{ reason?: string }> {
  const result = run(cancelSchema, input);
  return result.ok ? { ok: true, value: withoutUndefined(result.value) } : result;
}

/** Idempotency-Key header: 1..255 visible ASCII characters (RFC 9110 token-ish, no spaces). */
export function validateIdempotencyKey(key: string): string | undefined {
  if (key.length < 1 || key.length > LIMITS.idempotencyKey) {
    return `must be 1 to ${LIMITS.idempotencyKey} characters`;
  }
  if (!/^[\x21-\x7e]+$/.test(key)) return "must contain visible ASCII characters only";
  return undefined;
}

export function isUuid(value: string): boolean {
  return uuid.safeParse(value).success;
}

export interface ListQuery {
  customerId?: string;
  status?: (typeof ORDER_STATUSES)[number];
  /** Created at or after `from` and before `to` (ISO 8601, normalised to UTC). */
  from?: string;
  to?: string;
  limit: number;
  continuationToken?: string;
}

/** Query parameters of GET /orders; errors name the parameter. */
export function validateListQuery(query: {
  get(name: string): string | null;
}): Validated<ListQuery, ParameterError> {
  const errors: ParameterError[] = [];
  const result: ListQuery = { limit: LIMITS.listLimit.default };
  const customerId = query.get("customerId");
  if (customerId !== null) {
    if (customerId.trim().length === 0 || customerId.length > LIMITS.id) {
      errors.push({ parameter: "customerId", detail: `must be 1 to ${LIMITS.id} characters` });
    } else result.customerId = customerId.trim();
  }
  const status = query.get("status");
  if (status !== null) {
    if ((ORDER_STATUSES as readonly string[]).includes(status)) {
      result.status = status as ListQuery["status"];
    } else {
      errors.push({ parameter: "status", detail: `must be one of ${ORDER_STATUSES.join(", ")}` });
    }
  }
  const limit = query.get("limit");
  if (limit !== null) {
    const n = Number(limit);
    const { min, max } = LIMITS.listLimit;
    if (!/^\d+$/.test(limit) || n < min || n > max) {
      errors.push({ parameter: "limit", detail: `must be a whole number from ${min} to ${max}` });
    } else result.limit = n;
  }
  for (const name of ["from", "to"] as const) {
    const text = query.get(name);
    if (text === null || text === "") continue;
    const ms = /^\d{4}-\d{2}-\d{2}T/.test(text) ? Date.parse(text) : NaN;
    if (Number.isNaN(ms)) errors.push({ parameter: name, detail: "must be an ISO 8601 date-time" });
    else result[name] = new Date(ms).toISOString();
  }
  if (result.from !== undefined && result.to !== undefined && result.from >= result.to) {
    errors.push({ parameter: "from", detail: "must be before to" });
  }
  const token = query.get("continuationToken");
  if (token !== null && token !== "") result.continuationToken = token;
  return errors.length > 0 ? { ok: false, errors } : { ok: true, value: result };
}
