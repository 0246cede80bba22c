// `npm run dev` as a developer uses it: tsc --watch plus the host in watch mode. A change to a
// TypeScript source is compiled, the worker reloads, and the next request runs the new code while
// the emulators keep their state. Runs in a copy of the project, so the repository is untouched.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { bearer, Tokens } from "../../../test/helpers/tokens";
import { ensureBuilt, PROJECT_ROOT, startHost, type StartedHost } from "../support/host";

const COPIED = [
  "package.json",
  "host.json",
  "local.settings.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "src",
  "local-host/src",
  "local-host/config",
  "servicebus-emulator/src",
  "servicebus-emulator/config",
  "durable-log/src",
  "bench",
  "dist",
];

let host: StartedHost | undefined;
let copy: string;

beforeAll(() => {
  ensureBuilt();
  copy = fs.mkdtempSync(path.join(os.tmpdir(), "npm-run-dev-"));
  for (const entry of COPIED) {
    fs.cpSync(path.join(PROJECT_ROOT, entry), path.join(copy, entry), { recursive: true });
  }
  fs.symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(copy, "node_modules"));
}, 120000);

afterAll(async () => {
  await host?.kill();
  fs.rmSync(copy, { recursive: true, force: true });
});

async function until<T>(fn: () => Promise<T | undefined>, timeoutMs = 90000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out:\n${host?.logs().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

it("a TypeScript change is compiled and served by the next request; emulator state stays", async () => {
  host = await startHost({
    appDir: copy,
    cli: path.join(copy, "dist", "local-host", "src", "dev-cli.js"),
    timeoutMs: 120000,
  });
  const auth = bearer(await Tokens.forHost(host.endpoints).customer("dev-loop"));
  const placed = await fetch(`${host.baseUrl}/api/orders`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json", "idempotency-key": "dev-1" },
    body: JSON.stringify({
      customerId: "dev-loop",
      currency: "USD",
      items: [{ sku: "D-1", name: "Widget", quantity: 1, unitPrice: 700 }],
      shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
      payment: { cardNumber: "4242424242424242" },
    }),
  });
  expect(placed.status).toBe(202);
  const { orderId } = (await placed.json()) as { orderId: string };

  const source = path.join(copy, "src", "functions", "health.ts");
  const code = fs.readFileSync(source, "utf8");
  const changed = code.replace("{ status: healthy ?", '{ devLoop: "edited", status: healthy ?');
  expect(changed).not.toBe(code);
  fs.writeFileSync(source, changed);

  await until(async () =>
    host!.logs().includes("Reloaded worker after change: src/functions/health.ts")
      ? true
      : undefined,
  );
  const health = (await (await fetch(`${host.baseUrl}/api/health`)).json()) as Record<
    string,
    unknown
  >;
  expect(health.devLoop).toBe("edited");

  const order = await fetch(`${host.baseUrl}/api/orders/${orderId}`, { headers: auth });
  expect(order.status).toBe(200);
  expect(((await order.json()) as { customerId: string }).customerId).toBe("dev-loop");

  await host.stop();
  host = undefined;
}, 240000);
