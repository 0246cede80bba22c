/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are JSON from the running host */
// Helpers for the order app's end-to-end suite: a client that talks to a running host over real
// HTTP and records every response (for the card-number and management-URL checks), the async
// HTTP polling pattern, test orders, and the artefact search.
import fs from "node:fs";
import { Agent } from "node:https";
import path from "node:path";
import { CosmosClient, type Container } from "@azure/cosmos";
import type { StartedHost } from "../../../local-host/test/support/host";
import { ROLES, Tokens } from "../../helpers/tokens";

export { ROLES, Tokens } from "../../helpers/tokens";

/** The gateway's magic cards (README) plus plain approving cards used by the suite. */
export const CARDS = {
  approve: "4242424242424242",
  decline: "4000000000000002",
  insufficientFunds: "4000000000009995",
  transient: "4000000000000119",
  captureFails: "4000000000000259",
  unavailable: "4000000000000341",
  mastercard: "5555555555554444",
  amex: "378282246310005",
} as const;
export const ALL_CARDS: readonly string[] = Object.values(CARDS);

/**
 * The e2e files' name for ensureBuilt: under jest the global setup builds dist/ once before any
 * file runs, so no file rebuilds it (tsc rewriting modules under another worker's loading host
 * handed that host a half-written one).
 */
export { ensureBuilt as ensureFreshBuild } from "../../../local-host/test/support/host";

export interface Recorded {
  method: string;
  url: string;
  status: number;
  headers: Record<string, string>;
  text: string;
}

export interface Res<T = any> {
  status: number;
  headers: Headers;
  text: string;
  body: T;
  /** On a 5xx from a host this client knows: the host's log of the failed invocation. */
  failure?: string;
}

export interface RequestOptions {
  /** A value to send as JSON (content-type application/json). */
  json?: unknown;
  /** A raw body, sent as is (set content-type yourself). */
  body?: string | Buffer;
  headers?: Record<string, string>;
}

/** A bearer token, or how to get one (minted on first use). */
export type TokenSource = string | Promise<string> | (() => Promise<string>);

/** The suite's default caller: an application holding every role (see Api.forHost). */
export const SUITE_CLIENT = "e2e-suite";

/**
 * An HTTP client for one host that keeps every response it saw. It sends `auth` as a bearer
 * token unless a request sets its own Authorization header; `as(token)` is the same client as
 * another caller (sharing the record), `anonymous()` one without a token.
 */
export class Api {
  /** `responses`: pass the previous client's list to keep one record across a host restart. */
  constructor(
    readonly baseUrl: string,
    readonly responses: Recorded[] = [],
    readonly auth?: TokenSource,
    /** The host's output so far: a 5xx (a bare 500 by design) is explained from its log. */
    readonly hostLogs?: () => string,
  ) {}

  /**
   * The client for a started host, as the suite's default caller: an application with
   * Orders.Submit, Orders.Approve and Orders.Operate (it places orders for any customer, may
   * decide them as it is not their customer, and sees everything). Tests of who may do what use
   * `tokens(host)` and `api.as(...)`.
   */
  static forHost(host: StartedHost, responses: Recorded[] = []): Api {
    const tokens = tokensFor(host);
    return new Api(
      host.baseUrl,
      responses,
      () => tokens.app(SUITE_CLIENT, [ROLES.submit, ROLES.approve, ROLES.operate]),
      () => host.logs(),
    );
  }

  as(token: TokenSource): Api {
    return new Api(this.baseUrl, this.responses, token, this.hostLogs);
  }

  anonymous(): Api {
    return new Api(this.baseUrl, this.responses, undefined, this.hostLogs);
  }

  async #token(): Promise<string | undefined> {
    const auth = this.auth;
    return typeof auth === "function" ? auth() : auth;
  }

  /** `{ authorization: "Bearer …" }` for requests made without this client (raw fetch). */
  async authorization(): Promise<Record<string, string>> {
    const token = await this.#token();
    return token ? { authorization: `Bearer ${token}` } : {};
  }

  /** `pathOrUrl`: a path under /api (e.g. "/orders") or an absolute URL (a Location header). */
  async request<T = any>(
    method: string,
    pathOrUrl: string,
    options: RequestOptions = {},
  ): Promise<Res<T>> {
    const url = /^https?:/.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}/api${pathOrUrl}`;
    const headers: Record<string, string> = { ...options.headers };
    if (!Object.keys(headers).some((h) => h.toLowerCase() === "authorization")) {
      const token = await this.#token();
      if (token) headers.authorization = `Bearer ${token}`;
    }
    let body: string | Buffer | undefined = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] ??= "application/json";
    }
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    this.responses.push({
      method,
      url,
      status: res.status,
      headers: Object.fromEntries(res.headers.entries()),
      text,
    });
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON: keep the text.
    }
    const failure = res.status >= 500 && this.hostLogs ? lastFailure(this.hostLogs()) : undefined;
    return {
      status: res.status,
      headers: res.headers,
      text,
      body: parsed as T,
      ...(failure ? { failure } : {}),
    };
  }

  get<T = any>(p: string): Promise<Res<T>> {
    return this.request<T>("GET", p);
  }

  post<T = any>(p: string, json?: unknown, headers?: Record<string, string>): Promise<Res<T>> {
    return this.request<T>("POST", p, { json, headers });
  }
}

/** The host's last failed invocation or request, with the lines that explain it. */
export function lastFailure(logs: string): string | undefined {
  const lines = logs.split("\n");
  for (let i = lines.length - 1; i >= 0; i--) {
    if (/\(Failed, Id=|failed in the host:/.test(lines[i]!)) {
      const end = lines.findIndex((l, j) => j > i && /^\[\d{4}-/.test(l));
      return lines.slice(i, end === -1 ? i + 20 : Math.min(end, i + 20)).join("\n");
    }
  }
  return undefined;
}

const tokensByHost = new WeakMap<object, Tokens>();
/** Tokens from the host's development issuer: `tokens(host).customer("c-1")`. */
export function tokensFor(host: { endpoints: Record<string, unknown> }): Tokens {
  let tokens = tokensByHost.get(host.endpoints);
  if (!tokens) {
    tokens = Tokens.forHost(host.endpoints);
    tokensByHost.set(host.endpoints, tokens);
  }
  return tokens;
}

let seq = 0;
/** A customer id no other test (or earlier run) uses, so listings show only this test's orders. */
export function uniqueCustomer(label: string): string {
  seq += 1;
  return `e2e-${label}-${process.pid}-${Date.now().toString(36)}-${seq}`;
}

export interface OrderRequestOptions {
  customerId?: string;
  cardNumber?: string;
  quantity?: number;
  unitPrice?: number;
}

/** A valid order request; `unitPrice * quantity` is the total in minor units. */
export function orderRequest(options: OrderRequestOptions = {}): Record<string, any> {
  return {
    customerId: options.customerId ?? uniqueCustomer("order"),
    currency: "USD",
    items: [
      {
        sku: "SKU-1",
        name: "Widget",
        quantity: options.quantity ?? 2,
        unitPrice: options.unitPrice ?? 1999,
      },
    ],
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: { cardNumber: options.cardNumber ?? CARDS.approve },
  };
}

export interface Created {
  orderId: string;
  location: string;
  retryAfter: number;
  body: any;
}

/** POST /orders, expecting 202 with the async HTTP pattern's headers. */
export async function createOrder(
  api: Api,
  request: Record<string, unknown>,
  idempotencyKey?: string,
): Promise<Created> {
  const res = await api.post(
    "/orders",
    request,
    idempotencyKey ? { "idempotency-key": idempotencyKey } : undefined,
  );
  if (res.status !== 202) {
    throw new Error(`POST /orders → ${res.status}: ${res.failure ?? res.text}`);
  }
  const location = res.headers.get("location");
  const retryAfter = Number(res.headers.get("retry-after"));
  if (!location) throw new Error("202 without Location");
  if (!Number.isInteger(retryAfter) || retryAfter <= 0) {
    throw new Error(`202 with Retry-After ${res.headers.get("retry-after")}`);
  }
  return { orderId: res.body.orderId, location, retryAfter, body: res.body };
}

export interface Polled {
  /** The final 200 body: { orderId, status, runtimeStatus, outcome }. */
  body: any;
  /** Every in-progress stage reported by a 202, in order. */
  stages: string[];
  polls: number;
}

/**
 * The async HTTP pattern as a client does it: GET the Location; while 202, wait Retry-After
 * (capped at `capMs` to keep tests fast) and follow the new Location; stop at 200.
 */
export async function pollToOutcome(
  api: Api,
  location: string,
  { timeoutMs = 30000, capMs = 200 }: { timeoutMs?: number; capMs?: number } = {},
): Promise<Polled> {
  const deadline = Date.now() + timeoutMs;
  const stages: string[] = [];
  let url = location;
  for (let polls = 1; ; polls++) {
    const res = await api.get(url);
    if (res.status === 200) return { body: res.body, stages, polls };
    if (res.status !== 202) throw new Error(`GET ${url} → ${res.status}: ${res.text}`);
    const next = res.headers.get("location");
    const retryAfter = Number(res.headers.get("retry-after"));
    if (!next) throw new Error(`202 without Location: ${res.text}`);
    if (!Number.isInteger(retryAfter) || retryAfter <= 0) {
      throw new Error(`202 with Retry-After ${res.headers.get("retry-after")}`);
    }
    if (stages.at(-1) !== res.body.status) stages.push(res.body.status);
    if (Date.now() > deadline)
      throw new Error(`still in progress after ${timeoutMs} ms: ${res.text}`);
    url = next;
    await sleep(Math.min(retryAfter * 1000, capMs));
  }
}

/** Polls GET /orders/{id} until its custom status stage is `stage`. */
export async function waitForStage(
  api: Api,
  orderId: string,
  stage: string,
  timeoutMs = 15000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await api.get(`/orders/${orderId}`);
    // AwaitingApproval also recorded on the order: that is what an approver's right reads.
    const recorded = stage !== "AwaitingApproval" || res.body.status === stage;
    if (res.status === 200 && res.body.customStatus?.stage === stage && recorded) return res.body;
    if (Date.now() > deadline) {
      throw new Error(`order ${orderId} never reached ${stage}: ${res.status} ${res.text}`);
    }
    await sleep(100);
  }
}

/** Repeats `probe` until it returns a value other than undefined. */
export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 20000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Cosmos container of the host's emulator (self-signed loopback certificate). */
export function cosmosContainer(endpoints: Record<string, any>, container: string): Container {
  const client = new CosmosClient({
    endpoint: endpoints.cosmos.endpoint,
    key: endpoints.cosmos.key,
    agent: new Agent({ rejectUnauthorized: false }),
    connectionPolicy: { enableEndpointDiscovery: false },
  });
  return client.database("orders").container(container);
}

export interface CardHit {
  where: string;
  card: string;
  encoding: "text" | "base64";
}

/**
 * Every full card number found in `text`, verbatim or inside a base64 run (the Service Bus
 * journal stores message bytes as base64; a card number in a body would be hidden there).
 */
export function cardsIn(text: string, cards: readonly string[], where: string): CardHit[] {
  const hits: CardHit[] = [];
  for (const card of cards) {
    if (text.includes(card)) hits.push({ where, card, encoding: "text" });
  }
  for (const run of text.match(/[A-Za-z0-9+/]{16,}={0,2}/g) ?? []) {
    const decoded = Buffer.from(run, "base64").toString("latin1");
    for (const card of cards) {
      if (decoded.includes(card)) hits.push({ where, card, encoding: "base64" });
    }
  }
  return hits;
}

/** Every file under `dir`, as latin1 text (byte-for-byte; binary headers do not get in the way). */
export function filesUnder(dir: string): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push({ file: p, text: fs.readFileSync(p).toString("latin1") });
    }
  };
  walk(dir);
  return out;
}

/** Responses must not hand out the Durable management API or a function key. */
export function leakedManagementUrls(responses: readonly Recorded[]): string[] {
  const bad: string[] = [];
  for (const r of responses) {
    const all = `${JSON.stringify(r.headers)}\n${r.text}`;
    if (/\/runtime\/webhooks/i.test(all) || /code=/.test(all))
      bad.push(`${r.method} ${r.url} → ${r.status}`);
  }
  return bad;
}
