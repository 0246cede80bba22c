/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Orders at or above APPROVAL_THRESHOLD_MINOR wait for a person, over real HTTP: approved →
// Completed, rejected → Rejected (no charge), cancelled → Cancelled (no charge), decisions on
// finished or unknown orders are refused. The timeout path is in approval-timeout.test.ts (it
// needs a host with a short APPROVAL_TIMEOUT).
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  CARDS,
  createOrder,
  ensureFreshBuild,
  orderRequest,
  pollToOutcome,
  waitForStage,
  type Created,
} from "./support/e2e";

const THRESHOLD = 50000;
let host: StartedHost;
let api: Api;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({
    appDir: PROJECT_ROOT,
    env: { APPROVAL_THRESHOLD_MINOR: String(THRESHOLD) },
  });
  api = Api.forHost(host);
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

/** An order of exactly `total` minor units (one line). */
const large = (total = THRESHOLD + 25000, cardNumber: string = CARDS.approve) =>
  orderRequest({ quantity: 1, unitPrice: total, cardNumber });

async function awaitingApproval(total?: number): Promise<Created> {
  const created = await createOrder(api, large(total));
  await waitForStage(api, created.orderId, "AwaitingApproval");
  return created;
}

async function ledger(orderId: string): Promise<any[]> {
  const res = await api.get(`/orders/${orderId}/payments`);
  expect(res.status).toBe(200);
  return res.body.items;
}

describe("approval flow", () => {
  it("while awaiting approval the status is 202 AwaitingApproval with Retry-After 30", async () => {
    const created = await awaitingApproval();
    const res = await api.get(created.location);
    expect(res.status).toBe(202);
    expect(res.headers.get("retry-after")).toBe("30");
    expect(res.headers.get("location")).toBe(created.location);
    expect(res.body).toMatchObject({ status: "AwaitingApproval", runtimeStatus: "Running" });
    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.body).toMatchObject({
      status: "AwaitingApproval",
      runtimeStatus: "Running",
      customStatus: { stage: "AwaitingApproval" },
    });
    expect(await ledger(created.orderId)).toEqual([]);
    // Leave nothing running: cancel it.
    expect((await api.post(`/orders/${created.orderId}/cancel`)).status).toBe(202);
    expect((await pollToOutcome(api, created.location)).body.status).toBe("Cancelled");
  });

  it("approved → 202, then Completed with one charge for the full amount", async () => {
    const created = await awaitingApproval();
    const approval = await api.post(`/orders/${created.orderId}/approval`, {
      approved: true,
      approver: "alice",
      reason: "known customer",
    });
    expect(approval.status).toBe(202);
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({ status: "Completed", runtimeStatus: "Completed" });
    const payments = await ledger(created.orderId);
    expect(payments.filter((p) => p.kind === "charge").map((p) => p.amount)).toEqual([
      THRESHOLD + 25000,
    ]);
  });

  it("rejected → Rejected with the approver's reason, nothing charged", async () => {
    const created = await awaitingApproval();
    const res = await api.post(`/orders/${created.orderId}/approval`, {
      approved: false,
      approver: "bob",
      reason: "over budget",
    });
    expect(res.status).toBe(202);
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({
      status: "Rejected",
      outcome: { status: "Rejected", reason: "over budget" },
    });
    expect(await ledger(created.orderId)).toEqual([]);
    const notifications = await api.get(`/orders/${created.orderId}/notifications`);
    expect(notifications.body.items).toEqual([]);
  });

  it("cancelled → Cancelled, nothing charged", async () => {
    const created = await awaitingApproval();
    const res = await api.post(`/orders/${created.orderId}/cancel`, { reason: "changed my mind" });
    expect(res.status).toBe(202);
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({ status: "Cancelled", outcome: { status: "Cancelled" } });
    expect(await ledger(created.orderId)).toEqual([]);
    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.body).toMatchObject({ status: "Cancelled", customStatus: { stage: "Cancelled" } });
  });

  it("an invalid decision is 400 naming the field and leaves the order waiting", async () => {
    const created = await awaitingApproval();
    const bad = await api.post(`/orders/${created.orderId}/approval`, {
      approved: "yes",
      approver: "carol",
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(bad.body.errors.map((e: any) => e.pointer)).toEqual(["/approved"]);
    await waitForStage(api, created.orderId, "AwaitingApproval");
    expect(
      (await api.post(`/orders/${created.orderId}/approval`, { approved: true, approver: "carol" }))
        .status,
    ).toBe(202);
    expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
  });

  it("a second decision on an order already decided is 409; an unknown order 404", async () => {
    const created = await awaitingApproval();
    expect((await api.post(`/orders/${created.orderId}/approval`, { approved: true })).status).toBe(
      202,
    );
    expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
    // The approver decided it, so still sees it: the decision is refused, not hidden.
    const approval = await api.post(`/orders/${created.orderId}/approval`, { approved: true });
    expect(approval.status).toBe(409);
    expect(approval.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect((await api.post(`/orders/${created.orderId}/cancel`)).status).toBe(409);

    const unknown = randomUUID();
    expect((await api.post(`/orders/${unknown}/approval`, { approved: true })).status).toBe(404);
    expect((await api.post(`/orders/${unknown}/cancel`)).status).toBe(404);
  });

  it("the threshold is inclusive: one unit below completes without waiting, at it waits", async () => {
    const below = await createOrder(api, large(THRESHOLD - 1));
    const polled = await pollToOutcome(api, below.location);
    expect(polled.body.status).toBe("Completed");
    expect(polled.stages).not.toContain("AwaitingApproval");
    const at = await awaitingApproval(THRESHOLD);
    expect((await api.post(`/orders/${at.orderId}/cancel`)).status).toBe(202);
    expect((await pollToOutcome(api, at.location)).body.status).toBe("Cancelled");
  });
});

describe("artefacts", () => {
  it("no full card number in DATA_DIR, the logs or any response; no management URL or key", () => {
    const report = searchArtefacts(host, api);
    expect(report.corpus).toContain('"last4":"4242"');
    expect(report.hits).toEqual([]);
    expect(report.leaks).toEqual([]);
  });
});
