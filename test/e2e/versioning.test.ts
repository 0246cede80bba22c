/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// Shipping a workflow change with orders in flight, over real HTTP and real host restarts on one
// DATA_DIR: orders started on workflow version 1 wait for approval; the host comes back on
// version 2; the waiting orders finish on version 1's steps and new orders run version 2's
// (which records Approved with Charging and Paid with Notifying). A host rolled back to version 1
// leaves a version 2 order queued (CurrentOrOlder + Reject). The host then comes back on version 3
// (host.json's defaultVersion): the version 2 orders finish on version 2's steps, new orders run
// version 3's (the working activities record the stages: 3 activities per small order). The first
// host also names the Durable Task Scheduler as its storage provider, through
// AzureFunctionsJobHost__ overrides, and runs on its local store all the same.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import {
  Api,
  CARDS,
  createOrder,
  ensureFreshBuild,
  orderRequest,
  pollToOutcome,
  sleep,
  tokensFor,
  waitForStage,
  type Created,
} from "./support/e2e";

const THRESHOLD = 50000;
const DEFAULT_VERSION = "AzureFunctionsJobHost__extensions__durableTask__defaultVersion";
const V1_STATUSES = ["AwaitingApproval", "Approved", "Charging", "Paid", "Notifying", "Completed"];
const V2_STATUSES = ["AwaitingApproval", "Charging", "Notifying", "Completed"];
const V2_ACTIVITIES = [
  "setOrderStatus",
  "setOrderStatus",
  "chargePayment",
  "capturePayment",
  "setOrderStatus",
  ...["sendNotification", "sendNotification", "sendNotification"],
  "setOrderStatus",
];

let dataDir: string;
let host: StartedHost | undefined;
let api: Api;

/** (Re)starts the host on the shared DATA_DIR with extra settings. */
async function startOn(env: Record<string, string> = {}): Promise<StartedHost> {
  await host?.stop();
  host = await startHost({
    appDir: PROJECT_ROOT,
    dataDir,
    env: { APPROVAL_THRESHOLD_MINOR: String(THRESHOLD), ...env },
  });
  api = Api.forHost(host, api?.responses);
  return host;
}

beforeAll(() => {
  ensureFreshBuild();
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "e2e-versioning-"));
}, 120000);

afterAll(async () => {
  await host?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const large = () => orderRequest({ quantity: 1, unitPrice: THRESHOLD + 25000 });

async function awaitingApproval(): Promise<Created> {
  const created = await createOrder(api, large());
  await waitForStage(api, created.orderId, "AwaitingApproval");
  return created;
}

/** The status URL on the current host (a Location from an earlier host names its old port). */
const statusOf = (created: Created) => `/orders/${created.orderId}/status`;

async function approve(created: Created): Promise<void> {
  // A person with Orders.Approve decides; the outcome names them (the body's approver is ignored).
  const alice = tokensFor(host!).approver("u-alice", "alice");
  const res = await api.as(alice).post(`/orders/${created.orderId}/approval`, { approved: true });
  expect({ status: res.status, failure: res.failure }).toEqual({ status: 202 });
}

async function completedActivities(orderId: string): Promise<any[]> {
  const rpc = String(host!.endpoints.rpcBaseUrl);
  const res = await fetch(`${rpc}instances/${orderId}?showHistory=true&showHistoryOutput=true`);
  const body = (await res.json()) as any;
  return body.historyEvents.filter((e: any) => e.EventType === "TaskCompleted");
}

/** The statuses the orchestration recorded, in order, from its history (one per activity call). */
async function recordedStatuses(orderId: string): Promise<string[]> {
  return (await completedActivities(orderId))
    .filter((e: any) => e.FunctionName === "setOrderStatus")
    .map((e: any) => e.Result.status);
}

/** Every activity the order ran, in order (the hops). */
async function activitiesRun(orderId: string): Promise<string[]> {
  return (await completedActivities(orderId)).map((e: any) => String(e.FunctionName));
}

describe("a workflow change shipped with orders in flight", () => {
  const waiting: Record<string, Created> = {};

  it("version 1 host (defaultVersion overridden to 1.0): large orders wait for approval", async () => {
    const h = await startOn({
      // Key case differs from host.json's on purpose: overrides match case-insensitively.
      AzureFunctionsJobHost__Extensions__DurableTask__DefaultVersion: "1.0",
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__type: "azureManaged",
      AzureFunctionsJobHost__extensions__durableTask__storageProvider__connectionStringName:
        "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    });
    expect(h.logs()).toContain(
      "Durable storage provider in host.json: azureManaged (connection setting 'DURABLE_TASK_SCHEDULER_CONNECTION_STRING'); the local host keeps durable state in its own local store",
    );
    expect(h.logs()).toContain("Orchestration versioning: defaultVersion '1.0'");
    waiting.first = await awaitingApproval();
    waiting.second = await awaitingApproval();
    // A small order runs to the end on version 1: every stage its own write.
    const small = await createOrder(api, orderRequest({ cardNumber: CARDS.approve }));
    expect((await pollToOutcome(api, small.location)).body.status).toBe("Completed");
    expect(await recordedStatuses(small.orderId)).toEqual([
      "Charging",
      "Paid",
      "Notifying",
      "Completed",
    ]);
  }, 120000);

  it("after the restart on version 2, a waiting order finishes on version 1's steps", async () => {
    const h = await startOn({ [DEFAULT_VERSION]: "2.0" });
    expect(h.logs()).toContain("Orchestration versioning: defaultVersion '2.0'");
    await approve(waiting.first!);
    const polled = await pollToOutcome(api, statusOf(waiting.first!));
    expect(polled.body).toMatchObject({ status: "Completed", outcome: { approvedBy: "alice" } });
    expect(await recordedStatuses(waiting.first!.orderId)).toEqual(V1_STATUSES);
    const order = await api.get(`/orders/${waiting.first!.orderId}`);
    expect(order.body.status).toBe("Completed");
  }, 120000);

  it("new orders run version 2's steps: Approved with Charging, Paid with Notifying", async () => {
    const created = await awaitingApproval();
    await approve(created);
    expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
    expect(await recordedStatuses(created.orderId)).toEqual(V2_STATUSES);
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    expect(payments.body.items.filter((p: any) => p.kind === "charge")).toHaveLength(1);

    const small = await createOrder(api, orderRequest());
    expect((await pollToOutcome(api, small.location)).body.status).toBe("Completed");
    expect(await recordedStatuses(small.orderId)).toEqual(["Charging", "Notifying", "Completed"]);
    waiting.v2 = await awaitingApproval();
    waiting.v2Later = await awaitingApproval();
  }, 120000);

  it("a host rolled back to 1.0 leaves a version 2 order queued; a version 2 host finishes it", async () => {
    const h = await startOn({ [DEFAULT_VERSION]: "1.0" });
    // The version 1 order still runs here.
    await approve(waiting.second!);
    expect((await pollToOutcome(api, statusOf(waiting.second!))).body.status).toBe("Completed");
    expect(await recordedStatuses(waiting.second!.orderId)).toEqual(V1_STATUSES);
    // The version 2 order takes the approval but does not move on old code.
    await approve(waiting.v2!);
    await sleep(1500);
    const stuck = await api.get(statusOf(waiting.v2!));
    expect(stuck.status).toBe(202);
    expect(stuck.body.status).toBe("AwaitingApproval");
    expect(h.logs()).toContain(
      `Instance '${waiting.v2!.orderId}' has version '2.0', which this host does not run`,
    );

    await startOn({ [DEFAULT_VERSION]: "2.0" });
    const polled = await pollToOutcome(api, statusOf(waiting.v2!));
    expect(polled.body).toMatchObject({ status: "Completed", outcome: { approvedBy: "alice" } });
    expect(await recordedStatuses(waiting.v2!.orderId)).toEqual(V2_STATUSES);
  }, 120000);

  it("after the restart on version 3 (host.json), a version 2 order waiting for approval finishes on version 2's steps", async () => {
    const h = await startOn({});
    expect(h.logs()).toContain("Orchestration versioning: defaultVersion '3.0'");
    await approve(waiting.v2Later!);
    const polled = await pollToOutcome(api, statusOf(waiting.v2Later!));
    expect(polled.body).toMatchObject({ status: "Completed", outcome: { approvedBy: "alice" } });
    expect(await recordedStatuses(waiting.v2Later!.orderId)).toEqual(V2_STATUSES);
    expect(await activitiesRun(waiting.v2Later!.orderId)).toEqual(V2_ACTIVITIES);
  }, 120000);

  it("new orders run version 3's steps: the working activities record every stage in the store", async () => {
    const created = await awaitingApproval();
    await approve(created);
    const polled = await pollToOutcome(api, created.location);
    expect(polled.body).toMatchObject({ status: "Completed", outcome: { approvedBy: "alice" } });
    expect(await activitiesRun(created.orderId)).toEqual([
      "setOrderStatus",
      "chargePayment",
      "capturePayment",
      "sendNotifications",
    ]);
    const order = await api.get(`/orders/${created.orderId}`);
    expect(order.body).toMatchObject({
      status: "Completed",
      outcome: polled.body.outcome,
      decidedBy: { name: "alice" },
    });
    const payments = await api.get(`/orders/${created.orderId}/payments`);
    expect(payments.body.items.filter((p: any) => p.kind === "charge")).toHaveLength(1);

    const small = await createOrder(api, orderRequest());
    expect((await pollToOutcome(api, small.location)).body.status).toBe("Completed");
    expect(await activitiesRun(small.orderId)).toEqual([
      "chargePayment",
      "capturePayment",
      "sendNotifications",
    ]);
    expect((await api.get(`/orders/${small.orderId}`)).body.status).toBe("Completed");
    const delivered = await waitForDeliveries(small.orderId, 3);
    expect(delivered.map((d: any) => d.channel).sort()).toEqual(["email", "push", "sms"]);
  }, 120000);
});

/** The order's delivered notifications, once `count` have arrived. */
async function waitForDeliveries(orderId: string, count: number): Promise<any[]> {
  for (let i = 0; i < 100; i++) {
    const res = await api.get(`/orders/${orderId}/notifications`);
    if (res.status === 200 && res.body.items.length >= count) return res.body.items;
    await sleep(100);
  }
  throw new Error(`fewer than ${count} deliveries for ${orderId}`);
}
