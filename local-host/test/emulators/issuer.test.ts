// The development token issuer: OIDC discovery at <iss>/.well-known/openid-configuration, tokens
// the app's validator accepts, and the same key and issuer URL after a restart on one directory.
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
