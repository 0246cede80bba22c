/* eslint-disable @typescript-eslint/no-explicit-any -- bodies are JSON from the running host */
// With function keys enforced (--enforce-keys, as in Azure): the API routes are protected by
// bearer tokens, not keys (a key is a shared secret, not an identity), so a key alone gets 401
// and a token without a key works; health stays anonymous; the Durable management webhooks still
// need the system key. A client that also sends ?code= never gets a key echoed back in a
// Location, a body or any header.
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

/** A client that also sends its key as ?code= on every request (the portal's "function URL"). */
class QueryKeyApi extends Api {
  override request(method: string, pathOrUrl: string, options = {}) {
    const url = new URL(/^https?:/.test(pathOrUrl) ? pathOrUrl : `${this.baseUrl}/api${pathOrUrl}`);
    url.searchParams.set("code", key);
    return super.request(method, url.toString(), options);
  }
}

it("the API needs a token, not a key; health is anonymous; webhooks keep the system key", async () => {
  const keyOnly = new QueryKeyApi(host.baseUrl);
  const created = await keyOnly.post("/orders", orderRequest());
  expect(created.status).toBe(401);
  expect(created.headers.get("www-authenticate")).toBe("Bearer");
  expect((await keyOnly.get("/orders?limit=1")).status).toBe(401);
  expect((await Api.forHost(host).get("/orders?limit=1")).status).toBe(200);
  expect((await keyOnly.anonymous().get("/health")).status).toBe(200);
  const webhook = `${host.baseUrl}/runtime/webhooks/durabletask/instances/no-such-instance`;
  expect((await fetch(webhook, { headers: await Api.forHost(host).authorization() })).status).toBe(
    401,
  );
  const systemKey = (host.endpoints as any).keys.systemKey as string;
  expect((await fetch(`${webhook}?code=${systemKey}`)).status).toBe(404);
});

it("an order created with a token and ?code= gets a Location without any key and completes", async () => {
  const api = new QueryKeyApi(host.baseUrl, [], Api.forHost(host).auth);
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
