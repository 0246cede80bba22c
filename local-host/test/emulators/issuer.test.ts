// The development token issuer: OIDC discovery at <iss>/.well-known/openid-configuration, tokens
// the app's validator accepts, and the same key and issuer URL after a restart on one directory.
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startIssuer } from "../../src/emulators/issuer";
import { mintToken, tokenFor } from "../../src/token";
import { TokenValidator } from "../../../src/auth/token";

const AUD = "issuer-test-api";
let dir: string;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "issuer-"));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it("serves discovery under its iss and mints tokens the app accepts", async () => {
  const issuer = await startIssuer({ ports: "free", dir, audience: AUD });
  try {
    const discovery = (await (
      await fetch(`${issuer.url}/.well-known/openid-configuration`)
    ).json()) as { issuer: string; jwks_uri: string };
    expect(discovery.issuer).toBe(issuer.url);
    const validator = new TokenValidator({ authority: issuer.url, audience: AUD });
    const info = { url: issuer.url, audience: AUD };
    const customer = await validator.validate(await mintToken(info, tokenFor.customer("c-1")));
    expect(customer).toMatchObject({ id: "c-1", scopes: ["Orders.ReadWrite"], roles: [] });
    const app = await validator.validate(
      await mintToken(info, tokenFor.app("storefront", ["Orders.Submit"])),
    );
    expect(app).toMatchObject({
      id: "storefront",
      clientId: "storefront",
      roles: ["Orders.Submit"],
    });
    const person = await validator.validate(
      await mintToken(info, tokenFor.user("u-1", "Ada", ["Orders.Approve", "Orders.Operate"])),
    );
    expect(person).toMatchObject({
      id: "u-1",
      name: "Ada",
      roles: ["Orders.Approve", "Orders.Operate"],
    });
    await expect(
      validator.validate(await mintToken(info, tokenFor.customer("c-1", { expiresIn: -60 }))),
    ).rejects.toThrow(/expired/);
    await expect(
      validator.validate(await mintToken(info, tokenFor.customer("c-1", { audience: "other" }))),
    ).rejects.toThrow(/aud/);
  } finally {
    await issuer.close();
  }
});

it("keeps its key and port (so iss) across restarts on one directory; the key file is owner-only", async () => {
  const first = await startIssuer({ ports: "free", dir, audience: AUD });
  const token = await mintToken({ url: first.url, audience: AUD }, tokenFor.customer("c-1"));
  await first.close();
  const file = path.join(dir, "issuer.json");
  expect(fs.statSync(file).mode & 0o077).toBe(0);
  const second = await startIssuer({ ports: "free", dir, audience: AUD });
  try {
    expect(second.url).toBe(first.url);
    const validator = new TokenValidator({ authority: second.url, audience: AUD });
    await expect(validator.validate(token)).resolves.toMatchObject({ id: "c-1" });
  } finally {
    await second.close();
  }
});

describe("browser sign-in (authorization code + PKCE)", () => {
  const verifier = "v".repeat(43) + "-sign-in-test-verifier";
  const challenge = crypto.createHash("sha256").update(verifier).digest("base64url");
  const redirectUri = "http://localhost:7071/api/console/";

  function authorizeUrl(issuerUrl: string, extra: Record<string, string | string[]> = {}): URL {
    const url = new URL("/authorize", issuerUrl);
    const params: Record<string, string | string[]> = {
      response_type: "code",
      client_id: "orders-console-local",
      redirect_uri: redirectUri,
      scope: "openid profile Orders.Console",
      state: "s-1",
      code_challenge: challenge,
      code_challenge_method: "S256",
      ...extra,
    };
    for (const [k, v] of Object.entries(params))
      for (const x of Array.isArray(v) ? v : [v]) url.searchParams.append(k, x);
    return url;
  }

  const redeem = (issuerUrl: string, code: string) =>
    fetch(`${issuerUrl}/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code,
        code_verifier: verifier,
        client_id: "orders-console-local",
        redirect_uri: redirectUri,
      }),
    });

  it("shows the sign-in page first, then issues a code whose tokens carry exactly the pick", async () => {
    const issuer = await startIssuer({ ports: "free", audience: AUD });
    try {
      const first = await fetch(authorizeUrl(issuer.url), { redirect: "manual" });
      expect(first.status).toBe(302);
      const signin = new URL(first.headers.get("location")!);
      expect(signin.pathname).toBe("/signin");
      expect(signin.searchParams.get("redirect_uri")).toBe(redirectUri);
      const page = await fetch(signin);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).toContain('<label for="dev_oid">User id</label>');
      expect(html).toContain('name="code_challenge" value="' + challenge + '"');

      const picked = await fetch(
        authorizeUrl(issuer.url, {
          dev_oid: "u-ada",
          dev_name: "Ada <Approver>",
          dev_role: ["Orders.Approve", "Orders.Operate"],
        }),
        { redirect: "manual" },
      );
      const back = new URL(picked.headers.get("location")!);
      expect(`${back.origin}${back.pathname}`).toBe(redirectUri);
      expect(back.searchParams.get("state")).toBe("s-1");
      const code = back.searchParams.get("code")!;
      const res = await redeem(issuer.url, code);
      expect(res.status).toBe(200);
      const body = (await res.json()) as { access_token: string; id_token: string };
      const validator = new TokenValidator({ authority: issuer.url, audience: AUD });
      const caller = await validator.validate(body.access_token);
      expect(caller).toMatchObject({
        id: "u-ada",
        name: "Ada <Approver>",
        roles: ["Orders.Approve", "Orders.Operate"],
        scopes: ["Orders.Console"],
      });
      const idClaims = JSON.parse(
        Buffer.from(body.id_token.split(".")[1]!, "base64url").toString(),
      ) as Record<string, unknown>;
      expect(idClaims).toMatchObject({ sub: "u-ada", aud: "orders-console-local" });
      expect(idClaims.roles).toBeUndefined();
      // A code redeems once.
      expect((await redeem(issuer.url, code)).status).toBe(400);
    } finally {
      await issuer.close();
    }
  });

  it("a customer pick gets the customer scope and no roles; a bad pick or a foreign redirect is refused", async () => {
    const issuer = await startIssuer({ ports: "free", audience: AUD });
    try {
      const picked = await fetch(
        authorizeUrl(issuer.url, { dev_oid: "c-9", dev_name: "Cy", dev_role: "customer" }),
        { redirect: "manual" },
      );
      const code = new URL(picked.headers.get("location")!).searchParams.get("code")!;
      const body = (await (await redeem(issuer.url, code)).json()) as { access_token: string };
      const caller = await new TokenValidator({ authority: issuer.url, audience: AUD }).validate(
        body.access_token,
      );
      expect(caller).toMatchObject({
        id: "c-9",
        roles: [],
        scopes: ["Orders.Console", "Orders.ReadWrite"],
      });

      const none = await fetch(authorizeUrl(issuer.url, { dev_oid: "u-1" }), {
        redirect: "manual",
      });
      const again = new URL(none.headers.get("location")!);
      expect(again.pathname).toBe("/signin");
      expect(again.searchParams.get("dev_error")).toMatch(/at least one role/);

      const foreign = await fetch(
        `${issuer.url}/signin?redirect_uri=${encodeURIComponent("https://evil.example/cb")}`,
      );
      expect(foreign.status).toBe(400);
      expect(await foreign.text()).not.toContain("<form");
      // A made-up code is refused.
      expect((await redeem(issuer.url, "not-a-code")).status).toBe(400);
    } finally {
      await issuer.close();
    }
  });
});
