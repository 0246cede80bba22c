import type { AddressInfo, Server } from "node:net";
import type * as rheaTypes from "rhea";
import {
  badRequest,
  BrokerError,
  notFound,
  type Broker,
  type Consumer,
  type Resolved,
  type SettleOp,
  type Store,
  type StoredMessage,
} from "./broker";
import {
  encodeMessage,
  longBytes,
  longToNumber,
  msToTicks,
  parseMessage,
  reorderGuidBytes,
  types,
  withMessageId,
  rhea,
  type MessageContent,
} from "./message";

/** AMQP operations served by this process (the benchmarks' Service Bus hop count). */
const totals = { received: 0, delivered: 0, settled: 0 };
export function amqpTotals(): { received: number; delivered: number; settled: number } {
  return { ...totals };
}

/** Largest message (or batch) accepted, announced on attach as Service Bus Standard does. */
export const MAX_MESSAGE_SIZE = 256 * 1024;
const BATCH_FORMAT = 0x80013700;
const SESSION_FILTER = "com.microsoft:session-filter";

// The parts of rhea's link/delivery objects the broker uses but rhea's typings leave out.
interface Terminus {
  address?: string;
  filter?: Record<string, unknown> | null;
}
interface LinkState {
  local_open: boolean;
  open_requests: number;
}
interface RLink {
  name: string;
  source?: Terminus;
  target?: Terminus;
  properties?: Record<string, unknown>;
  snd_settle_mode?: number;
  rcv_settle_mode?: number;
  credit: number;
  state: LinkState;
  local: { attach: Record<string, unknown> };
  connection: RConnection;
  session: {
    outgoing: { next_delivery_id: number; next_pending_delivery: number; available(): number };
  };
  set_source(t: Terminus | null): void;
  set_target(t: Terminus | null): void;
  open(): void;
  close(error?: { condition: string; description: string }): void;
  is_open(): boolean;
  is_closed(): boolean;
  send(payload: Buffer, tag: Buffer, format: number): RDelivery;
  set_drained(v: boolean): void;
  _draining?: boolean;
  _drained?: boolean;
  delivery_count: number;
  _get_drain: () => boolean;
}
interface RConnection {
  options: { id?: string };
}
interface RDelivery {
  format?: number;
  settled: boolean;
  remote_settled: boolean;
  remote_state?: {
    error?: { condition?: string; info?: Record<string, unknown> };
    undeliverable_here?: boolean;
    message_annotations?: Record<string, unknown>;
  };
  update(settled: boolean, state?: unknown): void;
  accept(): void;
  reject(error: { condition: string; description: string }): void;
}
interface RContext {
  connection: RConnection;
  sender?: RLink;
  receiver?: RLink;
  delivery?: RDelivery;
  message?: Record<string, unknown> | Buffer;
  format?: number;
  session?: unknown;
}
interface Outcomes {
  accepted(): { described(): unknown };
  rejected(f: object): { described(): unknown };
}
const outcomes = rhea.message as unknown as Outcomes;

type Log = (level: "debug" | "info" | "warn" | "error", message: string) => void;

interface ConsumerLink extends Consumer {
  link: RLink;
  store: Store;
  closed: boolean;
}

/** AMQP 1.0 front end speaking what `@azure/service-bus` expects: CBS, entity links, $management. */
export class AmqpFrontEnd {
  private readonly container = rhea.create_container({ id: "servicebus-emulator" });
  private readonly servers: Server[] = [];
  private readonly replies = new WeakMap<RConnection, Map<string, RLink>>();
  private readonly consumers = new WeakMap<RLink, ConsumerLink>();
  private readonly byConnection = new WeakMap<RConnection, Set<ConsumerLink>>();
  private readonly deliveries = new WeakMap<RDelivery, { consumer: ConsumerLink; token: string }>();
  private readonly linkKinds = new WeakMap<
    RLink,
    { kind: "cbs" | "mgmt" | "entity"; target?: Resolved }
  >();
  private tagCounter = 0;
  private readonly sockets = new Set<import("node:net").Socket>();

  constructor(
    private readonly broker: Broker,
    private readonly log: Log,
    private readonly hostName: () => string,
  ) {
    const c = this.container as unknown as { on(ev: string, fn: (ctx: RContext) => void): void };
    c.on("sender_open", (ctx) => this.guard(() => this.onSenderOpen(ctx.sender!)));
    c.on("receiver_open", (ctx) => this.guard(() => this.onReceiverOpen(ctx.receiver!)));
    c.on("message", (ctx) => {
      totals.received++;
      this.guard(() => this.onMessage(ctx));
    });
    c.on("sender_flow", (ctx) => this.guard(() => this.onFlow(ctx.sender!)));
    c.on("sendable", (ctx) => this.guard(() => this.onFlow(ctx.sender!)));
    for (const ev of ["accepted", "rejected", "modified", "released"]) {
      c.on(ev, (ctx) => {
        totals.settled++;
        this.guard(() => this.onOutcome(ctx));
      });
    }
    c.on("sender_close", (ctx) => this.dropConsumer(ctx.sender!));
    c.on("sender_error", () => undefined);
    c.on("receiver_close", () => undefined);
    c.on("receiver_error", () => undefined);
    c.on("session_error", () => undefined);
    c.on("connection_error", () => undefined);
    c.on("session_close", (ctx) => this.dropConnection(ctx.connection, ctx.session));
    c.on("connection_close", (ctx) => this.dropConnection(ctx.connection));
    c.on("disconnected", (ctx) => this.dropConnection(ctx.connection));
    c.on("error", (ctx) =>
      this.log(
        "warn",
        `AMQP error: ${String((ctx as unknown as { error?: unknown }).error ?? ctx)}`,
      ),
    );
  }

  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log("error", `emulator bug: ${(err as Error).stack ?? String(err)}`);
    }
  }

  /** Listens on host:port; for loopback hosts also on the other loopback (localhost may be ::1). */
  async listen(host: string, port: number): Promise<number> {
    const options = {
      host,
      port,
      noDelay: true,
      treat_modified_as_released: false,
      autoaccept: false,
    };
    const first = await this.listenOne(options);
    const actual = (first.address() as AddressInfo).port;
    const twin =
      host === "127.0.0.1" || host === "localhost"
        ? "::1"
        : host === "::1"
          ? "127.0.0.1"
          : undefined;
    if (twin) {
      try {
        await this.listenOne({ ...options, host: twin, port: actual });
      } catch (err) {
        this.log("debug", `not listening on ${twin}: ${(err as Error).message}`);
      }
    }
    return actual;
  }

  private listenOne(options: object): Promise<Server> {
    return new Promise((resolve, reject) => {
      const listen = this.container.listen.bind(this.container) as unknown as (o: object) => Server;
      const server = listen(options);
      server.once("listening", () => {
        server.off("error", reject);
        this.servers.push(server);
        server.on("connection", (s) => {
          this.sockets.add(s);
          s.on("close", () => this.sockets.delete(s));
        });
        resolve(server);
      });
      server.once("error", reject);
    });
  }

  async close(): Promise<void> {
    // server.close() resolves only once every connection has ended, so the client sockets must
    // be destroyed first: otherwise close() hangs for as long as any client stays connected.
    const closed = Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
          }),
      ),
    );
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  // ---- attach -------------------------------------------------------------------------------

  private replyMap(conn: RConnection): Map<string, RLink> {
    let m = this.replies.get(conn);
    if (!m) {
      m = new Map();
      this.replies.set(conn, m);
    }
    return m;
  }

  private refuse(link: RLink, err: BrokerError, isSender: boolean): void {
    if (isSender) link.set_source(null);
    else link.set_target(null);
    link.close({ condition: err.condition, description: err.message });
  }

  /** The entity `path` names, or undefined once the link is refused as the service refuses it. */
  private resolveOrRefuse(link: RLink, path: string, isSender: boolean) {
    const resolved = path ? this.broker.resolve(path) : undefined;
    if (!resolved) this.refuse(link, notFound(this.entityUri(path)), isSender);
    return resolved;
  }

  private refuseNotAllowed(link: RLink, description: string, isSender: boolean): void {
    this.refuse(link, new BrokerError("amqp:not-allowed", description, 400), isSender);
  }

  /** The client opened a receiving link: $cbs / $management replies, or an entity receiver. */
  private onSenderOpen(link: RLink): void {
    const address = link.source?.address ?? "";
    link.local.attach.snd_settle_mode = link.snd_settle_mode ?? 0;
    link.local.attach.rcv_settle_mode = link.rcv_settle_mode ?? 0;
    link.set_target(link.target ?? null);
    if (address === "$cbs" || address.endsWith("/$management") || address === "$management") {
      const entity = address.replace(/\/?\$management$/, "");
      if (address !== "$cbs" && entity && !this.broker.resolve(entity)) {
        this.refuse(link, notFound(this.entityUri(entity)), true);
        return;
      }
      link.set_source({ address });
      const map = this.replyMap(link.connection);
      map.set(link.name, link);
      if (link.target?.address) map.set(link.target.address, link);
      return;
    }
    const resolved = this.resolveOrRefuse(link, address, true);
    if (!resolved) return;
    if (resolved.kind === "topic") {
      this.refuseNotAllowed(
        link,
        `Cannot receive from topic '${address}': receive from a subscription.`,
        true,
      );
      return;
    }
    const store = resolved.store;
    const filter = link.source?.filter ?? undefined;
    const wantsSession = !!filter && SESSION_FILTER in filter;
    if (store.sessionful !== wantsSession) {
      this.refuseNotAllowed(
        link,
        store.sessionful
          ? `It is not possible for an entity that requires sessions to create a non-sessionful message receiver (${address}).`
          : `It is not possible for a session receiver to receive from '${address}': the entity does not require sessions.`,
        true,
      );
      return;
    }
    const consumer = this.makeConsumer(link, store);
    if (!wantsSession) {
      link.set_source({ address });
      this.registerConsumer(consumer);
      return;
    }
    const requested = filter![SESSION_FILTER];
    if (typeof requested === "string") {
      if (!store.lockSession(consumer, requested)) {
        this.refuse(
          link,
          new BrokerError(
            "com.microsoft:session-cannot-be-locked",
            `The requested session '${requested}' cannot be accepted. It may be locked by another receiver.`,
            410,
          ),
          true,
        );
        return;
      }
      this.completeSessionAttach(consumer, requested);
      return;
    }
    // acceptNextSession: hold the attach answer until a session is free (rhea already queued the
    // attach when the peer's arrived, so take that back and re-open later).
    link.state.local_open = false;
    link.state.open_requests = Math.max(0, link.state.open_requests - 1);
    const timeout = link.properties?.["com.microsoft:timeout"];
    const timeoutMs = timeout === undefined ? 60_000 : Math.max(0, longToNumber(timeout));
    void store.acceptNextSession(consumer, timeoutMs).then((sid) => {
      if (link.is_closed() || consumer.closed) {
        if (sid !== undefined) store.detach(consumer);
        return;
      }
      link.open();
      if (sid === undefined) {
        this.refuse(
          link,
          new BrokerError(
            "com.microsoft:timeout",
            "No unlocked session with messages became available within the operation timeout.",
            408,
          ),
          true,
        );
        return;
      }
      this.completeSessionAttach(consumer, sid);
    });
  }

  private completeSessionAttach(consumer: ConsumerLink, sid: string): void {
    const link = consumer.link;
    link.set_source({ address: link.source?.address, filter: { [SESSION_FILTER]: sid } });
    link.local.attach.properties = {
      "com.microsoft:locked-until-utc": types.wrap_long(
        msToTicks(consumer.store.sessionLockedUntil(sid)),
      ),
    };
    this.registerConsumer(consumer);
  }

  private registerConsumer(consumer: ConsumerLink): void {
    this.consumers.set(consumer.link, consumer);
    let set = this.byConnection.get(consumer.link.connection);
    if (!set) {
      set = new Set();
      this.byConnection.set(consumer.link.connection, set);
    }
    set.add(consumer);
    consumer.store.attach(consumer);
    consumer.store.pump();
  }

  private makeConsumer(link: RLink, store: Store): ConsumerLink {
    const nextTag = (): Buffer => this.nextTag();
    const deliveries = this.deliveries;
    // Answer a drain request even when the credit was used up by the last transfers (rhea only
    // answers while credit remains, and the SDK waits for the answer).
    link._get_drain = function (this: RLink): boolean {
      if (this._draining && this._drained) {
        this.delivery_count += this.credit;
        this.credit = 0;
        this._draining = false;
        return true;
      }
      return false;
    };
    const consumer: ConsumerLink = {
      link,
      store,
      closed: false,
      mode: link.snd_settle_mode === 1 ? "receiveAndDelete" : "peekLock",
      credit() {
        if (this.closed || !link.is_open()) return 0;
        const out = link.session.outgoing;
        const pending = out.next_delivery_id - out.next_pending_delivery;
        return Math.min(link.credit - pending, out.available());
      },
      deliver(m: StoredMessage, token: string | undefined, lockedUntil: number | undefined) {
        if (this.closed) return;
        const payload = encodeMessage(m.content, {
          sequenceNumber: m.seq,
          enqueuedAt: m.enqueuedAt,
          deliveryCount: m.deliveryCount,
          lockedUntil,
          deadLetterSource: m.deadLetterSource,
        });
        const tag = token ? reorderGuidBytes(rhea.string_to_uuid(token)) : nextTag();
        const d = link.send(payload, tag, 0);
        totals.delivered++;
        if (token) deliveries.set(d, { consumer: this, token });
      },
      sessionLost(err: BrokerError) {
        if (this.closed) return;
        this.closed = true;
        store.detach(this);
        link.close({ condition: err.condition, description: err.message });
      },
      idle() {
        if (link._draining && this.credit() >= 0) {
          const out = link.session.outgoing;
          if (out.next_delivery_id - out.next_pending_delivery >= 0) link.set_drained(true);
        }
      },
    };
    return consumer;
  }

  private nextTag(): Buffer {
    const b = Buffer.alloc(16);
    b.writeUInt32BE(++this.tagCounter >>> 0, 12);
    return b;
  }

  /** The client opened a sending link: $cbs / $management requests, or an entity sender. */
  private onReceiverOpen(link: RLink): void {
    const address = link.target?.address ?? "";
    link.local.attach.max_message_size = MAX_MESSAGE_SIZE;
    link.local.attach.rcv_settle_mode = 0;
    link.set_source(link.source ?? null);
    if (address === "$cbs") {
      link.set_target({ address });
      this.linkKinds.set(link, { kind: "cbs" });
      return;
    }
    if (address.endsWith("$management")) {
      const entity = address.replace(/\/?\$management$/, "");
      const resolved = this.resolveOrRefuse(link, entity, false);
      if (!resolved) return;
      link.set_target({ address });
      this.linkKinds.set(link, { kind: "mgmt", target: resolved });
      return;
    }
    const resolved = this.resolveOrRefuse(link, address, false);
    if (!resolved) return;
    if (resolved.kind === "subqueue") {
      this.refuseNotAllowed(
        link,
        `Cannot send to '${address}': send to its queue or topic.`,
        false,
      );
      return;
    }
    link.set_target({ address });
    this.linkKinds.set(link, { kind: "entity", target: resolved });
  }

  private entityUri(path: string): string {
    return `sb://${this.hostName()}/${path}`;
  }

  // ---- flow and settlement -------------------------------------------------------------------

  private onFlow(link: RLink): void {
    const c = this.consumers.get(link);
    if (c && !c.closed) c.store.pump();
    else if (c) c.idle();
  }

  private onOutcome(ctx: RContext): void {
    const d = ctx.delivery!;
    const info = this.deliveries.get(d);
    if (!info) {
      if (!d.settled) this.finish(d, undefined);
      return;
    }
    this.deliveries.delete(d);
    const state = d.remote_state ?? {};
    let op: SettleOp;
    const opts: {
      reason?: string;
      description?: string;
      propertiesToModify?: Record<string, unknown>;
    } = {};
    if (
      state.error !== undefined ||
      (state as { constructor?: { composite_type?: string } }).constructor?.composite_type ===
        "rejected"
    ) {
      op = "deadletter";
      const i = state.error?.info ?? {};
      if (i.DeadLetterReason !== undefined) opts.reason = String(i.DeadLetterReason);
      if (i.DeadLetterErrorDescription !== undefined)
        opts.description = String(i.DeadLetterErrorDescription);
    } else if (state.undeliverable_here !== undefined || state.message_annotations !== undefined) {
      op = state.undeliverable_here ? "defer" : "abandon";
      if (state.message_annotations) opts.propertiesToModify = state.message_annotations;
    } else if (
      (state as { constructor?: { composite_type?: string } }).constructor?.composite_type ===
      "released"
    ) {
      op = "abandon";
    } else {
      op = "complete";
    }
    const c = info.consumer;
    c.store.settle(info.token, op, opts, c.sessionId).then(
      () => this.finish(d, undefined),
      (err: unknown) => this.finish(d, err),
    );
  }

  private finish(d: RDelivery, err: unknown): void {
    if (err instanceof BrokerError) {
      d.update(
        true,
        outcomes
          .rejected({ error: { condition: err.condition, description: err.message } })
          .described(),
      );
    } else if (err) {
      this.log("error", `settlement failed: ${String(err)}`);
      d.update(
        true,
        outcomes
          .rejected({ error: { condition: "amqp:internal-error", description: String(err) } })
          .described(),
      );
    } else {
      d.update(true, outcomes.accepted().described());
    }
    // The SDK settles locally without telling us (it saw our settlement); without this rhea keeps
    // the delivery in the session window forever and the link stalls after 2,048 messages.
    d.remote_settled = true;
  }

  private dropConsumer(link: RLink): void {
    const c = this.consumers.get(link);
    if (!c) return;
    c.closed = true;
    this.consumers.delete(link);
    this.byConnection.get(link.connection)?.delete(c);
    c.store.detach(c);
  }

  private dropConnection(conn: RConnection, session?: unknown): void {
    const set = this.byConnection.get(conn);
    if (!set) return;
    for (const c of [...set]) {
      if (session === undefined || (c.link.session as unknown) === session)
        this.dropConsumer(c.link);
    }
  }

  // ---- incoming messages ---------------------------------------------------------------------

  private onMessage(ctx: RContext): void {
    const link = ctx.receiver!;
    const d = ctx.delivery!;
    const kind = this.linkKinds.get(link);
    if (!kind) {
      d.reject({ condition: "amqp:not-allowed", description: "link not attached to an entity" });
      return;
    }
    if (kind.kind === "cbs") {
      d.accept();
      const req = ctx.message as Record<string, unknown>;
      this.reply(
        link.connection,
        req,
        { "status-code": 202, "status-description": "Accepted" },
        undefined,
      );
      return;
    }
    if (kind.kind === "mgmt") {
      d.accept();
      const req = ctx.message as Record<string, unknown>;
      void this.management(kind.target!, req).then(
        ({ status, body }) =>
          this.reply(
            link.connection,
            req,
            {
              statusCode: types.wrap_int(status),
              statusDescription: status === 204 ? "No Content" : "OK",
            },
            body,
          ),
        (err: unknown) => {
          const e =
            err instanceof BrokerError
              ? err
              : new BrokerError("amqp:internal-error", String(err), 500);
          if (!(err instanceof BrokerError))
            this.log("error", `management: ${(err as Error).stack ?? String(err)}`);
          this.reply(
            link.connection,
            req,
            {
              statusCode: types.wrap_int(e.statusCode),
              statusDescription: e.message,
              "error-condition": types.wrap_symbol(e.condition),
            },
            undefined,
          );
        },
      );
      return;
    }
    let contents: MessageContent[];
    try {
      contents = this.decodeTransfer(ctx);
    } catch (err) {
      const e =
        err instanceof BrokerError
          ? err
          : badRequest(`Cannot decode the message: ${(err as Error).message}`);
      d.reject({ condition: e.condition, description: e.message });
      return;
    }
    const now = Date.now();
    Promise.all(contents.map((c) => this.broker.send(kind.target!, c, now))).then(
      () => d.accept(),
      (err: unknown) => {
        const e =
          err instanceof BrokerError
            ? err
            : new BrokerError("amqp:internal-error", String(err), 500);
        d.reject({ condition: e.condition, description: e.message });
      },
    );
  }

  private decodeTransfer(ctx: RContext): MessageContent[] {
    const raw = ctx.message;
    if (Buffer.isBuffer(raw)) {
      if (raw.length > MAX_MESSAGE_SIZE) {
        throw new BrokerError(
          "amqp:link:message-size-exceeded",
          `The message size ${raw.length} exceeds the limit ${MAX_MESSAGE_SIZE}.`,
          413,
        );
      }
      if (ctx.format !== BATCH_FORMAT) throw badRequest(`Unsupported message format ${ctx.format}`);
      const batch = rhea.message.decode(raw) as unknown as {
        body?: { typecode?: number; content?: unknown; multiple?: boolean };
      };
      const body = batch.body;
      if (!body || body.typecode !== 0x75) throw badRequest("A batch must carry data sections.");
      const parts = (body.multiple ? body.content : [body.content]) as Buffer[];
      return parts.map((p) => withMessageId(parseMessage(p)));
    }
    const encoded = rhea.message.encode(raw as unknown as rheaTypes.Message);
    if (encoded.length > MAX_MESSAGE_SIZE) {
      throw new BrokerError(
        "amqp:link:message-size-exceeded",
        `The message size ${encoded.length} exceeds the limit ${MAX_MESSAGE_SIZE}.`,
        413,
      );
    }
    return [withMessageId(parseMessage(encoded))];
  }

  private reply(
    conn: RConnection,
    req: Record<string, unknown>,
    appProps: Record<string, unknown>,
    body: unknown,
  ): void {
    const to = String(req.reply_to ?? "");
    const sender = this.replyMap(conn).get(to);
    if (!sender || !sender.is_open()) {
      this.log("warn", `no reply link "${to}" for a request`);
      return;
    }
    const msg = rhea.message.encode({
      to,
      correlation_id: req.message_id,
      application_properties: appProps,
      body: body === undefined ? null : body,
    });
    sender.send(msg, this.nextTag(), 0);
  }

  // ---- $management ----------------------------------------------------------------------------

  private async management(
    target: Resolved,
    req: Record<string, unknown>,
  ): Promise<{ status: number; body?: unknown }> {
    const op = String(
      (req.application_properties as Record<string, unknown> | undefined)?.operation ?? "",
    );
    const body = (req.body ?? {}) as Record<string, unknown>;
    const sid =
      body["session-id"] === undefined || body["session-id"] === null
        ? undefined
        : String(body["session-id"]);
    const store = (): Store => {
      if (target.kind === "topic")
        throw new BrokerError("amqp:not-allowed", `Operation ${op} is not valid on a topic.`, 400);
      return target.store;
    };
    const tokens = (): string[] =>
      ((body["lock-tokens"] as Buffer[]) ?? []).map((b) => rhea.uuid_to_string(b));
    const seqs = (): number[] => ((body["sequence-numbers"] as unknown[]) ?? []).map(longToNumber);
    switch (op) {
      case "com.microsoft:peek-message": {
        const from = longToNumber(body["from-sequence-number"] ?? 1);
        const count = Number(body["message-count"] ?? 1);
        const found = store().peek(from, count, sid);
        if (found.length === 0) return { status: 204 };
        return {
          status: 200,
          body: {
            messages: found.map((m) => ({
              message: types.wrap_binary(
                encodeMessage(m.content, {
                  sequenceNumber: m.seq,
                  enqueuedAt: m.enqueuedAt,
                  deliveryCount: m.deliveryCount,
                  lockedUntil: m.lockedUntil,
                  state: m.state,
                  scheduledAt: m.scheduledAt,
                  deadLetterSource: m.deadLetterSource,
                }),
              ),
            })),
          },
        };
      }
      case "com.microsoft:renew-lock": {
        const s = store();
        const until = tokens().map((t) => s.renewLock(t));
        return { status: 200, body: { expirations: types.wrap_array(until, 0x83) } };
      }
      case "com.microsoft:schedule-message": {
        const items = (body.messages as Record<string, unknown>[]) ?? [];
        const out: number[] = [];
        for (const item of items) {
          const content = withMessageId(parseMessage(item.message as Buffer));
          const at = content.annotations["x-opt-scheduled-enqueue-time"];
          const when = at instanceof Date ? at.getTime() : Date.now();
          out.push(...(await this.broker.enqueue(target, content, Date.now(), when)));
        }
        return {
          status: 200,
          body: { "sequence-numbers": types.wrap_array(out.map(longBytes), 0x81) },
        };
      }
      case "com.microsoft:cancel-scheduled-message": {
        if (target.kind === "topic") {
          await Promise.all(target.topic.subscriptions.map((s) => s.store.cancelScheduled(seqs())));
        } else await store().cancelScheduled(seqs());
        return { status: 200 };
      }
      case "com.microsoft:receive-by-sequence-number": {
        const mode =
          Number(body["receiver-settle-mode"] ?? 1) === 0 ? "receiveAndDelete" : "peekLock";
        const got = store().receiveDeferred(seqs(), mode, sid);
        return {
          status: 200,
          body: {
            messages: got.map(({ m, token }) => ({
              "lock-token": types.wrap_uuid(
                rhea.string_to_uuid(token ?? "00000000-0000-0000-0000-000000000000"),
              ),
              message: types.wrap_binary(
                encodeMessage(m.content, {
                  sequenceNumber: m.seq,
                  enqueuedAt: m.enqueuedAt,
                  deliveryCount: m.deliveryCount,
                  lockedUntil: m.lockedUntil,
                  state: "deferred",
                  deadLetterSource: m.deadLetterSource,
                }),
              ),
            })),
          },
        };
      }
      case "com.microsoft:update-disposition": {
        const status = String(body["disposition-status"] ?? "");
        const ops: Record<string, SettleOp> = {
          completed: "complete",
          abandoned: "abandon",
          defered: "defer",
          suspended: "deadletter",
        };
        const sop = ops[status];
        if (!sop) throw badRequest(`Unknown disposition-status '${status}'.`);
        const s = store();
        for (const t of tokens()) {
          await s.settle(
            t,
            sop,
            {
              reason: body["deadletter-reason"] as string | undefined,
              description: body["deadletter-description"] as string | undefined,
              propertiesToModify: body["properties-to-modify"] as
                Record<string, unknown> | undefined,
            },
            sid,
          );
        }
        return { status: 200 };
      }
      case "com.microsoft:renew-session-lock": {
        if (sid === undefined) throw badRequest("session-id is required");
        return {
          status: 200,
          body: { expiration: types.wrap_timestamp(store().renewSessionLock(sid)) },
        };
      }
      case "com.microsoft:get-session-state": {
        if (sid === undefined) throw badRequest("session-id is required");
        const state = store().getSessionState(sid);
        return {
          status: 200,
          body: state === undefined ? {} : { "session-state": types.wrap_binary(state) },
        };
      }
      case "com.microsoft:set-session-state": {
        if (sid === undefined) throw badRequest("session-id is required");
        const v = body["session-state"];
        await store().setSessionState(
          sid,
          Buffer.isBuffer(v)
            ? v
            : v === null || v === undefined
              ? undefined
              : Buffer.from(String(v)),
        );
        return { status: 200 };
      }
      case "com.microsoft:get-message-sessions": {
        return {
          status: 200,
          body: { skip: types.wrap_int(0), "sessions-ids": store().listSessions() },
        };
      }
      default:
        throw new BrokerError(
          "amqp:not-implemented",
          `The emulator does not implement the management operation '${op}'.`,
          501,
        );
    }
  }
}
