/* eslint-disable @typescript-eslint/no-explicit-any -- response bodies are JSON from the fixture */
// The shell through real HTTP: a host process running the fixture app (no emulators needed).
import fs from "node:fs";
import path from "node:path";
import { ensureBuilt, startHost, type StartedHost } from "../support/host";

const appDir = path.join(__dirname, "..", "fixtures", "http-app");
let host: StartedHost;
let api: string;

beforeAll(async () => {
  ensureBuilt();
  host = await startHost({
    appDir,
    env: { OVERRIDDEN: "real-env-value" },
    args: ["--external-emulators", "--max-request-body-size", "4096"],
  });
  api = `${host.baseUrl}/api`;
}, 120000);

afterAll(async () => {
  await host?.stop();
  if (host) fs.rmSync(host.dataDir, { recursive: true, force: true });
});

async function json(
  url: string,
  init?: RequestInit,
): Promise<{
  status: number;
  body: any;
}> {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

describe("startup", () => {
  it("prints the function list with methods and URLs and writes endpoints.json", () => {
    const logs = host.logs();
    expect(logs).toContain("Functions:");
    expect(logs).toContain(`  echo: [GET,POST,PUT] ${host.baseUrl}/api/echo/{id:int}/{name?}`);
    expect(logs).toContain(`  cookies: [GET] ${host.baseUrl}/api/cookies`);
    expect(logs).toContain("  sbEcho: serviceBusTrigger");
    const onDisk = JSON.parse(fs.readFileSync(path.join(host.dataDir, "endpoints.json"), "utf8"));
    expect(onDisk.baseUrl).toBe(host.baseUrl);
    expect(onDisk.apiBaseUrl).toBe(api);
    expect(host.baseUrl).toMatch(/^http:\/\/localhost:\d+$/);
    // Without a connection the Service Bus functions are in error, the rest still serves.
    expect(logs).toContain("The 'sbEcho' function is in error");
  });

  it("runs the app in a separate worker process", async () => {
    const { body } = await json(`${api}/pid`);
    expect(body.pid).not.toBe(host.process.pid);
    expect(host.pids()).toEqual(expect.arrayContaining([host.process.pid, body.pid]));
  });
});

describe("routing", () => {
  it("binds route parameters, constraints and the optional parameter", async () => {
    const a = await json(`${api}/echo/42/alice`);
    expect(a.status).toBe(200);
    expect(a.body.params).toEqual({ id: "42", name: "alice" });
    const b = await json(`${api}/echo/42`);
    expect(b.status).toBe(200);
    expect(b.body.params).toEqual({ id: "42" });
    expect((await fetch(`${api}/echo/notanint/alice`)).status).toBe(404);
  });

  it("matches case-insensitively and decodes parameters", async () => {
    const r = await json(`${host.baseUrl}/API/Echo/7/J%C3%BCrgen%20X`);
    expect(r.status).toBe(200);
    expect(r.body.params).toEqual({ id: "7", name: "Jürgen X" });
  });

  it("prefers literal segments over a catch-all, which takes the rest of the path", async () => {
    expect((await json(`${api}/items/special`)).body).toEqual({ which: "special" });
    const r = await json(`${api}/items/a/b/c`);
    expect(r.body).toEqual({ which: "catchAll", params: { rest: "a/b/c" } });
  });

  it("chooses between routes by their constraints", async () => {
    const guid = "3f2504e0-4f89-11d3-9a0c-0305e82c3301";
    expect((await json(`${api}/things/${guid}`)).body).toEqual({ which: "guid", id: guid });
    expect((await json(`${api}/things/abc`)).body).toEqual({ which: "alpha", name: "abc" });
    expect((await fetch(`${api}/things/a`)).status).toBe(404); // minlength(2)
    expect((await fetch(`${api}/things/a1`)).status).toBe(404);
  });

  it("uses the function name when no route is given, under the route prefix only", async () => {
    expect((await fetch(`${api}/cookies`)).status).toBe(201);
    expect((await fetch(`${host.baseUrl}/cookies`)).status).toBe(404);
  });

  it("answers 404 for unknown routes and for methods the function does not accept", async () => {
    expect((await fetch(`${api}/nope`)).status).toBe(404);
    expect((await fetch(`${api}/echo/1`, { method: "DELETE" })).status).toBe(404);
    expect((await fetch(`${api}/cookies`, { method: "POST" })).status).toBe(404);
  });
});

describe("requests", () => {
  it("passes the method, URL, query and headers", async () => {
    const r = await json(`${api}/echo/1?a=1&b=two&a=3`, {
      method: "PUT",
      headers: { "X-Custom-Header": "value-1" },
    });
    expect(r.body.method).toBe("PUT");
    expect(r.body.url).toBe(`${api}/echo/1?a=1&b=two&a=3`);
    expect(r.body.query).toEqual({ a: "1,3", b: "two" });
    expect(r.body.headers["x-custom-header"]).toBe("value-1");
  });

  it("passes JSON and text bodies", async () => {
    const j = await json(`${api}/echo/1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ a: [1, 2], b: "ü" }),
    });
    expect(j.body.bodyJson).toEqual({ a: [1, 2], b: "ü" });
    const t = await json(`${api}/echo/1`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "just text",
    });
    expect(t.body.bodyText).toBe("just text");
    expect(t.body.bodyJson).toBeUndefined();
  });

  it("passes binary bodies byte for byte, both ways", async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 0x80, 0xc3, 0x28, 7]);
    const res = await fetch(`${api}/bytes`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream" },
      body: bytes,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(bytes).reverse());
  });

  it("rejects a body over the limit with 413", async () => {
    const res = await fetch(`${api}/echo/1`, { method: "POST", body: "x".repeat(5000) });
    expect(res.status).toBe(413);
    const ok = await json(`${api}/echo/1`, { method: "POST", body: "y".repeat(4096) });
    expect(ok.status).toBe(200);
    expect(ok.body.bodyText).toHaveLength(4096);
  });
});

describe("responses", () => {
  it("returns the status, headers and cookies the function set", async () => {
    const res = await fetch(`${api}/cookies`);
    expect(res.status).toBe(201);
    expect(res.headers.get("x-custom")).toBe("yes");
    expect(res.headers.getSetCookie()).toEqual([
      "session=abc; Path=/; HttpOnly; SameSite=Strict",
      "theme=dark; Max-Age=60; Secure",
    ]);
    expect(await res.text()).toBe("cookies set");
  });

  it("turns a handler error into a bare 500 (the detail only goes to the log)", async () => {
    const res = await fetch(`${api}/fail`);
    expect(res.status).toBe(500);
    expect(await res.text()).toBe("");
    // The host writes its log once per event-loop turn: the line may follow the response.
    for (let i = 0; i < 100 && !host.logs().includes("secret failure detail"); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(host.logs()).toContain("secret failure detail");
  });

  it("answers 204 when the handler returns nothing", async () => {
    const res = await fetch(`${api}/nothing`);
    expect(res.status).toBe(204);
  });
});

describe("settings", () => {
  it("puts local.settings.json Values in the environment, real environment variables winning", async () => {
    const { body } = await json(`${api}/env`);
    expect(body.FROM_SETTINGS).toBe("settings-value");
    expect(body.OVERRIDDEN).toBe("real-env-value");
    expect(body.WEBSITE_HOSTNAME).toBe(`localhost:${new URL(host.baseUrl).port}`);
  });
});

describe("worker crash", () => {
  it("fails the in-flight request, restarts the worker and serves the next request", async () => {
    const before = (await json(`${api}/pid`)).body.pid as number;
    const crashed = await fetch(`${api}/crash`, { method: "POST" });
    expect(crashed.status).toBe(500);
    const after = await json(`${api}/pid`);
    expect(after.status).toBe(200);
    expect(after.body.pid).not.toBe(before);
    expect(host.pids()).toContain(after.body.pid);
    expect(host.logs()).toContain("Worker process exited (code 3");
  });
});

describe("durable wiring", () => {
  it("gives HTTP functions a durableClient and serves the management webhooks", async () => {
    const res = await fetch(`${api}/hello/bob`, { method: "POST" });
    expect(res.status).toBe(202);
    const body = (await res.json()) as { id: string; statusQueryGetUri: string };
    expect(res.headers.get("location")).toBe(body.statusQueryGetUri);
    expect(
      body.statusQueryGetUri.startsWith(
        `${host.baseUrl}/runtime/webhooks/durabletask/instances/${body.id}`,
      ),
    ).toBe(true);
    let status: { runtimeStatus: string; output: unknown } | undefined;
    for (let i = 0; i < 100; i++) {
      const poll = await fetch(body.statusQueryGetUri);
      status = (await poll.json()) as typeof status;
      if (poll.status === 200) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toMatchObject({ runtimeStatus: "Completed", output: ["Hello bob"] });
    // The durable rpc listener is loopback-only and reported in endpoints.json.
    expect(String(host.endpoints.rpcBaseUrl)).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/durabletask\/$/);
  });
});
