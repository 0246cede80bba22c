/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// The console in headless Chromium (Debian's chromium through playwright-core) against one
// running local host and one browser; each person signs in through the development issuer's
// sign-in page in their own browser context. Time budget: 60 s from the host's start to the
// browser's close (host start ~10 s, each flow a few seconds; the tsc build before it is shared
// with the e2e suite). Nothing here writes a tracked file.
import fs from "node:fs";
import { randomUUID } from "node:crypto";
import { ServiceBusClient } from "@azure/service-bus";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import {
  Api,
  CARDS,
  createOrder,
  ensureFreshBuild,
  eventually,
  orderRequest,
  pollToOutcome,
  waitForStage,
} from "../e2e/support/e2e";
import { accessTokenOf, buildConsole, launch, signIn } from "./support/browser";

const BUDGET_MS = 60_000;
const THRESHOLD = 50_000;
let started = 0;
let host: StartedHost;
let api: Api;
let browser: Browser;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  ensureFreshBuild();
  buildConsole();
  started = Date.now();
  [host, browser] = await Promise.all([
    startHost({ appDir: PROJECT_ROOT, env: { APPROVAL_THRESHOLD_MINOR: String(THRESHOLD) } }),
    launch(),
  ]);
  api = Api.forHost(host);
}, 90_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  await browser?.close();
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
  // The stated budget, host start included.
  expect(Date.now() - started).toBeLessThan(BUDGET_MS);
});

/** A new browser context (its own sessionStorage: one person) with a page that records errors. */
async function person(): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  contexts.push(context);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    // CSP violations and script errors show up here; failed API calls are the app's to show.
    if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(m.text());
  });
  return { page, errors };
}

/** Nothing a console page shows may be a card number or the access token. */
async function expectNoSecrets(page: Page): Promise<void> {
  const html = await page.content();
  expect(html).not.toContain(await accessTokenOf(page));
  for (const card of Object.values(CARDS)) expect(html).not.toContain(card);
}

it("an approver signs in on the sign-in page, approves an order in the inbox and sees it complete", async () => {
  const created = await createOrder(api, orderRequest({ quantity: 1, unitPrice: THRESHOLD + 100 }));
  await waitForStage(api, created.orderId, "AwaitingApproval");
  const { page, errors } = await person();
  await signIn(page, host.baseUrl, {
    id: "u-ada",
    name: "Ada Approver",
    picks: ["Orders.Approve"],
  });
  // An approver lands on the inbox; the operator pages are not offered.
  await page.getByRole("heading", { name: "Approvals", level: 1 }).waitFor();
  const nav = page.getByRole("navigation", { name: "Pages" });
  expect(await nav.getByRole("link").allInnerTexts()).toEqual(["Approvals"]);

  const card = page.getByRole("listitem").filter({ hasText: created.orderId });
  await card.getByText("Waiting").waitFor();
  await card.getByLabel(`Reason for order ${created.orderId.slice(0, 8)}`).fill("known customer");
  await card.getByRole("button", { name: "Approve" }).click();
  await card.getByRole("status").filter({ hasText: "Completed" }).waitFor({ timeout: 20_000 });
  const order = await api.get(`/orders/${created.orderId}`);
  expect(order.body).toMatchObject({
    status: "Completed",
    decidedBy: { id: "u-ada", name: "Ada Approver" },
  });
  await expectNoSecrets(page);
  expect(errors).toEqual([]);
});

it("an operator resubmits a corrected rejected message and sees the order appear", async () => {
  const messageId = `console-${randomUUID()}`;
  const request = orderRequest({ quantity: 0 }); // invalid: quantity must be at least 1
  const bus = new ServiceBusClient(String(host.endpoints.serviceBusConnectionString));
  try {
    const sender = bus.createSender("orders-inbound");
    await sender.sendMessages({ body: request, messageId, contentType: "application/json" });
    await sender.close();
  } finally {
    await bus.close();
  }
  await eventually(async () => {
    const res = await api.get(`/operator/rejected-messages?state=rejected`);
    return res.body?.items?.find((m: any) => m.messageId === messageId);
  }, "the message to be rejected");

  const { page, errors } = await person();
  await signIn(
    page,
    host.baseUrl,
    { id: "u-olu", name: "Olu Operator", picks: ["Orders.Operate"] },
    "#/failures",
  );
  await page.getByRole("heading", { name: "Failures", level: 1 }).waitFor();
  const card = page.getByRole("listitem").filter({ hasText: messageId });
  const editor = card.getByLabel("Corrected order (JSON, without the card)");
  const shown = JSON.parse(await editor.inputValue());
  expect(shown.payment).toBeUndefined(); // the stored card token is used, never shown
  shown.items[0].quantity = 3;
  await editor.fill(JSON.stringify(shown, null, 2));
  await card.getByLabel(`Reason for message ${messageId}`).fill("quantity fixed with the sender");
  await card.getByRole("button", { name: "Resubmit corrected" }).click();
  await card.getByRole("status").filter({ hasText: "Resubmitted: order" }).waitFor();
  const link = card.getByRole("link", { name: /^Open order / });
  const orderId = (await link.innerText()).replace("Open order ", "");
  await link.click();
  await page.getByRole("heading", { name: `Order ${orderId}`, level: 1 }).waitFor();
  await page.locator("dl.summary").getByText(request.customerId).waitFor();
  const polled = await pollToOutcome(api, `${host.baseUrl}/api/orders/${orderId}/status`);
  expect(polled.body.status).toBe("Completed");
  expect((await api.get(`/orders/${orderId}`)).body.lines[0].quantity).toBe(3);
  await expectNoSecrets(page);
  expect(errors).toEqual([]);
});

it("an operator opens an order and sees its trace as a waterfall, with its history and ledger", async () => {
  const created = await createOrder(api, orderRequest());
  await pollToOutcome(api, created.location);
  const { page, errors } = await person();
  await signIn(page, host.baseUrl, {
    id: "u-olu",
    name: "Olu Operator",
    picks: ["Orders.Operate"],
  });
  await page.getByRole("heading", { name: "Orders", level: 1 }).waitFor();
  await page.getByRole("link", { name: created.orderId }).click();
  await page.getByRole("heading", { name: `Order ${created.orderId}`, level: 1 }).waitFor();
  const spans = page.getByRole("list", { name: "Spans, parents before children" });
  // Spans reach the receiver as they are exported: wait for the delivery's span too.
  await eventually(
    async () => {
      if ((await spans.count()) === 1 && (await spans.getByRole("listitem").count()) >= 5)
        return true;
      await page.reload();
      await page.getByRole("heading", { name: "Trace" }).waitFor();
      return undefined;
    },
    "the trace's spans",
    20_000,
  );
  // The page loads its sections independently: the history may arrive after the trace.
  const history = page.getByRole("table", { name: "Orchestration history events" });
  await history.waitFor();
  expect(await history.count()).toBe(1);
  await history.getByText("chargePayment").first().waitFor();
  await page.getByRole("table", { name: "Payments" }).getByText("charge").first().waitFor();
  await expectNoSecrets(page);
  expect(errors).toEqual([]);
});

it("a customer signs in but cannot open the operator pages, and the API refuses them too", async () => {
  const { page, errors } = await person();
  await signIn(page, host.baseUrl, { id: "c-browser", name: "Cy Customer", picks: ["customer"] });
  expect(await page.getByRole("navigation", { name: "Pages" }).getByRole("link").count()).toBe(0);
  for (const hash of [
    "#/orders",
    "#/approvals",
    "#/failures",
    "#/audit",
    `#/orders/${randomUUID()}`,
  ]) {
    await page.goto(`${host.baseUrl}/api/console/${hash}`);
    await page.getByRole("heading", { name: "Not allowed", level: 1 }).waitFor();
  }
  const token = await accessTokenOf(page);
  for (const path of ["operator/audit", "operator/stuck-orders", "operator/rejected-messages"]) {
    const res = await fetch(`${host.baseUrl}/api/${path}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect({ path, status: res.status }).toEqual({ path, status: 403 });
  }
  expect(errors).toEqual([]);
});

it("the console's files come with their content types and a CSP; no path leaves its folder", async () => {
  const index = await fetch(`${host.baseUrl}/api/console/`);
  expect(index.headers.get("content-type")).toBe("text/html; charset=utf-8");
  expect(index.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
  const js = await fetch(`${host.baseUrl}/api/console/app.js`);
  expect(js.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  for (const p of ["..%2f..%2fhost.json", "%2e%2e/%2e%2e/package.json", "..%5c..%5chost.json"]) {
    const res = await fetch(`${host.baseUrl}/api/console/${p}`);
    expect({ p, status: res.status }).toEqual({ p, status: 404 });
  }
});
