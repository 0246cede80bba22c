// Retries exhausted end to end: the gateway is unavailable for card 4000000000000341, so every
// charge attempt fails transiently; after the orchestrator's 5 attempts (1-2-4-8 s backoff, then
// one more interval the SDK waits before failing the task) the order ends PaymentFailed, with
// nothing charged. A file of its own so its ~30 s run in parallel with the other suites.
import fs from "node:fs";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import {
  Api,
  CARDS,
  createOrder,
  ensureFreshBuild,
  orderRequest,
  pollToOutcome,
} from "./support/e2e";

let host: StartedHost;
let api: Api;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT });
  api = Api.forHost(host);
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

it("an unavailable gateway → retries exhausted → PaymentFailed, nothing charged", async () => {
  const created = await createOrder(api, orderRequest({ cardNumber: CARDS.unavailable }));
  const polled = await pollToOutcome(api, created.location, { timeoutMs: 75000, capMs: 1000 });
  expect(polled.body).toMatchObject({
    orderId: created.orderId,
    status: "PaymentFailed",
    runtimeStatus: "Completed",
    outcome: { status: "PaymentFailed" },
  });
  expect(polled.stages).toContain("Charging");
  const payments = await api.get(`/orders/${created.orderId}/payments`);
  expect(payments.status).toBe(200);
  expect(payments.body.items).toEqual([]);
  const notifications = await api.get(`/orders/${created.orderId}/notifications`);
  expect(notifications.body.items).toEqual([]);
  // Five charge attempts were made, each logged as a transient failure.
  const attempts = host
    .logs()
    .split("\n")
    .filter((line) => line.includes(created.orderId) && line.includes("transientFailure"));
  expect(attempts).toHaveLength(5);
}, 90000);
