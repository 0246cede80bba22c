/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// With function keys enforced (--enforce-keys, as in Azure): the API needs the key, health does
// not, and a client that authenticates with ?code= never gets its key (or the system key) echoed
// back in a Location, a body or any header; it follows Location adding its own key.
import fs from "node:fs";
import { PROJECT_ROOT, startHost, type StartedHost } from "../../local-host/test/support/host";
import { searchArtefacts } from "./support/artefacts";
import { Api, createOrder, ensureFreshBuild, orderRequest, pollToOutcome } from "./support/e2e";

let host: StartedHost;
let key: string;

beforeAll(async () => {
  ensureFreshBuild();
  host = await startHost({ appDir: PROJECT_ROOT, enforceKeys: true });
  key = (host.endpoints as any).keys.functionKey;
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

/** A client that sends its key as ?code= on every request (the portal's "function URL"). */
class QueryKeyApi extends Api {
  override request(method: string, pathOrUrl: string, options = {}) {
    const url = new URL(/^https?:/.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}/api${pathOrUrl}`);
    url.searchParams.set("code", key);
    return super.request(method, url.toString(), options);
  }
}

it("the API needs the key; health is anonymous", async () => {
  const anonymous = new Api(host.baseUrl);
  expect((await anonymous.post("/orders", orderRequest())).status).toBe(401);
  expect((await anonymous.get("/orders?limit=1")).status).toBe(401);
  expect((await anonymous.get("/health")).status).toBe(200);
});

it("an order created with ?code= gets a Location without any key and completes", async () => {
  const api = new QueryKeyApi(host.baseUrl);
  expect(typeof key).toBe("string");
  const created = await createOrder(api, orderRequest());
  expect(created.location).toBe(`${host.baseUrl}/api/orders/${created.orderId}/status`);
  const polled = await pollToOutcome(api, created.location);
  expect(polled.body.status).toBe("Completed");
  for (const path of [
    `/orders/${created.orderId}`,
    `/orders/${created.orderId}/payments`,
    `/orders/${created.orderId}/notifications`,
  ]) {
    expect((await api.get(path)).status).toBe(200);
  }
  // Recorded URLs carry the key (we sent it); responses must not.
  const report = searchArtefacts(host, api);
  expect(report.leaks).toEqual([]);
  expect(report.hits).toEqual([]);
  const keys = Object.values((host.endpoints as any).keys as Record<string, string>);
  for (const r of api.responses) {
    for (const k of keys) expect(`${JSON.stringify(r.headers)}${r.text}`).not.toContain(k);
  }
});
