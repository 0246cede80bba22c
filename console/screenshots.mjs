// `npm run screenshots`: refreshes the README's pictures of the console (docs/console-*.png).
// Starts the built local host on free ports with a throw-away DATA_DIR, fills it with a few
// orders (completed, declined, failed, awaiting approval), a rejected inbound message and some
// audited actions, then signs in through the development issuer's page in headless Chromium
// (Debian's, via playwright-core; CHROMIUM_PATH overrides) and captures each page.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ServiceBusClient } from "@azure/service-bus";
import { chromium } from "playwright-core";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const docs = join(root, "docs");
const dataDir = mkdtempSync(join(tmpdir(), "console-screenshots-"));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const THRESHOLD = 50000;

const host = spawn(
  process.execPath,
  [join(root, "dist", "local-host", "src", "cli.js"), "--free-ports", "--port", "0"],
  {
    cwd: root,
    env: { ...process.env, DATA_DIR: dataDir, APPROVAL_THRESHOLD_MINOR: String(THRESHOLD) },
    stdio: ["ignore", "ignore", "inherit"],
  },
);

async function ready() {
  const file = join(dataDir, "endpoints.json");
  for (let i = 0; i < 600; i++) {
    if (existsSync(file)) return JSON.parse(readFileSync(file, "utf8"));
    if (host.exitCode !== null) throw new Error(`the host exited (${host.exitCode})`);
    await sleep(100);
  }
  throw new Error("the host did not become ready in 60 s");
}

async function token(issuer, claims) {
  const form = new URLSearchParams({ grant_type: "client_credentials", aud: issuer.audience });
  for (const [k, v] of Object.entries(claims)) form.set(k, v);
  const res = await fetch(`${issuer.url}/token`, { method: "POST", body: form });
  return (await res.json()).access_token;
}

const order = (customerId, cardNumber, unitPrice = 1999, quantity = 2) => ({
  customerId,
  currency: "USD",
  items: [{ sku: "SKU-1", name: "Widget", quantity, unitPrice }],
  shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
  payment: { cardNumber },
});

async function main() {
  const endpoints = await ready();
  const base = endpoints.baseUrl.replace(/\/+$/, "");
  const app = await token(endpoints.issuer, {
    oid: "storefront",
    azp: "storefront",
    roles: "Orders.Submit Orders.Operate",
  });
  const approver = await token(endpoints.issuer, {
    oid: "u-ada",
    name: "Ada Approver",
    scp: "Orders.Console",
    roles: "Orders.Approve",
  });
  const operator = await token(endpoints.issuer, {
    oid: "u-olu",
    name: "Olu Operator",
    scp: "Orders.Console",
    roles: "Orders.Operate",
  });
  const call = async (method, path, body, bearer = app) => {
    const res = await fetch(`${base}/api/${path}`, {
      method,
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
    return res.json();
  };

  const cards = ["4242424242424242", "5555555555554444", "4000000000000002", "4000000000000259"];
  const created = [];
  for (let i = 0; i < 9; i++)
    created.push(
      await call("POST", "orders", order(`c-${100 + i}`, cards[i % cards.length], 1999 + i * 250)),
    );
  const large = [];
  for (let i = 0; i < 3; i++)
    large.push(
      await call("POST", "orders", order(`c-${200 + i}`, cards[0], THRESHOLD + 5000 * i, 1)),
    );

  const bus = new ServiceBusClient(endpoints.serviceBusConnectionString);
  const sender = bus.createSender("orders-inbound");
  await sender.sendMessages([
    {
      body: order("c-300", cards[0], 1999, 0),
      messageId: "partner-4711",
      contentType: "application/json",
    },
    {
      body: {
        ...order("c-301", cards[1]),
        shippingAddress: { line1: "2 Side St", city: "Oslo", postalCode: "0150", country: "XX" },
      },
      messageId: "partner-4712",
      contentType: "application/json",
    },
    {
      body: order("c-302", cards[0], 1999, -1),
      messageId: "partner-4713",
      contentType: "application/json",
    },
  ]);
  await sender.close();
  await bus.close();

  // Let the orders finish and the large ones reach the approval wait; decide one, discard one.
  await sleep(6000);
  await call(
    "POST",
    `orders/${large[0].orderId}/approval`,
    { approved: true, reason: "known customer" },
    approver,
  );
  const rejected = await call("GET", "operator/rejected-messages?state=rejected");
  const discard = rejected.items.find((m) => m.messageId === "partner-4713");
  if (discard)
    await call(
      "POST",
      `operator/rejected-messages/${discard.id}/discard`,
      { reason: "duplicate of partner-4711" },
      operator,
    );
  await sleep(3000);

  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`${base}/api/console/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(/\/signin\?/);
    await page.getByLabel("User id", { exact: true }).fill("u-olu");
    await page.getByLabel("Name", { exact: true }).fill("Olu Operator");
    await page.getByLabel("Operator (Orders.Operate)").check();
    await page.screenshot({ path: join(docs, "console-signin.png") });
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.locator("header").getByText("Signed in as").waitFor();

    const shot = async (hash, name, waitFor) => {
      await page.goto(`${base}/api/console/${hash}`);
      await page.getByRole("heading", { level: 1 }).waitFor();
      await waitFor?.();
      await page.waitForLoadState("networkidle");
      for (let i = 0; i < 100 && (await page.locator(".loading").count()) > 0; i++)
        await sleep(100);
      await sleep(300);
      await page.screenshot({ path: join(docs, `console-${name}.png`), fullPage: true });
      process.stdout.write(`screenshots: docs/console-${name}.png\n`);
    };
    await shot("#/orders", "orders", () => page.locator(".chart canvas").first().waitFor());
    await shot(`#/orders/${created[0].orderId}`, "order", () =>
      page.getByRole("list", { name: "Spans, parents before children" }).waitFor(),
    );
    await shot("#/approvals", "approvals", () => page.getByText("Waiting").first().waitFor());
    await shot("#/failures", "failures", () => page.getByText("partner-4711").first().waitFor());
    await shot("#/audit", "audit", () => page.getByRole("table").waitFor());
  } finally {
    await browser.close();
  }
}

main()
  .catch((e) => {
    process.stderr.write(`screenshots: ${e.stack ?? e}\n`);
    process.exitCode = 1;
  })
  .finally(async () => {
    host.kill("SIGTERM");
    await new Promise((r) => (host.exitCode !== null ? r() : host.once("exit", r)));
    rmSync(dataDir, { recursive: true, force: true });
  });
