// The console's static files (GET /api/console/{*path}) and its sign-in settings
// (GET /api/console/config.json): content types, a CSP, no way out of the directory, and the
// settings with errors that name them.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { HttpRequest, InvocationContext } from "@azure/functions";
import { readConsoleConfig } from "../../src/config";
import { getConsoleConfig } from "../../src/functions/getConsoleConfig";
import { consoleHandler, consolePolicy } from "../../src/functions/serveConsole";
import { resolveStaticPath } from "../../src/http/staticFiles";

let root: string;
let outside: string;
const context = () => new InvocationContext({ functionName: "test" });

beforeAll(() => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "console-static-"));
  root = path.join(base, "console");
  outside = path.join(base, "secret.json");
  fs.mkdirSync(path.join(root, "assets"), { recursive: true });
  fs.writeFileSync(path.join(root, "index.html"), "<!doctype html><title>c</title>");
  fs.writeFileSync(path.join(root, "app.js"), "console.log(1)");
  fs.writeFileSync(path.join(root, "assets", "a.css"), "body{}");
  fs.writeFileSync(path.join(root, "notes.txt"), "not served: unknown type");
  fs.writeFileSync(outside, '{"key":"outside"}');
  fs.symlinkSync(outside, path.join(root, "link.json"));
});
afterAll(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

const get = (url: string, params: Record<string, string> = {}) =>
  consoleHandler(root)(new HttpRequest({ method: "GET", url, params }), context());

describe("GET /api/console/{*path}", () => {
  const env = { ...process.env };
  beforeEach(() => {
    process.env.AUTH_AUTHORITY = "https://login.microsoftonline.com/tenant-1/v2.0";
    process.env.AUTH_AUDIENCE = "api-1";
  });
  afterEach(() => {
    process.env = { ...env };
  });

  it("serves index.html for /api/console/ with its content type, a CSP and nosniff", async () => {
    const res = await get("http://localhost:7071/api/console/");
    expect(res.status).toBe(200);
    const headers = res.headers as Record<string, string>;
    expect(headers["Content-Type"]).toBe("text/html; charset=utf-8");
    expect(headers["X-Content-Type-Options"]).toBe("nosniff");
    expect(headers["Content-Security-Policy"]).toBe(
      consolePolicy("https://login.microsoftonline.com/tenant-1/v2.0"),
    );
    expect(headers["Content-Security-Policy"]).toContain(
      "connect-src 'self' https://login.microsoftonline.com",
    );
    expect(headers["Content-Security-Policy"]).toContain("script-src 'self';");
    expect(headers["Content-Security-Policy"]).not.toMatch(/unsafe-(inline|eval)/);
    expect(String(res.body)).toContain("<title>c</title>");
  });

  it("redirects /api/console to /api/console/ so relative URLs resolve", async () => {
    const res = await get("http://localhost:7071/api/console");
    expect(res.status).toBe(308);
    expect((res.headers as Record<string, string>).Location).toBe("/api/console/");
  });

  it("serves scripts and styles with their types, nested paths too", async () => {
    const js = await get("http://x/api/console/app.js", { path: "app.js" });
    expect((js.headers as Record<string, string>)["Content-Type"]).toBe(
      "text/javascript; charset=utf-8",
    );
    const css = await get("http://x/api/console/assets/a.css", { path: "assets/a.css" });
    expect(css.status).toBe(200);
    expect((css.headers as Record<string, string>)["Content-Type"]).toBe("text/css; charset=utf-8");
  });

  it.each([
    "../secret.json",
    "assets/../../secret.json",
    "..%2fsecret.json",
    "..\\secret.json",
    "/etc/passwd.json",
    ".hidden.js",
    "assets//a.css",
    "C:/x.js",
    "link.json", // a symbolic link out of the directory
    "notes.txt", // not a console file type
    "missing.js",
  ])("refuses %s with a problem+json 404", async (p) => {
    const res = await get(`http://x/api/console/${p}`, { path: p });
    expect(res.status).toBe(404);
    expect((res.headers as Record<string, string>)["Content-Type"]).toBe(
      "application/problem+json",
    );
    expect(String(res.body)).not.toContain("outside");
  });

  it("resolveStaticPath never leaves the directory", () => {
    expect(resolveStaticPath(root, "index.html")).toBe(path.join(root, "index.html"));
    for (const p of ["..", "../x.js", "a/../../x.js", "a/./b.js", "a\u0000.js"])
      expect(resolveStaticPath(root, p)).toBeUndefined();
  });
});

describe("GET /api/console/config.json", () => {
  const env = { ...process.env };
  afterEach(() => {
    process.env = { ...env };
  });

  it("answers the authority, client id, scope and this host's /api/console/ as redirect URI", async () => {
    Object.assign(process.env, {
      AUTH_AUTHORITY: "http://127.0.0.1:7072",
      AUTH_AUDIENCE: "orders-api-local",
      CONSOLE_CLIENT_ID: "orders-console-local",
      CONSOLE_SCOPE: "openid profile Orders.Console",
    });
    const res = await getConsoleConfig(
      new HttpRequest({ method: "GET", url: "http://localhost:7391/api/console/config.json" }),
      context(),
    );
    expect(res.status).toBe(200);
    expect(JSON.parse(String(res.body))).toEqual({
      authority: "http://127.0.0.1:7072",
      clientId: "orders-console-local",
      scope: "openid profile Orders.Console",
      redirectUri: "http://localhost:7391/api/console/",
      approvalTimeoutSeconds: expect.any(Number),
    });
  });

  it("a missing setting is a 500 problem naming it", async () => {
    Object.assign(process.env, { AUTH_AUTHORITY: "http://127.0.0.1:7072", AUTH_AUDIENCE: "a" });
    delete process.env.CONSOLE_CLIENT_ID;
    const res = await getConsoleConfig(
      new HttpRequest({ method: "GET", url: "http://localhost:7071/api/console/config.json" }),
      context(),
    );
    expect(res.status).toBe(500);
    expect(JSON.parse(String(res.body)).detail).toMatch(/CONSOLE_CLIENT_ID/);
    expect(() =>
      readConsoleConfig({
        AUTH_AUTHORITY: "http://127.0.0.1:1",
        AUTH_AUDIENCE: "a",
        CONSOLE_CLIENT_ID: "c",
      }),
    ).toThrow(/CONSOLE_SCOPE/);
  });
});
