// `--watch` (npm run dev): a change to the app's compiled output reloads only the worker. The
// next request runs the new code, while the emulators, the durable engine and their state (an
// order in Cosmos, a durable instance) stay.
// Runs against a copy of the order app's dist/, so the repository's build is never modified.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { bearer, Tokens } from "../../../test/helpers/tokens";
import { ensureBuilt, PROJECT_ROOT, startHost, type StartedHost } from "../support/host";

let host: StartedHost | undefined;
let appDir: string;

beforeAll(() => {
  ensureBuilt();
  appDir = fs.mkdtempSync(path.join(os.tmpdir(), "local-host-watch-app-"));
  for (const f of ["package.json", "host.json", "local.settings.json"])
    fs.copyFileSync(path.join(PROJECT_ROOT, f), path.join(appDir, f));
  fs.cpSync(path.join(PROJECT_ROOT, "dist", "src"), path.join(appDir, "dist", "src"), {
    recursive: true,
  });
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(appDir, "node_modules"));
}, 120000);
afterAll(async () => {
  await host?.kill();
  fs.rmSync(appDir, { recursive: true, force: true });
});

async function waitFor<T>(fn: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

it("reloads the worker after a change, keeping the host, the emulators and durable state", async () => {
  host = await startHost({
    appDir,
    args: [
      "--watch",
      "--cosmos-config",
      path.join(PROJECT_ROOT, "local-host", "config", "cosmos.json"),
      "--servicebus-config",
      path.join(PROJECT_ROOT, "servicebus-emulator", "config", "Config.json"),
    ],
  });
  const health = async () => {
    const res = await fetch(`${host!.baseUrl}/api/health`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const before = await health();
  expect(before.status).toBe(200);
  expect(before.body.reloaded).toBeUndefined();

  // Durable state created before the reload: an instance started through the management API.
  const webhook = `${host.baseUrl}/runtime/webhooks/durabletask`;
  const started = await fetch(`${webhook}/orchestrators/processOrder/watch-test-1`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ orderId: "watch-test-1" }),
  });
  expect(started.status).toBe(202);
  const instance = async () =>
    (await (await fetch(`${webhook}/instances/watch-test-1`)).json()) as {
      instanceId: string;
      createdTime: string;
    };
  const createdBefore = await instance();
  expect(createdBefore.instanceId).toBe("watch-test-1");

  // Emulator state created before the reload: an order, placed by a customer with a token.
  const auth = bearer(await Tokens.forHost(host.endpoints).customer("watch-customer"));
  const placed = await fetch(`${host.baseUrl}/api/orders`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", "idempotency-key": "watch-1" },
    body: JSON.stringify({
      customerId: "watch-customer",
      currency: "USD",
      items: [{ sku: "W-1", name: "Widget", quantity: 1, unitPrice: 500 }],
      shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
      payment: { cardNumber: "4242424242424242" },
    }),
  });
  expect(placed.status).toBe(202);
  const { orderId } = (await placed.json()) as { orderId: string };
  const order = async () => {
    const res = await fetch(`${host!.baseUrl}/api/orders/${orderId}`, { headers: auth });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const orderBefore = await order();
  expect(orderBefore.status).toBe(200);

  const endpoints = host.endpoints as { pids: { host: number; worker: number; emulators: number } };
  const pidsBefore = host.pids();

  // What tsc --watch would write: a changed compiled file.
  const file = path.join(appDir, "dist", "src", "functions", "health.js");
  const code = fs.readFileSync(file, "utf8");
  const changed = code.replace("{ status: healthy ?", '{ reloaded: "yes", status: healthy ?');
  expect(changed).not.toBe(code);
  fs.writeFileSync(file, changed);

  await waitFor(async () =>
    host!.logs().includes("Reloaded worker after change: dist/src/functions/health.js")
      ? true
      : undefined,
  );
  const after = await health();
  expect(after.status).toBe(200);
  expect(after.body.reloaded).toBe("yes");

  // Only the worker was replaced.
  const pidsAfter = host.pids();
  expect(pidsAfter).toContain(endpoints.pids.host);
  expect(pidsAfter).toContain(endpoints.pids.emulators);
  expect(pidsAfter).not.toContain(endpoints.pids.worker);
  expect(pidsAfter.length).toBe(pidsBefore.length);
  const current = JSON.parse(
    fs.readFileSync(path.join(host.dataDir, "endpoints.json"), "utf8"),
  ) as {
    pids: { worker: number };
  };
  expect(current.pids.worker).not.toBe(endpoints.pids.worker);
  expect(pidsAfter).toContain(current.pids.worker);

  // The durable instance from before the reload is still there, unchanged.
  const createdAfter = await instance();
  expect(createdAfter.instanceId).toBe("watch-test-1");
  expect(createdAfter.createdTime).toBe(createdBefore.createdTime);

  // ...and so is the order, served by the new worker from the same Cosmos emulator.
  const orderAfter = await order();
  expect(orderAfter.status).toBe(200);
  expect(orderAfter.body.createdAt).toEqual(expect.any(String));
  expect(orderAfter.body.createdAt).toBe(orderBefore.body.createdAt);
  expect(orderAfter.body.customerId).toBe("watch-customer");

  // A second change is picked up too (the watcher keeps watching).
  fs.writeFileSync(file, changed.replace('reloaded: "yes"', 'reloaded: "again"'));
  await waitFor(async () => ((await health()).body.reloaded === "again" ? true : undefined));

  // A change that does not load is reported; the next good one brings the app back.
  fs.writeFileSync(file, "this is not JavaScript(");
  await waitFor(async () =>
    /Reload after change .* failed/.test(host!.logs()) ? true : undefined,
  );
  fs.writeFileSync(file, changed.replace('reloaded: "yes"', 'reloaded: "fixed"'));
  await waitFor(async () => {
    const res = await fetch(`${host!.baseUrl}/api/health`).catch(() => undefined);
    const body = res && ((await res.json().catch(() => ({}))) as Record<string, unknown>);
    return body?.reloaded === "fixed" ? true : undefined;
  });
  expect((await instance()).createdTime).toBe(createdBefore.createdTime);

  await host.stop();
  host = undefined;
}, 120000);
