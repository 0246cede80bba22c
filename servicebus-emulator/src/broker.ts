import { randomUUID } from "node:crypto";
import type { EmulatorConfig, QueueSettings, SubscriptionSettings, TopicSettings } from "./config";
import { compileFilter, type Predicate } from "./filters";
import { encodeMessage, parseMessage, setAppProps, type MessageContent } from "./message";

/** An error the broker reports to the client with the condition the real service uses. */
export class BrokerError extends Error {
  constructor(
    readonly condition: string,
    description: string,
    readonly statusCode: number,
  ) {
    super(description);
  }
}
export const notFound = (what: string): BrokerError =>
  new BrokerError("amqp:not-found", `The messaging entity '${what}' could not be found.`, 404);
const lockLost = (): BrokerError =>
  new BrokerError(
    "com.microsoft:message-lock-lost",
    "The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.",
    410,
  );
const sessionLockLost = (sid: string): BrokerError =>
  new BrokerError(
    "com.microsoft:session-lock-lost",
    `The session lock has expired on the session with id ${sid}.`,
    410,
  );
export const badRequest = (msg: string): BrokerError =>
  new BrokerError("com.microsoft:argument-error", msg, 400);

export type SettleOp = "complete" | "abandon" | "defer" | "deadletter";
export interface SettleOptions {
  reason?: string;
  description?: string;
  propertiesToModify?: Record<string, unknown>;
}

/** What the broker writes to the durable log (JSON); in-memory mode drops them. */
export type LogRecord =
  | { t: "enq"; e: string; m: SerializedMessage }
  | { t: "del"; e: string; seq: number }
  | { t: "upd"; e: string; seq: number; dc: number; st: MessageState; ap?: Record<string, unknown> }
  | { t: "ss"; e: string; sid: string; v: string | null };

export interface Journal {
  append(records: LogRecord[]): Promise<void>;
  /** True while records cannot reach the disk (it is full): the broker hands out no message
   *  then, since one applied in memory may not be durable yet; Broker.resume() pumps again. */
  readonly holding?: boolean;
}

export type MessageState = "active" | "deferred" | "scheduled";

export interface SerializedMessage {
  seq: number;
  at: number; // enqueued
  exp: number; // expires (ms since epoch; 0 = never)
  st: MessageState;
  sch?: number;
  dc: number;
  src?: string;
  b: string; // base64 of the encoded message (sender's sections + edited application properties)
}

export interface StoredMessage {
  seq: number;
  content: MessageContent;
  enqueuedAt: number;
  expiresAt: number; // Infinity = never
  state: MessageState;
  scheduledAt?: number;
  deliveryCount: number;
  deadLetterSource?: string;
  group: string; // session id, or "" in a queue without sessions
  lockToken?: string;
  lockedUntil?: number;
  lockOwner?: Consumer;
  lockTimer?: NodeJS.Timeout;
  scheduleTimer?: NodeJS.Timeout;
  available: boolean;
}

/** A receiving link as the broker sees it; the AMQP layer implements it. */
export interface Consumer {
  readonly mode: "peekLock" | "receiveAndDelete";
  sessionId?: string;
  credit(): number;
  deliver(m: StoredMessage, lockToken: string | undefined, lockedUntil: number | undefined): void;
  sessionLost(error: BrokerError): void;
  idle(): void;
}

/** Sorted sequence numbers with cheap removal from the front (FIFO order within a group). */
class SeqQueue {
  private items: number[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  first(): number | undefined {
    return this.size > 0 ? this.items[this.head] : undefined;
  }
  insert(seq: number): void {
    const n = this.items.length;
    if (n === this.head || this.items[n - 1] < seq) {
      this.items.push(seq);
      return;
    }
    this.items.splice(this.search(seq), 0, seq);
  }
  shift(): number | undefined {
    if (this.size === 0) return undefined;
    const v = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return v;
  }
  remove(seq: number): void {
    const i = this.search(seq);
    if (i < this.items.length && this.items[i] === seq) this.items.splice(i, 1);
  }
  private search(seq: number): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.items[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface Group {
  id: string;
  queue: SeqQueue;
  owner?: Consumer;
  lockedUntil: number;
  timer?: NodeJS.Timeout;
}

interface SessionWaiter {
  consumer: Consumer;
  resolve: (sid: string | undefined) => void;
  timer: NodeJS.Timeout;
}

const MAX_TIMER = 2 ** 31 - 1;

/** A queue, a subscription or a dead-letter subqueue: the broker's unit of storage and delivery. */
export class Store {
  nextSeq = 1;
  readonly messages = new Map<number, StoredMessage>();
  private readonly groups = new Map<string, Group>();
  private readonly byToken = new Map<string, StoredMessage>();
  private consumers: Consumer[] = [];
  private rr = 0;
  private waiters: SessionWaiter[] = [];
  readonly sessionStates = new Map<string, Buffer>();
  private pumping = false;
  private repump = false;
  earliestExpiry = Infinity;
  dlq?: Store;
  private closed = false;

  constructor(
    readonly key: string, // canonical lower-case path, used in log records
    readonly path: string, // display path, used as dead-letter source
    readonly settings: QueueSettings,
    readonly isDeadLetter: boolean,
    private readonly journal: Journal,
    private readonly log: (m: string) => void,
  ) {}

  get sessionful(): boolean {
    return this.settings.requiresSession && !this.isDeadLetter;
  }

  // ---- enqueue -------------------------------------------------------------------------------

  /** Creates a message in this store and returns its log record; the caller persists it. */
  add(
    content: MessageContent,
    now: number,
    opts: {
      ttlDefault?: number;
      scheduledAt?: number;
      deadLetterSource?: string;
      seq?: number;
    } = {},
  ): StoredMessage {
    const ttl = Math.min(
      content.header.ttl ?? Infinity,
      opts.ttlDefault ?? this.settings.defaultTtlMs,
    );
    const scheduled = opts.scheduledAt !== undefined && opts.scheduledAt > now;
    const enqueuedAt = scheduled ? opts.scheduledAt! : now;
    const m: StoredMessage = {
      seq: opts.seq ?? this.nextSeq++,
      content,
      enqueuedAt,
      expiresAt: this.isDeadLetter ? Infinity : enqueuedAt + ttl,
      state: scheduled ? "scheduled" : "active",
      scheduledAt: opts.scheduledAt,
      deliveryCount: 0,
      deadLetterSource: opts.deadLetterSource,
      group: this.sessionful ? (content.sessionId ?? "") : "",
      available: false,
    };
    this.insert(m);
    return m;
  }

  /** Puts a message (new or recovered) in place: timers, queues, waiting session receivers. */
  insert(m: StoredMessage): void {
    this.messages.set(m.seq, m);
    if (m.seq >= this.nextSeq) this.nextSeq = m.seq + 1;
    if (m.expiresAt < this.earliestExpiry) this.earliestExpiry = m.expiresAt;
    if (m.state === "scheduled") this.armSchedule(m);
    else if (m.state === "active") this.makeAvailable(m);
  }

  private armSchedule(m: StoredMessage): void {
    const delay = (m.scheduledAt ?? 0) - Date.now();
    if (delay <= 0) {
      m.state = "active";
      this.makeAvailable(m);
      this.pump();
      return;
    }
    m.scheduleTimer = setTimeout(() => this.armSchedule(m), Math.min(delay, MAX_TIMER));
    m.scheduleTimer.unref();
  }

  private group(id: string): Group {
    let g = this.groups.get(id);
    if (!g) {
      g = { id, queue: new SeqQueue(), lockedUntil: 0 };
      this.groups.set(id, g);
    }
    return g;
  }

  private makeAvailable(m: StoredMessage): void {
    if (m.available) return;
    m.available = true;
    const g = this.group(m.group);
    g.queue.insert(m.seq);
    if (this.sessionful && !g.owner && this.waiters.length > 0) this.offerSession(g);
  }

  private takeAvailable(m: StoredMessage): void {
    if (!m.available) return;
    m.available = false;
    this.groups.get(m.group)?.queue.remove(m.seq);
  }

  record(m: StoredMessage): SerializedMessage {
    return {
      seq: m.seq,
      at: m.enqueuedAt,
      exp: Number.isFinite(m.expiresAt) ? m.expiresAt : 0,
      st: m.state,
      sch: m.scheduledAt,
      dc: m.deliveryCount,
      src: m.deadLetterSource,
      b: encodeMessage(m.content).toString("base64"),
    };
  }

  static revive(s: SerializedMessage, sessionful: boolean): StoredMessage {
    const content = parseMessage(Buffer.from(s.b, "base64"));
    return {
      seq: s.seq,
      content,
      enqueuedAt: s.at,
      expiresAt: s.exp === 0 ? Infinity : s.exp,
      state: s.st,
      scheduledAt: s.sch,
      deliveryCount: s.dc,
      deadLetterSource: s.src,
      group: sessionful ? (content.sessionId ?? "") : "",
      available: false,
    };
  }

  /** Removes a message entirely (settled, expired, cancelled). */
  private drop(m: StoredMessage): void {
    this.takeAvailable(m);
    this.clearLock(m);
    if (m.scheduleTimer) clearTimeout(m.scheduleTimer);
    this.messages.delete(m.seq);
  }

  private clearLock(m: StoredMessage): void {
    if (m.lockTimer) clearTimeout(m.lockTimer);
    if (m.lockToken) this.byToken.delete(m.lockToken);
    m.lockTimer = undefined;
    m.lockToken = undefined;
    m.lockedUntil = undefined;
    m.lockOwner = undefined;
  }

  // ---- receivers ----------------------------------------------------------------------------

  attach(c: Consumer): void {
    this.consumers.push(c);
  }

  detach(c: Consumer): void {
    this.consumers = this.consumers.filter((x) => x !== c);
    this.waiters = this.waiters.filter((w) => {
      if (w.consumer !== c) return true;
      clearTimeout(w.timer);
      w.resolve(undefined);
      return false;
    });
    if (c.sessionId !== undefined) {
      const g = this.groups.get(c.sessionId);
      if (g && g.owner === c) void this.releaseSession(g);
    }
  }

  /** Hands available messages to consumers with credit, round-robin; FIFO within each group. */
  pump(): void {
    if (this.closed) return;
    if (this.journal.holding) {
      for (const c of this.consumers) c.idle(); // a drain is answered: nothing to hand out now
      return;
    }
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.repump = false;
        this.pumpOnce();
      } while (this.repump);
    } finally {
      this.pumping = false;
    }
  }

  private pumpOnce(): void {
    const now = Date.now();
    const cs = this.consumers;
    if (cs.length === 0) return;
    if (this.sessionful) {
      for (const c of cs) {
        const g = c.sessionId !== undefined ? this.groups.get(c.sessionId) : undefined;
        if (g && g.owner === c) while (c.credit() > 0 && this.deliverNext(c, g, now));
        c.idle();
      }
      return;
    }
    const g = this.groups.get("");
    let progressed = true;
    while (g && g.queue.size > 0 && progressed) {
      progressed = false;
      for (let i = 0; i < cs.length && g.queue.size > 0; i++) {
        const c = cs[(this.rr + i) % cs.length];
        if (c.credit() > 0 && this.deliverNext(c, g, now)) progressed = true;
      }
      this.rr = (this.rr + 1) % cs.length;
    }
    for (const c of cs) c.idle();
  }

  private deliverNext(c: Consumer, g: Group, now: number): boolean {
    for (;;) {
      const seq = g.queue.first();
      if (seq === undefined) return false;
      const m = this.messages.get(seq)!;
      if (m.expiresAt <= now) {
        this.expire(m);
        continue;
      }
      this.takeAvailable(m);
      m.deliveryCount++;
      if (c.mode === "receiveAndDelete") {
        this.drop(m);
        const removal: LogRecord = { t: "del", e: this.key, seq: m.seq };
        // Removed from the log before it leaves: receiveAndDelete is at most once.
        this.journal.append([removal]).then(
          () => c.deliver(m, undefined, undefined),
          (err: unknown) => this.log(`receiveAndDelete of ${m.seq} not persisted: ${String(err)}`),
        );
        return true;
      }
      const token = this.lock(m, c, now);
      c.deliver(m, token, m.lockedUntil);
      return true;
    }
  }

  private lock(m: StoredMessage, owner: Consumer | undefined, now: number): string {
    const token = randomUUID();
    m.lockToken = token;
    m.lockOwner = owner;
    this.byToken.set(token, m);
    if (this.sessionful && m.group !== undefined && this.groups.get(m.group)?.owner) {
      m.lockedUntil = this.groups.get(m.group)!.lockedUntil;
    } else {
      this.setLockTimer(m, now + this.settings.lockDurationMs);
    }
    return token;
  }

  private setLockTimer(m: StoredMessage, until: number): void {
    if (m.lockTimer) clearTimeout(m.lockTimer);
    m.lockedUntil = until;
    const token = m.lockToken;
    m.lockTimer = setTimeout(() => {
      if (m.lockToken === token && this.messages.get(m.seq) === m) {
        this.log(`lock on ${this.path} #${m.seq} expired`);
        void this.unlockAndReturn(m, {});
      }
    }, until - Date.now());
    m.lockTimer.unref();
  }

  /** Abandon semantics: back to the queue (or dead-letter once the delivery count is used up). */
  private async unlockAndReturn(m: StoredMessage, opts: SettleOptions): Promise<void> {
    this.clearLock(m);
    if (opts.propertiesToModify) setAppProps(m.content, opts.propertiesToModify);
    if (
      !this.isDeadLetter &&
      m.deliveryCount >= this.settings.maxDeliveryCount &&
      m.state === "active"
    ) {
      await this.deadLetter(m, {
        reason: "MaxDeliveryCountExceeded",
        description: `Message could not be consumed after ${this.settings.maxDeliveryCount} delivery attempts.`,
      });
      return;
    }
    if (m.state === "active") this.makeAvailable(m);
    const p = this.journal.append([this.update(m, opts.propertiesToModify !== undefined)]);
    this.pump();
    await p;
  }

  private update(m: StoredMessage, withProps: boolean): LogRecord {
    return {
      t: "upd",
      e: this.key,
      seq: m.seq,
      dc: m.deliveryCount,
      st: m.state,
      ap: withProps ? m.content.appProps : undefined,
    };
  }

  private async deadLetter(m: StoredMessage, opts: SettleOptions): Promise<void> {
    const dlq = this.dlq;
    if (!dlq)
      throw new BrokerError(
        "amqp:not-allowed",
        "Messages in a dead-letter queue cannot be dead-lettered.",
        400,
      );
    this.drop(m);
    const props: Record<string, unknown> = {};
    if (opts.reason !== undefined) props.DeadLetterReason = opts.reason;
    if (opts.description !== undefined) props.DeadLetterErrorDescription = opts.description;
    const content = { ...m.content };
    if (opts.propertiesToModify) setAppProps(content, opts.propertiesToModify);
    if (Object.keys(props).length > 0) setAppProps(content, props);
    const moved = dlq.add(content, Date.now(), { deadLetterSource: this.path });
    moved.enqueuedAt = m.enqueuedAt;
    moved.deliveryCount = m.deliveryCount;
    const p = this.journal.append([
      { t: "del", e: this.key, seq: m.seq },
      { t: "enq", e: dlq.key, m: dlq.record(moved) },
    ]);
    dlq.pump();
    await p;
  }

  private expire(m: StoredMessage): void {
    if (this.settings.deadLetterOnExpiration && this.dlq) {
      void this.deadLetter(m, {
        reason: "TTLExpiredException",
        description: "The message expired and was dead lettered.",
      }).catch((e: unknown) => this.log(`expiry of ${m.seq}: ${String(e)}`));
    } else {
      this.drop(m);
      this.journal
        .append([{ t: "del", e: this.key, seq: m.seq }])
        .catch((e: unknown) => this.log(`expiry of ${m.seq}: ${String(e)}`));
    }
  }

  /** Expires messages whose time-to-live passed (locked ones wait for their lock to end). */
  sweepExpired(now: number): void {
    if (this.earliestExpiry > now) return;
    let next = Infinity;
    for (const m of [...this.messages.values()]) {
      if (m.expiresAt <= now && !m.lockToken && m.state !== "scheduled") this.expire(m);
      else if (m.expiresAt < next) next = m.expiresAt;
    }
    this.earliestExpiry = next;
  }

  // ---- settlement ---------------------------------------------------------------------------

  private lockedMessage(token: string, sessionId?: string): StoredMessage {
    const m = this.byToken.get(token);
    if (!m || this.messages.get(m.seq) !== m) throw lockLost();
    if (this.sessionful) {
      const g = this.groups.get(m.group);
      if (!g || !g.owner || (m.lockOwner && g.owner !== m.lockOwner))
        throw sessionLockLost(sessionId ?? m.group);
    } else if ((m.lockedUntil ?? 0) < Date.now()) {
      throw lockLost();
    }
    return m;
  }

  async settle(
    token: string,
    op: SettleOp,
    opts: SettleOptions = {},
    sessionId?: string,
  ): Promise<void> {
    const m = this.lockedMessage(token, sessionId);
    switch (op) {
      case "complete": {
        this.drop(m);
        await this.journal.append([{ t: "del", e: this.key, seq: m.seq }]);
        return;
      }
      case "abandon":
        return this.unlockAndReturn(m, opts);
      case "defer": {
        this.clearLock(m);
        if (opts.propertiesToModify) setAppProps(m.content, opts.propertiesToModify);
        m.state = "deferred";
        await this.journal.append([this.update(m, true)]);
        return;
      }
      case "deadletter":
        this.clearLock(m);
        return this.deadLetter(m, opts);
    }
  }

  renewLock(token: string): number {
    const m = this.lockedMessage(token);
    if (this.sessionful) return m.lockedUntil ?? Date.now();
    this.setLockTimer(m, Date.now() + this.settings.lockDurationMs);
    return m.lockedUntil!;
  }

  // ---- management ---------------------------------------------------------------------------

  peek(from: number, count: number, sessionId?: string): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const m of this.messages.values()) {
      if (m.seq < from) continue;
      if (sessionId !== undefined && m.group !== sessionId) continue;
      out.push(m);
      if (out.length >= count) break;
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  cancelScheduled(seqs: number[]): Promise<void> {
    const recs: LogRecord[] = [];
    for (const seq of seqs) {
      const m = this.messages.get(seq);
      if (m && m.state === "scheduled") {
        this.drop(m);
        recs.push({ t: "del", e: this.key, seq });
      }
    }
    return this.journal.append(recs);
  }

  receiveDeferred(
    seqs: number[],
    mode: "peekLock" | "receiveAndDelete",
    sessionId: string | undefined,
  ): { m: StoredMessage; token?: string }[] {
    const now = Date.now();
    const found = seqs.map((seq) => {
      const m = this.messages.get(seq);
      if (!m || m.state !== "deferred" || (sessionId !== undefined && m.group !== sessionId)) {
        throw new BrokerError(
          "com.microsoft:message-not-found",
          `Failed to lock one or more specified messages. Either the message is not deferred, or does not exist (sequence number ${seq}).`,
          404,
        );
      }
      if (m.lockToken)
        throw new BrokerError(
          "com.microsoft:message-lock-lost",
          `Message ${seq} is already locked.`,
          410,
        );
      return m;
    });
    return found.map((m) => {
      m.deliveryCount++;
      if (mode === "receiveAndDelete") {
        this.drop(m);
        void this.journal.append([{ t: "del", e: this.key, seq: m.seq }]);
        return { m };
      }
      const token = randomUUID();
      m.lockToken = token;
      this.byToken.set(token, m);
      this.setLockTimer(m, now + this.settings.lockDurationMs);
      return { m, token };
    });
  }

  // ---- sessions -----------------------------------------------------------------------------

  /** Locks a named session for a receiver; false when another receiver holds it. */
  lockSession(c: Consumer, sid: string): boolean {
    const g = this.group(sid);
    if (g.owner && g.owner !== c) return false;
    g.owner = c;
    c.sessionId = sid;
    this.renewSession(g);
    return true;
  }

  /** Waits up to timeoutMs for an unlocked session with messages; resolves its id or undefined. */
  acceptNextSession(c: Consumer, timeoutMs: number): Promise<string | undefined> {
    for (const g of this.groups.values()) {
      if (!g.owner && g.queue.size > 0) {
        this.lockSession(c, g.id);
        return Promise.resolve(g.id);
      }
    }
    return new Promise((resolve) => {
      const w: SessionWaiter = {
        consumer: c,
        resolve,
        timer: setTimeout(() => {
          this.waiters = this.waiters.filter((x) => x !== w);
          resolve(undefined);
        }, timeoutMs),
      };
      this.waiters.push(w);
    });
  }

  private offerSession(g: Group): void {
    const w = this.waiters.shift();
    if (!w) return;
    clearTimeout(w.timer);
    this.lockSession(w.consumer, g.id);
    w.resolve(g.id);
  }

  sessionLockedUntil(sid: string): number {
    return this.groups.get(sid)?.lockedUntil ?? 0;
  }

  private renewSession(g: Group): void {
    g.lockedUntil = Date.now() + this.settings.lockDurationMs;
    if (g.timer) clearTimeout(g.timer);
    g.timer = setTimeout(() => {
      const owner = g.owner;
      if (!owner) return;
      this.log(`session lock on ${this.path} session ${g.id} expired`);
      void this.releaseSession(g);
      owner.sessionLost(sessionLockLost(g.id));
    }, this.settings.lockDurationMs);
    g.timer.unref();
    for (const m of this.messages.values()) {
      if (m.group === g.id && m.lockToken && m.lockOwner === g.owner) m.lockedUntil = g.lockedUntil;
    }
  }

  renewSessionLock(sid: string): number {
    const g = this.groups.get(sid);
    if (!g || !g.owner) throw sessionLockLost(sid);
    this.renewSession(g);
    return g.lockedUntil;
  }

  private async releaseSession(g: Group): Promise<void> {
    const owner = g.owner;
    g.owner = undefined;
    if (g.timer) clearTimeout(g.timer);
    const held = [...this.messages.values()].filter(
      (m) => m.group === g.id && m.lockOwner === owner && m.lockToken,
    );
    await Promise.all(held.map((m) => this.unlockAndReturn(m, {})));
    if (g.queue.size > 0 && this.waiters.length > 0) this.offerSession(g);
  }

  private requireSessionLock(sid: string): void {
    const g = this.groups.get(sid);
    if (!g || !g.owner) throw sessionLockLost(sid);
  }

  getSessionState(sid: string): Buffer | undefined {
    this.requireSessionLock(sid);
    return this.sessionStates.get(sid);
  }

  async setSessionState(sid: string, state: Buffer | undefined): Promise<void> {
    this.requireSessionLock(sid);
    if (state === undefined) this.sessionStates.delete(sid);
    else this.sessionStates.set(sid, state);
    await this.journal.append([
      { t: "ss", e: this.key, sid, v: state ? state.toString("base64") : null },
    ]);
  }

  listSessions(): string[] {
    return [...this.groups.values()]
      .filter((g) => g.queue.size > 0 || this.sessionStates.has(g.id))
      .map((g) => g.id);
  }

  // ---- recovery / shutdown ------------------------------------------------------------------

  applyUpdate(seq: number, dc: number, st: MessageState, ap?: Record<string, unknown>): void {
    const m = this.messages.get(seq);
    if (!m) return;
    m.deliveryCount = dc;
    if (ap) setAppProps(m.content, ap);
    if (st !== m.state) {
      this.takeAvailable(m);
      m.state = st;
      if (st === "active") this.makeAvailable(m);
    }
  }

  applyDelete(seq: number): void {
    const m = this.messages.get(seq);
    if (m) this.drop(m);
  }

  close(): void {
    this.closed = true;
    for (const m of this.messages.values()) {
      if (m.lockTimer) clearTimeout(m.lockTimer);
      if (m.scheduleTimer) clearTimeout(m.scheduleTimer);
    }
    for (const g of this.groups.values()) if (g.timer) clearTimeout(g.timer);
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters = [];
  }
}

interface Subscription {
  settings: SubscriptionSettings;
  store: Store;
  predicates: Predicate[];
}

/** Where an AMQP address points. */
export type Resolved =
  | { kind: "queue"; store: Store; dedup: Dedup }
  | { kind: "topic"; topic: Topic }
  | { kind: "subqueue"; store: Store }; // subscription or dead-letter queue: receive only

export class Dedup {
  private readonly seen = new Map<string, number>();
  constructor(
    readonly enabled: boolean,
    private readonly windowMs: number,
  ) {}
  /** True when the message id was already accepted inside the window (the send is then dropped). */
  isDuplicate(id: string | undefined, now: number): boolean {
    if (!this.enabled || id === undefined) return false;
    for (const [k, exp] of this.seen) {
      if (exp > now) break;
      this.seen.delete(k);
    }
    const exp = this.seen.get(id);
    if (exp !== undefined && exp > now) return true;
    this.seen.delete(id);
    this.seen.set(id, now + this.windowMs);
    return false;
  }
  remember(id: string | undefined, at: number): void {
    if (this.enabled && id !== undefined && at + this.windowMs > Date.now())
      this.seen.set(id, at + this.windowMs);
  }
}

export class Topic {
  readonly subscriptions: Subscription[] = [];
  /** Shared by its subscriptions so a scheduled message has one sequence number to cancel. */
  nextSeq = 1;
  readonly dedup: Dedup;
  constructor(readonly settings: TopicSettings) {
    this.dedup = new Dedup(settings.requiresDuplicateDetection, settings.duplicateWindowMs);
  }
}

const DLQ = "$deadletterqueue";

/** All entities of the namespace, resolved from the config; unknown entities are refused. */
export class Broker {
  readonly stores = new Map<string, Store>();
  private readonly queues = new Map<string, { store: Store; dedup: Dedup }>();
  private readonly topics = new Map<string, Topic>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    readonly config: EmulatorConfig,
    readonly journal: Journal,
    private readonly log: (m: string) => void,
  ) {
    const make = (key: string, path: string, s: QueueSettings): Store => {
      const store = new Store(key, path, s, false, journal, log);
      const dlq = new Store(`${key}/${DLQ}`, `${path}/$DeadLetterQueue`, s, true, journal, log);
      store.dlq = dlq;
      this.stores.set(store.key, store);
      this.stores.set(dlq.key, dlq);
      return store;
    };
    for (const q of config.queues) {
      const store = make(q.name.toLowerCase(), q.name, q);
      this.queues.set(store.key, {
        store,
        dedup: new Dedup(q.requiresDuplicateDetection, q.duplicateWindowMs),
      });
    }
    for (const t of config.topics) {
      const topic = new Topic(t);
      this.topics.set(t.name.toLowerCase(), topic);
      for (const s of t.subscriptions) {
        const key = `${t.name}/subscriptions/${s.name}`.toLowerCase();
        const store = make(key, `${t.name}/Subscriptions/${s.name}`, s);
        const rules =
          s.rules.length > 0
            ? s.rules
            : [{ name: "$Default", filter: { kind: "sql" as const, expression: "1=1" } }];
        const predicates = rules.map((r) => {
          if (r.action)
            log(`rule ${key}/${r.name}: SQL rule actions are not emulated; the action is ignored`);
          try {
            return compileFilter(r.filter);
          } catch (err) {
            throw new Error(
              `Invalid Service Bus config: rule "${key}/${r.name}": ${(err as Error).message}`,
            );
          }
        });
        topic.subscriptions.push({ settings: s, store, predicates });
      }
    }
    this.sweeper = setInterval(() => {
      const now = Date.now();
      for (const s of this.stores.values()) s.sweepExpired(now);
    }, 500);
    this.sweeper.unref();
  }

  /** Maps an AMQP address (`queue`, `topic/Subscriptions/sub`, `.../$DeadLetterQueue`) to an entity. */
  resolve(address: string): Resolved | undefined {
    let a = address.replace(/^(amqps?|sb):\/\/[^/]+\//i, "").toLowerCase();
    a = a.replace(/\/\$transfer\/\$deadletterqueue$/, `/${DLQ}`);
    const q = this.queues.get(a);
    if (q) return { kind: "queue", store: q.store, dedup: q.dedup };
    const t = this.topics.get(a);
    if (t) return { kind: "topic", topic: t };
    const s = this.stores.get(a);
    if (s) return { kind: "subqueue", store: s };
    return undefined;
  }

  /** Accepts a sent message into a queue or topic. Resolves once it is durable. */
  async send(target: Resolved, content: MessageContent, now = Date.now()): Promise<number[]> {
    const scheduledRaw = content.annotations["x-opt-scheduled-enqueue-time"];
    const scheduledAt = scheduledRaw instanceof Date ? scheduledRaw.getTime() : undefined;
    return this.enqueue(target, content, now, scheduledAt);
  }

  async enqueue(
    target: Resolved,
    content: MessageContent,
    now: number,
    scheduledAt?: number,
  ): Promise<number[]> {
    if (target.kind === "subqueue") {
      throw new BrokerError(
        "amqp:not-allowed",
        "Cannot send to a subscription or a dead-letter queue.",
        400,
      );
    }
    if (target.kind === "queue") {
      const store = target.store;
      if (store.sessionful && content.sessionId === undefined) {
        throw new BrokerError(
          "amqp:not-allowed",
          `The SessionId was not set on a message, and it cannot be sent to the entity '${store.path}'. Entities that have session support enabled can only receive messages that have the SessionId set to a valid value.`,
          400,
        );
      }
      if (target.dedup.isDuplicate(content.messageId, now)) return [];
      const m = store.add(content, now, { scheduledAt });
      const p = this.journal.append([{ t: "enq", e: store.key, m: store.record(m) }]);
      store.pump();
      await p;
      return [m.seq];
    }
    const topic = target.topic;
    if (topic.dedup.isDuplicate(content.messageId, now)) return [];
    const recs: LogRecord[] = [];
    const seqs: number[] = [];
    const view = { system: content.system, properties: content.appProps ?? {} };
    const touched: Store[] = [];
    const seq = topic.nextSeq++;
    for (const sub of topic.subscriptions) {
      if (!sub.predicates.some((p) => p(view))) continue;
      if (sub.store.sessionful && content.sessionId === undefined) continue;
      const m = sub.store.add(content, now, {
        seq,
        scheduledAt,
        ttlDefault: Math.min(topic.settings.defaultTtlMs, sub.settings.defaultTtlMs),
      });
      recs.push({ t: "enq", e: sub.store.key, m: sub.store.record(m) });
      seqs.push(m.seq);
      touched.push(sub.store);
    }
    const p = this.journal.append(recs);
    for (const s of touched) s.pump();
    await p;
    return seqs.length > 0 ? [seq] : [];
  }

  /** Rebuilds state from a snapshot and the records after it. */
  recover(snapshot: BrokerSnapshot | undefined, records: LogRecord[]): void {
    const sessionful = (s: Store): boolean => s.sessionful;
    if (snapshot) {
      for (const [key, e] of Object.entries(snapshot.stores)) {
        const s = this.stores.get(key);
        if (!s) {
          this.log(`data for unknown entity "${key}" ignored (not in the config)`);
          continue;
        }
        s.nextSeq = Math.max(s.nextSeq, e.nextSeq);
        for (const m of e.messages) s.insert(Store.revive(m, sessionful(s)));
        for (const [sid, v] of Object.entries(e.sessions))
          s.sessionStates.set(sid, Buffer.from(v, "base64"));
      }
    }
    for (const r of records) {
      const s = this.stores.get(r.e);
      if (!s) continue;
      if (r.t === "enq") s.insert(Store.revive(r.m, sessionful(s)));
      else if (r.t === "del") s.applyDelete(r.seq);
      else if (r.t === "upd") s.applyUpdate(r.seq, r.dc, r.st, r.ap);
      else if (r.t === "ss") {
        if (r.v === null) s.sessionStates.delete(r.sid);
        else s.sessionStates.set(r.sid, Buffer.from(r.v, "base64"));
      }
    }
    for (const q of this.queues.values()) {
      for (const m of q.store.messages.values())
        q.dedup.remember(m.content.messageId, m.enqueuedAt);
    }
    for (const t of this.topics.values()) {
      for (const s of t.subscriptions) t.nextSeq = Math.max(t.nextSeq, s.store.nextSeq);
    }
  }

  snapshot(): BrokerSnapshot {
    const stores: BrokerSnapshot["stores"] = {};
    for (const [key, s] of this.stores) {
      stores[key] = {
        nextSeq: s.nextSeq,
        messages: [...s.messages.values()].map((m) => s.record(m)),
        sessions: Object.fromEntries(
          [...s.sessionStates].map(([k, v]) => [k, v.toString("base64")]),
        ),
      };
    }
    return { stores };
  }

  /** Hands out messages again once the journal stops holding records back. */
  resume(): void {
    for (const s of this.stores.values()) s.pump();
  }

  close(): void {
    clearInterval(this.sweeper);
    for (const s of this.stores.values()) s.close();
  }
}

export interface BrokerSnapshot {
  stores: Record<
    string,
    { nextSeq: number; messages: SerializedMessage[]; sessions: Record<string, string> }
  >;
}
