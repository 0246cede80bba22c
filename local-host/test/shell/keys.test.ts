// --enforce-keys: function/admin keys for HTTP functions and the system key for the durable
// management webhooks, generated once under DATA_DIR.
import fs from "node:fs";
import path from "node:path";
import { ensureBuilt, startHost, type StartedHost } from "../support/host";

const appDir = path.join(__dirname, "..", "fixtures", "http-app");
let host: StartedHost | undefined;

beforeAll(() => ensureBuilt(), 120000);
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

interface Keys {
  functionKeys: { default: string };
  masterKey: string;
  systemKeys: { durabletask_extension: string };
}

it("does not enforce keys by default, like func start", async () => {
  host = await startHost({ appDir, args: ["--external-emulators"] });
  expect((await fetch(`${host.baseUrl}/api/secured`)).status).toBe(200);
  expect((await fetch(`${host.baseUrl}/api/adminOnly`)).status).toBe(200);
  expect(fs.existsSync(path.join(host.dataDir, "keys.json"))).toBe(false);
  fs.rmSync(host.dataDir, { recursive: true, force: true });
});

it("enforces function, admin and system keys and keeps them across restarts", async () => {
  host = await startHost({ appDir, enforceKeys: true, args: ["--external-emulators"] });
  const dataDir = host.dataDir;
  const keys = JSON.parse(fs.readFileSync(path.join(dataDir, "keys.json"), "utf8")) as Keys;
  const fnKey = keys.functionKeys.default;
  expect(host.logs()).toContain(fnKey);
  expect(host.endpoints.keys).toEqual({
    functionKey: fnKey,
    masterKey: keys.masterKey,
    systemKey: keys.systemKeys.durabletask_extension,
  });
  const api = `${host.baseUrl}/api`;

  expect((await fetch(`${api}/secured`)).status).toBe(401);
  expect((await fetch(`${api}/secured?code=wrong`)).status).toBe(401);
  expect((await fetch(`${api}/secured`, { headers: { "x-functions-key": fnKey } })).status).toBe(
    200,
  );
  expect((await fetch(`${api}/secured?code=${encodeURIComponent(fnKey)}`)).status).toBe(200);
  expect((await fetch(`${api}/secured?code=${encodeURIComponent(keys.masterKey)}`)).status).toBe(
    200,
  );
  expect((await fetch(`${api}/adminOnly?code=${encodeURIComponent(fnKey)}`)).status).toBe(401);
  expect((await fetch(`${api}/adminOnly?code=${encodeURIComponent(keys.masterKey)}`)).status).toBe(
    200,
  );
  expect((await fetch(`${api}/pid`)).status).toBe(200); // anonymous

  // The durable management URLs carry the system key; without it the webhook refuses.
  const started = await fetch(`${api}/hello/ann`, { method: "POST" });
  expect(started.status).toBe(202);
  const { statusQueryGetUri } = (await started.json()) as { statusQueryGetUri: string };
  const url = new URL(statusQueryGetUri);
  expect(url.searchParams.get("code")).toBe(keys.systemKeys.durabletask_extension);
  expect([200, 202]).toContain((await fetch(url)).status);
  url.searchParams.delete("code");
  expect((await fetch(url)).status).toBe(401);
  url.searchParams.set("code", fnKey);
  expect((await fetch(url)).status).toBe(401);

  await host.stop();
  host = await startHost({ appDir, dataDir, enforceKeys: true, args: ["--external-emulators"] });
  const again = JSON.parse(fs.readFileSync(path.join(dataDir, "keys.json"), "utf8")) as Keys;
  expect(again).toEqual(keys);
  expect(
    (await fetch(`${host.baseUrl}/api/secured?code=${encodeURIComponent(fnKey)}`)).status,
  ).toBe(200);
  await host.stop();
  host = undefined;
  fs.rmSync(dataDir, { recursive: true, force: true });
});
