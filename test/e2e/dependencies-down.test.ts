/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// With the emulators gone (SIGKILL of the emulator process the host started) the app says so:
// health is 503 naming each dependency down, and a new order fails cleanly (503 problem+json with
// Retry-After, no stack, no card number). After a restart on the same DATA_DIR nothing of the
// failed request exists and new orders complete again.
import fs from "node:fs";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import {
  Api,
  createOrder,
  ensureFreshBuild,
  eventually,
  orderRequest,
  pollToOutcome,
  uniqueCustomer,
} from "./support/e2e";

let host: StartedHost;
let api: Api;
const failedCustomer = uniqueCustomer("while-down");

beforeAll(async () => {
  ensureFreshBuild();
  // The host would restart dead emulators within seconds; here they stay down.
  host = await startHost({ appDir: PROJECT_ROOT, args: ["--no-restart-emulators"] });
  api = Api.forHost(host);
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

it("health is 200 while up, then 503 with cosmos and serviceBus down once the emulators die", async () => {
  expect((await api.get("/health")).status).toBe(200);
  const emulators = (host.endpoints as any).pids.emulators as number;
  expect(host.pids()).toContain(emulators);
  process.kill(emulators, "SIGKILL");
  // The Service Bus check reuses an open sender link, so it notices the loss a moment later.
  const down = await eventually(async () => {
    const res = await api.get("/health");
    return res.body.dependencies?.serviceBus?.status === "down" ? res : undefined;
  }, "health to report both dependencies down");
  expect(down.status).toBe(503);
  expect(down.headers.get("cache-control")).toBe("no-store");
  expect(down.body).toMatchObject({
    status: "unhealthy",
    dependencies: { cosmos: { status: "down" }, serviceBus: { status: "down" } },
  });
});

it("a new order while Cosmos is down is 503 problem+json with Retry-After: no stack, no card", async () => {
  const res = await api.post("/orders", orderRequest({ customerId: failedCustomer }), {
    "idempotency-key": `down-${failedCustomer}`,
  });
  expect(res.status).toBe(503);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.headers.get("retry-after")).toMatch(/^[1-9][0-9]*$/);
  expect(res.body).toMatchObject({
    type: "urn:orders:problem:unavailable",
    status: 503,
    detail: expect.stringMatching(/retry/i),
  });
  expect(res.text).not.toMatch(/\n\s+at |ECONNREFUSED|\.js:\d+/);
});

it("after a restart nothing of the failed request exists; the same request then succeeds", async () => {
  await host.stop();
  const earlierLogs = host.logs();
  host = await startHost({ appDir: PROJECT_ROOT, dataDir: host.dataDir });
  api = Api.forHost(host, api.responses);
  expect((await api.get("/health")).status).toBe(200);
  const listed = await api.get(`/orders?customerId=${encodeURIComponent(failedCustomer)}`);
  expect(listed.body.items).toEqual([]);
  // The client's retry (same key, same body) is simply a new order now.
  const created = await createOrder(
    api,
    orderRequest({ customerId: failedCustomer }),
    `down-${failedCustomer}`,
  );
  expect((await pollToOutcome(api, created.location)).body.status).toBe("Completed");
  const report = searchArtefacts(host, api, [], [earlierLogs]);
  expect(report.corpus).toContain("health.dependency_down");
  expect(report.hits).toEqual([]);
  expect(report.leaks).toEqual([]);
}, 60000);
