import { randomUUID } from "node:crypto";
import * as rheaModule from "rhea";

// rhea's module object is a Container instance whose functions live on its prototype, which a
// namespace import does not copy; use the instance itself.
export const rhea = ((rheaModule as unknown as { default?: typeof rheaModule }).default ??
  rheaModule) as typeof rheaModule;

/** rhea's encoder/decoder surface that its typings leave out. */
interface RheaTypes {
  Reader: new (buf: Buffer) => { remaining(): number; position: number; read(): RheaSection };
  Writer: new () => { write(v: unknown): void; toBuffer(): Buffer };
  described_nc(descriptor: unknown, value: unknown): unknown;
  wrap_ulong(v: number): unknown;
  wrap_map(v: object): unknown;
  wrap_symbolic_map(v: object): unknown;
  wrap_long(v: number | Buffer): unknown;
  wrap_int(v: number): unknown;
  wrap_uuid(v: Buffer): unknown;
  wrap_timestamp(v: number): unknown;
  wrap_string(v: string): unknown;
  wrap_symbol(v: string): unknown;
  wrap_binary(v: Buffer): unknown;
  wrap_array(v: unknown[], code: number): unknown;
  wrap_list(v: unknown[]): unknown;
}
interface RheaSection {
  descriptor?: { value: number | string };
}
interface RheaMessageApi {
  encode(msg: object): Buffer;
  decode(buf: Buffer): Record<string, unknown>;
  header(fields: object): { described(): unknown };
  properties(fields: object): { described(): unknown };
}
export const types = rhea.types as unknown as RheaTypes;
const messageApi = rhea.message as unknown as RheaMessageApi;

const SYMBOLIC: Record<string, number> = {
  "amqp:header:list": 0x70,
  "amqp:delivery-annotations:map": 0x71,
  "amqp:message-annotations:map": 0x72,
  "amqp:properties:list": 0x73,
  "amqp:application-properties:map": 0x74,
  "amqp:data:binary": 0x75,
  "amqp:amqp-sequence:list": 0x76,
  "amqp:value:*": 0x77,
  "amqp:footer:map": 0x78,
};

export interface HeaderFields {
  durable?: boolean;
  priority?: number;
  ttl?: number;
  first_acquirer?: boolean;
}

/**
 * A message as the broker keeps it. The bare message (properties, body, footer) is kept as the
 * sender's bytes so it is delivered unchanged; only the header, annotations and application
 * properties (which Service Bus itself edits: dead-letter reason, properties to modify) are decoded.
 */
export interface MessageContent {
  header: HeaderFields;
  annotations: Record<string, unknown>; // the sender's message annotations (partition key, scheduled time)
  properties?: Buffer; // raw properties section
  appProps?: Record<string, unknown>;
  appPropsRaw?: Buffer; // raw section while appProps is unmodified (keeps the sender's exact types)
  rest: Buffer; // raw body + footer sections
  // Decoded for routing, filters and sessions:
  messageId?: string;
  sessionId?: string;
  system: Record<string, unknown>;
}

/** Splits an encoded AMQP message into its sections (see MessageContent). */
export function parseMessage(buf: Buffer): MessageContent {
  const reader = new types.Reader(buf);
  const ranges: { code: number; start: number; end: number }[] = [];
  while (reader.remaining()) {
    const start = reader.position;
    const s = reader.read();
    const d = s.descriptor?.value;
    const code = typeof d === "number" ? d : d !== undefined ? (SYMBOLIC[d] ?? -1) : -1;
    if (code < 0x70 || code > 0x78) throw new Error("message section without a known descriptor");
    ranges.push({ code, start, end: reader.position });
  }
  const slice = (pred: (c: number) => boolean): Buffer | undefined => {
    const rs = ranges.filter((r) => pred(r.code));
    return rs.length === 0 ? undefined : Buffer.concat(rs.map((r) => buf.subarray(r.start, r.end)));
  };
  const decoded = messageApi.decode(slice((c) => c <= 0x74) ?? Buffer.alloc(0));
  const header: HeaderFields = {};
  for (const k of ["durable", "priority", "ttl", "first_acquirer"] as const) {
    if (decoded[k] !== undefined) (header as Record<string, unknown>)[k] = decoded[k];
  }
  const properties = slice((c) => c === 0x73);
  const appPropsRaw = slice((c) => c === 0x74);
  const str = (v: unknown): string | undefined =>
    v === undefined || v === null ? undefined : Buffer.isBuffer(v) ? v.toString("hex") : String(v);
  const system: Record<string, unknown> = {
    MessageId: str(decoded.message_id),
    CorrelationId: str(decoded.correlation_id),
    Label: decoded.subject,
    To: decoded.to,
    ReplyTo: decoded.reply_to,
    ReplyToSessionId: decoded.reply_to_group_id,
    SessionId: decoded.group_id,
    ContentType: decoded.content_type,
  };
  return {
    header,
    annotations: { ...((decoded.message_annotations as Record<string, unknown>) ?? {}) },
    properties,
    appProps: appPropsRaw
      ? { ...((decoded.application_properties as Record<string, unknown>) ?? {}) }
      : undefined,
    appPropsRaw,
    rest: slice((c) => c >= 0x75) ?? Buffer.alloc(0),
    messageId: str(decoded.message_id),
    sessionId: typeof decoded.group_id === "string" ? decoded.group_id : undefined,
    system,
  };
}

/** Service Bus gives every message an id; a sender that set none gets a fresh one. */
export function withMessageId(m: MessageContent): MessageContent {
  if (m.messageId !== undefined) return m;
  const id = randomUUID();
  const fields = m.properties ? messageApi.decode(m.properties) : {};
  const w = new types.Writer();
  w.write(messageApi.properties({ ...fields, message_id: id }).described());
  return { ...m, properties: w.toBuffer(), messageId: id, system: { ...m.system, MessageId: id } };
}

/** Service Bus edits application properties (dead-letter reason, abandon's properties to modify). */
export function setAppProps(m: MessageContent, changes: Record<string, unknown>): void {
  m.appProps = { ...(m.appProps ?? {}), ...changes };
  m.appPropsRaw = undefined;
}

/** The annotations and header the broker adds when handing a message out. */
export interface Stamp {
  sequenceNumber: number;
  enqueuedAt: number;
  deliveryCount: number;
  lockedUntil?: number;
  state?: "active" | "deferred" | "scheduled";
  scheduledAt?: number;
  deadLetterSource?: string;
}

export function encodeMessage(m: MessageContent, stamp?: Stamp): Buffer {
  const w = new types.Writer();
  const header: Record<string, unknown> = { ...m.header };
  const annotations: Record<string, unknown> = { ...m.annotations };
  if (stamp) {
    header.delivery_count = stamp.deliveryCount;
    annotations["x-opt-sequence-number"] = types.wrap_long(stamp.sequenceNumber);
    annotations["x-opt-enqueued-time"] = types.wrap_timestamp(stamp.enqueuedAt);
    if (stamp.lockedUntil !== undefined) {
      annotations["x-opt-locked-until"] = types.wrap_timestamp(stamp.lockedUntil);
    }
    if (stamp.state === "deferred") annotations["x-opt-message-state"] = types.wrap_int(1);
    if (stamp.state === "scheduled") annotations["x-opt-message-state"] = types.wrap_int(2);
    if (stamp.scheduledAt !== undefined) {
      annotations["x-opt-scheduled-enqueue-time"] = types.wrap_timestamp(stamp.scheduledAt);
    }
    if (stamp.deadLetterSource !== undefined) {
      annotations["x-opt-deadletter-source"] = types.wrap_string(stamp.deadLetterSource);
    }
  }
  if (Object.keys(header).length > 0) w.write(messageApi.header(header).described());
  if (Object.keys(annotations).length > 0) {
    w.write(types.described_nc(types.wrap_ulong(0x72), types.wrap_symbolic_map(annotations)));
  }
  const head = w.toBuffer();
  let app: Buffer | undefined = m.appPropsRaw;
  if (!app && m.appProps) {
    const aw = new types.Writer();
    aw.write(types.described_nc(types.wrap_ulong(0x74), types.wrap_map(m.appProps)));
    app = aw.toBuffer();
  }
  return Buffer.concat([head, m.properties ?? Buffer.alloc(0), app ?? Buffer.alloc(0), m.rest]);
}

/** Lock tokens travel as a delivery tag in .NET Guid byte order (first three groups swapped). */
export function reorderGuidBytes(b: Buffer): Buffer {
  const out = Buffer.from(b);
  out[0] = b[3];
  out[1] = b[2];
  out[2] = b[1];
  out[3] = b[0];
  out[4] = b[5];
  out[5] = b[4];
  out[6] = b[7];
  out[7] = b[6];
  return out;
}

/** AMQP longs decode to a number when small and to 8 big-endian bytes otherwise. */
export function longToNumber(v: unknown): number {
  if (typeof v === "number") return v;
  if (Buffer.isBuffer(v) && v.length === 8) return Number(v.readBigInt64BE());
  if (v && typeof v === "object" && "low" in v && "high" in v) {
    const l = v as { low: number; high: number };
    return l.high * 0x1_0000_0000 + (l.low >>> 0);
  }
  throw new Error(`expected a long, got ${typeof v}`);
}

export function longBytes(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
}

/** .NET ticks (100 ns since 0001-01-01), as the session receiver's locked-until link property. */
export function msToTicks(ms: number): Buffer {
  return bigToBytes(BigInt(ms) * 10_000n + 621_355_968_000_000_000n);
}

function bigToBytes(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(v);
  return b;
}
