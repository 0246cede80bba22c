// Headless Chromium for the console's browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (no browser download), and sign-in through the development issuer's page as
// a person would do it.
import fs from "node:fs";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { PROJECT_ROOT } from "../../../local-host/test/support/host";

/** Debian's chromium; CI names it in CHROMIUM_PATH (.github/workflows/azure-dev.yml). */
export const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export function launch(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: apt-get install -y chromium (no browser is downloaded)`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** The console's bundle (esbuild, about a second): tsc alone does not make it. */
export function buildConsole(): void {
  const r = spawnSync(process.execPath, [path.join(PROJECT_ROOT, "console", "build.mjs")], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(`console build failed:\n${r.stdout}${r.stderr}`);
}

export type Pick = "Orders.Approve" | "Orders.Operate" | "customer";
const PICK_LABELS: Record<Pick, string> = {
  "Orders.Approve": "Approver (Orders.Approve)",
  "Orders.Operate": "Operator (Orders.Operate)",
  customer: "Customer (scope Orders.ReadWrite)",
};

/** Opens the console at `hash`, signs in on the issuer's page with this pick, waits for the shell. */
export async function signIn(
  page: Page,
  baseUrl: string,
  who: { id: string; name: string; picks: Pick[] },
  hash = "",
): Promise<void> {
  await page.goto(`${baseUrl}/api/console/${hash}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/signin\?/);
  await page.getByLabel("User id", { exact: true }).fill(who.id);
  await page.getByLabel("Name", { exact: true }).fill(who.name);
  for (const [pick, label] of Object.entries(PICK_LABELS)) {
    await page.getByLabel(label).setChecked(who.picks.includes(pick as Pick));
  }
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("header").getByText(`Signed in as ${who.name}`).waitFor();
}

/** The access token the console holds (oidc-client-ts keeps it in sessionStorage). */
export async function accessTokenOf(page: Page): Promise<string> {
  // A string: this runs in the page (tsconfig has no DOM types for test code).
  const token: unknown = await page.evaluate(`(() => {
    for (let i = 0; i < sessionStorage.length; i++) {
      const key = sessionStorage.key(i);
      if (key.startsWith("oidc.user:")) return JSON.parse(sessionStorage.getItem(key)).access_token;
    }
  })()`);
  if (typeof token !== "string") throw new Error("the console holds no access token");
  return token;
}
