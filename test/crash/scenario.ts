/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are JSON from the host */
// One crash run against the order app on a real host process: submit orders over HTTP and the
// orders-inbound queue, SIGKILL every host process at a chosen moment, restart on the same
// DATA_DIR, finish what the client had in flight (as a client would: same Idempotency-Key / same
// messageId), then check the invariants on every acknowledged order.
import { randomUUID } from "node:crypto";
import { ServiceBusClient, type ServiceBusSender } from "@azure/service-bus";
import { startHost, type StartedHost } from "../../local-host/test/support/host";
import { bearer, ROLES, Tokens } from "../helpers/tokens";

export const CARDS = {
  approve: "4242424242424242",
  transient: "4000000000000119",
  decline: "4000000000000002",
  captureFail: "4000000000000259",
} as const;

/** What an order is set up to do, and so what its outcome must be. */
export type Kind =
  | "approve"
  | "transient"
  | "decline"
  | "captureFail"
  | "approvalTimeout"
  /** Above the threshold; the client approves it as soon as it awaits approval. */
  | "approved";

export const APPROVAL_THRESHOLD_MINOR = 100000;
export const APPROVAL_TIMEOUT_SECONDS = 3;

export const HOST_ENV = {
  APPROVAL_THRESHOLD_MINOR: String(APPROVAL_THRESHOLD_MINOR),
  APPROVAL_TIMEOUT: `PT${APPROVAL_TIMEOUT_SECONDS}S`,
};

/** mulberry32: a seeded PRNG, so a failing run can be replayed with CRASH_SEED. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Planned {
  index: number;
  kind: Kind;
  via: "http" | "queue";
  /** HTTP: the Idempotency-Key; queue: the messageId. */
  key: string;
  /** Queue orders carry their id; HTTP orders learn it from the 202. */
  orderId?: string;
  body: Record<string, unknown>;
  total: number;
}

export interface Accepted {
  orderId: string;
  planned: Planned;
  /** performance.now() when the 202 / send acknowledgement arrived. */
  at: number;
  phase: "beforeKill" | "afterRestart";
  /** "approved" orders: the approval request got its 202. */
  approvalAcknowledged?: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** `count` orders cycling through the kinds; one in ten goes through the orders-inbound queue. */
export function plan(runTag: string, count: number): Planned[] {
  // Plain approvals twice as often as each other kind.
  const kinds: Kind[] = [
    "approve",
    "transient",
    "decline",
    "captureFail",
    "approvalTimeout",
    "approve",
    "approved",
  ];
  const out: Planned[] = [];
  for (let i = 0; i < count; i++) {
    const kind = kinds[i % kinds.length];
    const via = i % 10 === 7 ? "queue" : "http";
    const large = kind === "approvalTimeout" || kind === "approved";
    const unitPrice = large ? APPROVAL_THRESHOLD_MINOR + 1000 + i : 1000 + i;
    const card = large ? CARDS.approve : CARDS[kind];
    const orderId = via === "queue" ? randomUUID() : undefined;
    const body: Record<string, unknown> = {
      customerId: `crash-${runTag}`,
      currency: "USD",
      items: [{ sku: `SKU-${i}`, name: `Item ${i}`, quantity: 1, unitPrice }],
      shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
      payment: { cardNumber: card },
      ...(orderId ? { orderId } : {}),
    };
    out.push({
      index: i,
      kind,
      via,
      key: `crash-${runTag}-${i}`,
      ...(orderId ? { orderId } : {}),
      body,
      total: unitPrice,
    });
  }
  return out;
}

/**
 * The suite's bearer token (an application with every role) for the current run's host, minted
 * from its development issuer; the issuer's key and iss stay the same across the restarts of one
 * DATA_DIR, so a token minted before a kill is still good after it.
 */
let suiteAuth: Promise<Record<string, string>> | undefined;
const authByDataDir = new Map<string, Promise<Record<string, string>>>();
const SUITE_ROLES = [ROLES.submit, ROLES.approve, ROLES.operate];

export async function getJson(url: string): Promise<{ status: number; body: any }> {
  const headers = (await suiteAuth) ?? {};
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10000) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A client of one host incarnation: HTTP base URL and a Service Bus sender. */
export class Client {
  readonly api: string;
  readonly #sb: ServiceBusClient;
  readonly #sender: ServiceBusSender;

  constructor(host: StartedHost) {
    this.api = String(host.endpoints.apiBaseUrl);
    // One token per DATA_DIR (each run has its own issuer key), reused across its restarts.
    let auth = authByDataDir.get(host.dataDir);
    if (!auth) {
      auth = Tokens.forHost(host.endpoints)
        .app("crash-suite", SUITE_ROLES)
        .then((token) => bearer(token));
      authByDataDir.set(host.dataDir, auth);
    }
    suiteAuth = auth;
    // No SDK retries: an unacknowledged send is the client's to repeat, after the restart.
    this.#sb = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString), {
      retryOptions: { maxRetries: 0, timeoutInMs: 5000 },
    });
    this.#sender = this.#sb.createSender("orders-inbound");
  }

  /**
   * The order id when the host acknowledged the order, else undefined (thrown or refused).
   * `observe` sees each HTTP answer's status and Retry-After (the fault suite checks them).
   */
  async submit(
    p: Planned,
    observe?: (status: number, retryAfter: string | null) => void,
  ): Promise<string | undefined> {
    if (p.via === "queue") {
      await this.#sender.sendMessages({
        body: p.body,
        messageId: p.key,
        contentType: "application/json",
      });
      return p.orderId;
    }
    const res = await fetch(`${this.api}/orders`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "idempotency-key": p.key,
        ...(await suiteAuth),
      },
      body: JSON.stringify(p.body),
      signal: AbortSignal.timeout(15000),
    });
    observe?.(res.status, res.headers.get("retry-after"));
    const body = (await res.json()) as any;
    // 200 = the same key again (a retry of a request whose 202 was lost): same order.
    if (res.status === 202 || res.status === 200) return String(body.orderId);
    throw new Error(`POST /orders answered ${res.status}: ${JSON.stringify(body)}`);
  }

  /**
   * Approves the order once it awaits approval (409 until its workflow reaches that stage; for an
   * order sent through the queue also 404 until the host has taken the message in; 404 too until
   * the order is recorded as awaiting approval, since an approver sees only such orders).
   * True when the approval got a 202; false when the order never awaited approval in time.
   */
  async approve(orderId: string, via: Planned["via"], stop?: () => boolean): Promise<boolean> {
    const deadline = Date.now() + APPROVAL_TIMEOUT_SECONDS * 1000 - 500;
    while (Date.now() < deadline && !stop?.()) {
      const res = await fetch(`${this.api}/orders/${orderId}/approval`, {
        method: "POST",
        headers: { "content-type": "application/json", ...(await suiteAuth) },
        body: JSON.stringify({ approved: true }),
        signal: AbortSignal.timeout(10000),
      });
      await res.arrayBuffer();
      if (res.status === 202) return true;
      // 404 until the order is recorded as awaiting approval (an approver sees only those), and
      // for an order sent through the queue until the host has taken the message in.
      const notYet = res.status === 409 || res.status === 404;
      if (!notYet) throw new Error(`POST approval answered ${res.status}`);
      await sleep(50);
    }
    return false;
  }

  async close(): Promise<void> {
    await this.#sender.close().catch(() => undefined);
    await this.#sb.close().catch(() => undefined);
  }
}

export interface SubmitState {
  accepted: Map<number, Accepted>;
  /** Planned orders whose submission was sent but not acknowledged (in flight at the kill). */
  unacknowledged: Set<number>;
  /** Planned orders never sent. */
  unsent: Set<number>;
}

/**
 * Submits `orders` with `concurrency` lanes until done or `stop()` is true. Resolves when every
 * started submission has settled or `settleMs` after a stop (sends cut by a kill may hang).
 */
export async function submitAll(
  client: Client,
  orders: Planned[],
  state: SubmitState,
  options: {
    concurrency: number;
    phase: Accepted["phase"];
    stop?: () => boolean;
    onAccepted?: () => void;
    strict?: boolean;
  },
): Promise<void> {
  const queue = [...orders];
  const lane = async () => {
    for (;;) {
      if (options.stop?.()) return;
      const p = queue.shift();
      if (!p) return;
      state.unsent.delete(p.index);
      state.unacknowledged.add(p.index);
      try {
        const orderId = await client.submit(p);
        if (orderId) {
          state.unacknowledged.delete(p.index);
          const accepted: Accepted = {
            orderId,
            planned: p,
            at: performance.now(),
            phase: options.phase,
          };
          state.accepted.set(p.index, accepted);
          options.onAccepted?.();
          if (p.kind === "approved") {
            accepted.approvalAcknowledged = false;
            accepted.approvalAcknowledged = await client.approve(orderId, p.via, options.stop);
          }
        }
      } catch (err) {
        // Before a kill nothing may fail; cut connections at the kill are expected.
        if (options.strict || !options.stop?.()) throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, lane));
}

export interface KillPlan {
  /** Kill once this many orders were acknowledged (submissions still in flight)... */
  afterAccepted?: number;
  /** ...or this long after the last acknowledgement. */
  delayAfterLastMs?: number;
  /** A second kill this long after the first restart (mid-recovery). */
  secondKillAfterRestartMs?: number;
  /** A second kill this long after the restart was spawned, before it reports ready. */
  killDuringStartupAfterMs?: number;
}

export interface RunResult {
  accepted: Accepted[];
  acceptedBeforeKill: number;
  /** Approval orders whose timer (APPROVAL_TIMEOUT after the 202) had not fired at the kill. */
  timersPendingAtKill: number;
  /** Accepted orders still in progress when first polled after the (last) restart. */
  inProgressAfterRestart: number;
  outcomes: Record<string, number>;
  /** "approved" orders whose approval got a 202 / was cut off by the kill. */
  approvals: { acknowledged: number; cutOff: number };
  recoverySeconds: number;
}

export async function startOrderHost(
  appDir: string,
  dataDir?: string,
  env: Record<string, string> = {},
): Promise<StartedHost> {
  return startHost({ appDir, dataDir, env: { ...HOST_ENV, ...env }, timeoutMs: 90000 });
}

/** Drives one run up to the final restart; the caller checks invariants with `verify`. */
export async function crashRun(
  appDir: string,
  orders: Planned[],
  kill: KillPlan,
  log: (line: string) => void,
  /** Every host started, as soon as it is up (the caller stops them whatever happens). */
  hosts: StartedHost[],
): Promise<{ host: StartedHost; client: Client; state: SubmitState; result: RunResult }> {
  let host = await startOrderHost(appDir);
  hosts.push(host);
  let client = new Client(host);
  const state: SubmitState = {
    accepted: new Map(),
    unacknowledged: new Set(),
    unsent: new Set(orders.map((o) => o.index)),
  };

  let killed = false;
  let killStartedAt = 0;
  let killDone: Promise<void> | undefined;
  const doKill = () => {
    if (killed) return;
    killed = true;
    killStartedAt = performance.now();
    killDone = host.kill();
  };

  const submitting = submitAll(client, orders, state, {
    concurrency: 8,
    phase: "beforeKill",
    stop: () => killed,
    onAccepted: () => {
      if (kill.afterAccepted !== undefined && state.accepted.size >= kill.afterAccepted) doKill();
    },
  });
  if (kill.afterAccepted === undefined) {
    // Timed from the last order's 202, not from the end of the approval requests: those wait
    // for their workflows (longer under load) and would push the kill past the approval timers.
    await Promise.race([submitting, waitUntil(() => state.accepted.size === orders.length)]);
    await sleep(kill.delayAfterLastMs ?? 0);
    doKill();
  } else {
    // Sends cut by the kill may only fail at their timeout: do not wait for them.
    await Promise.race([submitting.then(() => doKill()), waitUntil(() => killed)]);
  }
  await killDone;
  await Promise.race([submitting, sleep(3000)]);
  await client.close();
  const acceptedBeforeKill = state.accepted.size;
  const timersPendingAtKill = [...state.accepted.values()].filter(
    (a) =>
      a.planned.kind === "approvalTimeout" &&
      a.at > killStartedAt - APPROVAL_TIMEOUT_SECONDS * 1000,
  ).length;
  log(
    `killed ${host.pids().length === 0 ? "all" : "NOT all"} host processes with ${acceptedBeforeKill} ` +
      `acknowledged, ${state.unacknowledged.size} in flight, ${state.unsent.size} unsent, ` +
      `${timersPendingAtKill} approval timers pending`,
  );
  if (host.pids().length > 0) throw new Error(`processes survived the kill: ${host.pids()}`);

  const dataDir = host.dataDir;
  if (kill.killDuringStartupAfterMs !== undefined) {
    // startHost SIGKILLs every process it started when readiness times out.
    try {
      const early = await startHost({
        appDir,
        dataDir,
        env: HOST_ENV,
        timeoutMs: kill.killDuringStartupAfterMs,
      });
      hosts.push(early);
      await early.kill();
      log(`the restart was ready within ${kill.killDuringStartupAfterMs} ms; killed it then`);
    } catch (err) {
      if (!String(err).includes("was not ready within")) throw err;
      log(`killed the restart ${kill.killDuringStartupAfterMs} ms into its startup`);
    }
  }
  const restartedAt = performance.now();
  host = await startOrderHost(appDir, dataDir);
  hosts.push(host);
  if (kill.secondKillAfterRestartMs !== undefined) {
    await sleep(kill.secondKillAfterRestartMs);
    await host.kill();
    log(`second kill ${kill.secondKillAfterRestartMs} ms after the restart (mid-recovery)`);
    host = await startOrderHost(appDir, host.dataDir);
    hosts.push(host);
  }
  client = new Client(host);

  // Finish as a client would: repeat what was not acknowledged (same key / messageId), send the rest.
  const rest = orders.filter((o) => state.unacknowledged.has(o.index) || state.unsent.has(o.index));
  await submitAll(client, rest, state, { concurrency: 8, phase: "afterRestart", strict: true });
  state.unacknowledged.clear();

  const accepted = [...state.accepted.values()];
  const pending = new Set(accepted.map((a) => a.orderId));
  const viaQueue = new Set(accepted.filter((a) => a.planned.via === "queue").map((a) => a.orderId));
  let inProgressAfterRestart = -1;
  const deadline = Date.now() + 120000;
  const outcomes: Record<string, number> = {};
  const statuses = new Map<string, any>();
  while (pending.size > 0) {
    const ids = [...pending];
    let inProgress = 0;
    for (let i = 0; i < ids.length; i += 10) {
      await Promise.all(
        ids.slice(i, i + 10).map(async (id) => {
          const res = await getJson(`${client.api}/orders/${id}/status`);
          if (res.status === 200) {
            pending.delete(id);
            statuses.set(id, res.body);
          } else if (res.status === 202) inProgress++;
          // A queued order exists once the host has taken its message in.
          else if (res.status === 404 && viaQueue.has(id)) inProgress++;
          else throw new Error(`GET status of ${id} answered ${res.status}`);
        }),
      );
    }
    if (inProgressAfterRestart < 0) inProgressAfterRestart = inProgress;
    if (pending.size === 0) break;
    if (Date.now() > deadline) {
      throw new Error(`${pending.size} orders never reached a terminal state: ${[...pending]}`);
    }
    await sleep(300);
  }
  for (const body of statuses.values()) outcomes[body.status] = (outcomes[body.status] ?? 0) + 1;
  const recoverySeconds = (performance.now() - restartedAt) / 1000;
  return {
    host,
    client,
    state,
    result: {
      accepted,
      acceptedBeforeKill,
      timersPendingAtKill,
      inProgressAfterRestart,
      outcomes,
      approvals: {
        acknowledged: accepted.filter((a) => a.approvalAcknowledged === true).length,
        cutOff: accepted.filter((a) => a.approvalAcknowledged === false).length,
      },
      recoverySeconds,
    },
  };
}

async function waitUntil(predicate: () => boolean): Promise<void> {
  while (!predicate()) await sleep(5);
}

/** The outcomes an order may end with, given its card and what the client saw. */
function allowedOutcomes(a: Accepted, allowTransientExhausted: boolean): string[] {
  switch (a.planned.kind) {
    case "approve":
      return ["Completed"];
    case "transient":
      return allowTransientExhausted ? ["Completed", "PaymentFailed"] : ["Completed"];
    case "decline":
      return ["PaymentDeclined"];
    case "captureFail":
      return ["Failed"];
    case "approvalTimeout":
      return ["Rejected"];
    case "approved":
      // An approval that got its 202 must win; one cut off by the kill may or may not have landed
      // before the timer fired.
      return a.approvalAcknowledged ? ["Completed"] : ["Completed", "Rejected"];
  }
}

/** Ledger entries (charge, refund, decline) each outcome implies. */
const LEDGER: Record<string, [number, number, number]> = {
  Completed: [1, 0, 0],
  PaymentDeclined: [0, 0, 1],
  Failed: [1, 1, 0],
  Rejected: [0, 0, 0],
  PaymentFailed: [0, 0, 0],
};

/**
 * Checks every acknowledged order; returns the list of violations (empty = all invariants hold).
 * `allowTransientExhausted`: with two restarts the simulated gateway (which counts its two
 * transient failures per process) may fail a `transient` order five times; PaymentFailed is then
 * the correct outcome, provided no money was taken.
 */
export async function verify(
  api: string,
  accepted: Accepted[],
  options: { allowTransientExhausted?: boolean } = {},
): Promise<string[]> {
  const violations: string[] = [];
  const completed: Accepted[] = [];
  const byId = new Map<string, Accepted>();
  for (const a of accepted) {
    if (byId.has(a.orderId)) violations.push(`${a.orderId}: two planned orders share one id`);
    byId.set(a.orderId, a);
  }
  for (let i = 0; i < accepted.length; i += 10) {
    await Promise.all(
      accepted.slice(i, i + 10).map(async (a) => {
        const id = a.orderId;
        const { kind } = a.planned;
        const where = `${id} (${kind}, via ${a.planned.via}, #${a.planned.index})`;
        const status = await getJson(`${api}/orders/${id}/status`);
        if (status.status !== 200) {
          violations.push(`${where}: status endpoint answered ${status.status}`);
          return;
        }
        const got = status.body.status as string;
        const allowed = allowedOutcomes(a, options.allowTransientExhausted === true);
        if (!allowed.includes(got)) {
          violations.push(`${where}: expected ${allowed}, got ${JSON.stringify(status.body)}`);
          return;
        }
        const ledger = await getJson(`${api}/orders/${id}/payments`);
        if (ledger.status !== 200) {
          violations.push(`${where}: payments answered ${ledger.status}`);
          return;
        }
        const entries = ledger.body.items as { kind: string; amount: number; id: string }[];
        const count = (k: string) => entries.filter((e) => e.kind === k).length;
        const charges = count("charge");
        const refunds = count("refund");
        const declines = count("decline");
        if (charges > 1) violations.push(`${where}: DOUBLE CHARGE ${JSON.stringify(entries)}`);
        for (const e of entries) {
          if (e.amount !== a.planned.total) {
            violations.push(`${where}: ledger amount ${e.amount} ≠ total ${a.planned.total}`);
          }
        }
        const [c, r, d] = LEDGER[got];
        if (charges !== c || refunds !== r || declines !== d) {
          violations.push(
            `${where}: ${got} expects ${c} charge/${r} refund/${d} decline, ledger ${JSON.stringify(entries)}`,
          );
        }
        if (kind === "captureFail" && !status.body.outcome?.refundId) {
          violations.push(`${where}: Failed outcome without refundId`);
        }
        if (got === "Completed") completed.push(a);
        else {
          const n = await getJson(`${api}/orders/${id}/notifications`);
          if (n.body.items.length !== 0) {
            violations.push(`${where}: ${got} order has notifications ${JSON.stringify(n.body)}`);
          }
        }
      }),
    );
  }
  // Notifications travel through the notifications queue after Completed: allow them time.
  const deadline = Date.now() + 30000;
  let waiting = completed;
  while (waiting.length > 0) {
    const next: Accepted[] = [];
    const bad: string[] = [];
    for (const a of waiting) {
      const n = await getJson(`${api}/orders/${a.orderId}/notifications`);
      const items = n.body.items as { channel: string; notificationId: string }[];
      const channels = items.map((x) => x.channel).sort();
      if (items.length > 3 || new Set(items.map((x) => x.notificationId)).size !== items.length) {
        bad.push(`${a.orderId}: duplicate notifications ${JSON.stringify(items)}`);
      } else if (channels.join() !== "email,push,sms") next.push(a);
    }
    violations.push(...bad);
    waiting = next;
    if (waiting.length === 0) break;
    if (Date.now() > deadline) {
      violations.push(
        ...waiting.map((a) => `${a.orderId}: Completed but not all 3 notifications delivered`),
      );
      break;
    }
    await sleep(300);
  }
  return violations;
}
