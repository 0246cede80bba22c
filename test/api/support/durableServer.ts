// A tiny stand-in for the Durable extension's management HTTP API (the rpcBaseUrl routes the
// real DurableClient calls), so API tests run the real durable-functions client end to end.
// It behaves like the extension where it matters here: getStatus answers 404 for an unknown id,
// startNew on an existing id is refused while the instance runs and RESTARTS it otherwise (the
// default overridableExistingInstanceStates), raiseEvent answers 404/410, terminate / rewind /
// suspend / resume move the runtime status as the extension does (410 when not applicable).
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeInstance {
  name: string;
  instanceId: string;
  runtimeStatus: string;
  input: unknown;
  output: unknown;
  customStatus: unknown;
  /** Returned with showHistory. */
  history?: unknown[];
  createdTime: string;
  lastUpdatedTime: string;
}

export interface RecordedEvent {
  instanceId: string;
  name: string;
  data: unknown;
}

const IN_PROGRESS = ["Pending", "Running", "Suspended"];

export class FakeDurableServer {
  readonly instances = new Map<string, FakeInstance>();
  readonly starts: { name: string; instanceId: string; input: unknown }[] = [];
  readonly restarts: string[] = [];
  readonly events: RecordedEvent[] = [];
  /** Management operations received (terminate, rewind, suspend, resume) with their reason. */
  readonly operations: { instanceId: string; op: string; reason: string }[] = [];
  /** Every request body received (for the card-number search). */
  readonly bodies: string[] = [];
  /** Make the next N startNew calls fail with HTTP 500 (the extension is unavailable). */
  failStarts = 0;
  #server: Server | undefined;
  #base = "";

  async start(): Promise<void> {
    this.#server = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString("utf8")));
      req.on("end", () => {
        this.bodies.push(body);
        const { status, json } = this.#handle(req.method ?? "GET", req.url ?? "/", body);
        res.writeHead(status, { "Content-Type": "application/json" });
        res.end(json === undefined ? "" : JSON.stringify(json));
      });
    });
    await new Promise<void>((resolve) => this.#server!.listen(0, "127.0.0.1", resolve));
    const { port } = this.#server.address() as AddressInfo;
    this.#base = `http://127.0.0.1:${port}/durabletask/`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()));
  }

  reset(): void {
    this.instances.clear();
    this.starts.length = 0;
    this.restarts.length = 0;
    this.events.length = 0;
    this.operations.length = 0;
    this.bodies.length = 0;
    this.failStarts = 0;
  }

  /** The durableClient binding payload the Functions host would pass. */
  clientBinding(): Record<string, unknown> {
    const webhooks = "http://localhost:7071/runtime/webhooks/durabletask";
    const q = "taskHub=OrdersTest&connection=Storage&code=SYSTEMKEY";
    return {
      taskHubName: "OrdersTest",
      creationUrls: {
        createNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?${q}`,
        createAndWaitOnNewInstancePostUri: `${webhooks}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
      },
      managementUrls: {
        id: "INSTANCEID",
        statusQueryGetUri: `${webhooks}/instances/INSTANCEID?${q}`,
        sendEventPostUri: `${webhooks}/instances/INSTANCEID/raiseEvent/{eventName}?${q}`,
        terminatePostUri: `${webhooks}/instances/INSTANCEID/terminate?reason={text}&${q}`,
        rewindPostUri: `${webhooks}/instances/INSTANCEID/rewind?reason={text}&${q}`,
        purgeHistoryDeleteUri: `${webhooks}/instances/INSTANCEID?${q}`,
        restartPostUri: `${webhooks}/instances/INSTANCEID/restart?${q}`,
        suspendPostUri: `${webhooks}/instances/INSTANCEID/suspend?reason={text}&${q}`,
        resumePostUri: `${webhooks}/instances/INSTANCEID/resume?reason={text}&${q}`,
      },
      baseUrl: webhooks,
      requiredQueryStringParameters: "code=SYSTEMKEY",
      rpcBaseUrl: this.#base,
    };
  }

  /** Sets (or creates) an instance's state, as the orchestration would. */
  set(instanceId: string, patch: Partial<FakeInstance>): FakeInstance {
    const now = new Date().toISOString();
    const current = this.instances.get(instanceId) ?? {
      name: "processOrder",
      instanceId,
      runtimeStatus: "Pending",
      input: null,
      output: null,
      customStatus: null,
      createdTime: now,
      lastUpdatedTime: now,
    };
    const next = { ...current, ...patch, lastUpdatedTime: now };
    this.instances.set(instanceId, next);
    return next;
  }

  #handle(method: string, rawUrl: string, body: string): { status: number; json?: unknown } {
    const url = new URL(rawUrl, "http://x");
    const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
    if (parts[0] !== "durabletask") return { status: 404 };
    const [, kind, a, b, c] = parts;
    if (method === "POST" && kind === "orchestrators" && a && b) {
      if (this.failStarts > 0) {
        this.failStarts--;
        return { status: 500, json: { Message: "injected failure" } };
      }
      const existing = this.instances.get(b);
      if (existing && IN_PROGRESS.includes(existing.runtimeStatus)) {
        return { status: 409, json: { Message: `An instance with ID '${b}' already exists.` } };
      }
      if (existing) this.restarts.push(b);
      const input = body === "" ? null : JSON.parse(body);
      this.starts.push({ name: a, instanceId: b, input });
      this.instances.delete(b);
      this.set(b, { name: a, input, runtimeStatus: "Pending" });
      return { status: 202, json: { id: b } };
    }
    if (method === "GET" && kind === "instances" && a && !b) {
      const instance = this.instances.get(a);
      if (!instance) return { status: 404 };
      return {
        status: IN_PROGRESS.includes(instance.runtimeStatus) ? 202 : 200,
        json: instance,
      };
    }
    if (method === "POST" && kind === "instances" && a && b === "raiseEvent" && c) {
      const instance = this.instances.get(a);
      if (!instance) return { status: 404 };
      if (!IN_PROGRESS.includes(instance.runtimeStatus)) return { status: 410 };
      this.events.push({ instanceId: a, name: c, data: body === "" ? null : JSON.parse(body) });
      return { status: 202 };
    }
    if (method === "POST" && kind === "instances" && a && b && MANAGEMENT[b]) {
      const instance = this.instances.get(a);
      if (!instance) return { status: 404 };
      const { from, to } = MANAGEMENT[b];
      if (!from.includes(instance.runtimeStatus)) return { status: 410 };
      this.operations.push({ instanceId: a, op: b, reason: url.searchParams.get("reason") ?? "" });
      this.set(a, { runtimeStatus: to });
      return { status: 202 };
    }
    return { status: 404 };
  }
}

/** terminate / rewind / suspend / resume: the runtime statuses each applies to, and the next one. */
const MANAGEMENT: Record<string, { from: string[]; to: string }> = {
  terminate: { from: IN_PROGRESS, to: "Terminated" },
  rewind: { from: ["Failed"], to: "Running" },
  suspend: { from: ["Pending", "Running"], to: "Suspended" },
  resume: { from: ["Suspended"], to: "Running" },
};
