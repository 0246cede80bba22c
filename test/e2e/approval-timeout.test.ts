/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// The approval deadline on a host started with a short APPROVAL_TIMEOUT (env wins over
// local.settings.json): no decision → Rejected when the durable timer fires, nothing charged;
// a decision that beats the timer is final (the timer does not reject it later).
import fs from "node:fs";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  CARDS,
  createOrder,
  ensureFreshBuild,
  orderRequest,
  pollToOutcome,
  sleep,
  waitForStage,
} from "./support/e2e";

const TIMEOUT_S = 3;
let host: StartedHost;
let api: Api;
/** Logs of hosts killed during the file (searched for card numbers too). */
const previousLogs: string[] = [];

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({
    appDir: PROJECT_ROOT,
    env: { APPROVAL_TIMEOUT: `PT${TIMEOUT_S}S`, APPROVAL_THRESHOLD_MINOR: "100000" },
  });
  api = Api.forHost(host);
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

const large = (cardNumber: string = CARDS.approve) =>
  orderRequest({ quantity: 2, unitPrice: 60000, cardNumber });

describe("approval timeout", () => {
  it("no decision within APPROVAL_TIMEOUT → Rejected, nothing charged, a late decision is refused", async () => {
    const startedAt = Date.now();
    const created = await createOrder(api, large());
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const polled = await pollToOutcome(api, created.location, { timeoutMs: 20000 });
    const elapsed = Date.now() - startedAt;
    expect(polled.body).toMatchObject({
      status: "Rejected",
      runtimeStatus: "Completed",
      outcome: { status: "Rejected", reason: `No decision within PT${TIMEOUT_S}S` },
    });
    expect(polled.stages).toContain("AwaitingApproval");
    // The durable timer, not something sooner, ended it.
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_S * 1000 - 100);
    expect((await api.get(`/orders/${created.orderId}/payments`)).body.items).toEqual([]);
    // Too late: an approver no longer sees it (it awaits nothing and nobody decided it), and an
    // operator's cancel is refused.
    const late = await api.post(`/orders/${created.orderId}/approval`, { approved: true });
    expect(late.status).toBe(404);
    expect((await api.post(`/orders/${created.orderId}/cancel`)).status).toBe(409);
  });

  it("an approval that beats the timer stands: still Completed after the deadline passed", async () => {
    const created = await createOrder(api, large(CARDS.mastercard));
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const res = await api.post(`/orders/${created.orderId}/approval`, {
      approved: true,
      approver: "alice",
    });
    expect(res.status).toBe(202);
    expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
    await sleep(TIMEOUT_S * 1000 + 500);
    const after = await api.get(created.location);
    expect(after.status).toBe(200);
    expect(after.body).toMatchObject({ status: "Completed", runtimeStatus: "Completed" });
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    expect(payments.body.items.filter((p: any) => p.kind === "charge")).toHaveLength(1);
  });
});

describe("approval timer across a crash", () => {
  it("an order awaiting approval when every host process is SIGKILLed is still rejected on time", async () => {
    const created = await createOrder(api, large());
    await waitForStage(api, created.orderId, "AwaitingApproval");
    const before = host.pids();
    await host.kill();
    expect(before.filter((pid) => host.pids().includes(pid))).toEqual([]);
    const logs = host.logs();
    host = await startHost({
      appDir: PROJECT_ROOT,
      dataDir: host.dataDir,
      env: { APPROVAL_TIMEOUT: `PT${TIMEOUT_S}S`, APPROVAL_THRESHOLD_MINOR: "100000" },
    });
    previousLogs.push(logs);
    api = Api.forHost(host, api.responses);
    const polled = await pollToOutcome(api, `${host.baseUrl}/api/orders/${created.orderId}/status`);
    expect(polled.body).toMatchObject({
      status: "Rejected",
      outcome: { reason: `No decision within PT${TIMEOUT_S}S` },
    });
    expect((await api.get(`/orders/${created.orderId}/payments`)).body.items).toEqual([]);
  }, 60000);
});

describe("artefacts", () => {
  it("no full card number in DATA_DIR, the logs or any response; no management URL or key", () => {
    const report = searchArtefacts(host, api, [], previousLogs);
    expect(report.corpus).toContain('"last4":"4444"');
    expect(report.hits).toEqual([]);
    expect(report.leaks).toEqual([]);
  });
});
