// Token validation, table-driven, against a JWKS server of the test's own (keys made with jose):
// every way a token can be wrong is a 401 reason, never an accepted caller.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type KeyLike } from "jose";
import {
  CLOCK_SKEW_SECONDS,
  InvalidTokenError,
  IssuerUnavailableError,
  TokenValidator,
  VERIFIED_TOKENS_MAX,
  VERIFIED_TOKEN_TTL_MS,
  isAcceptableIssuerUrl,
} from "../../src/auth/token";
import { readAuthConfig, ConfigError } from "../../src/config";

const AUDIENCE = "api-under-test";

interface Issuer {
  url: string;
  server: Server;
  keys: { kid: string; privateKey: KeyLike; publicKey: KeyLike }[];
  published: JWK[];
  jwksFetches: number;
  discoveryUp: boolean;
}

async function newKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("RS256");
  return { kid, privateKey, publicKey };
}

async function startIssuer(): Promise<Issuer> {
  const issuer: Issuer = {
    url: "",
    server: createServer((req, res) => {
      if (req.url === "/.well-known/openid-configuration" && issuer.discoveryUp) {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ issuer: issuer.url, jwks_uri: `${issuer.url}/jwks` }));
      } else if (req.url === "/jwks") {
        issuer.jwksFetches += 1;
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ keys: issuer.published }));
      } else {
        res.statusCode = 404;
        res.end();
      }
    }),
    keys: [await newKey("key-1")],
    published: [],
    jwksFetches: 0,
    discoveryUp: true,
  };
  issuer.published = [await publicJwk(issuer.keys[0]!)];
  await new Promise<void>((r) => issuer.server.listen(0, "127.0.0.1", r));
  issuer.url = `http://127.0.0.1:${(issuer.server.address() as AddressInfo).port}`;
  return issuer;
}

async function publicJwk(key: { kid: string; publicKey: KeyLike }): Promise<JWK> {
  return { ...(await exportJWK(key.publicKey)), kid: key.kid, alg: "RS256", use: "sig" };
}

const now = () => Math.floor(Date.now() / 1000);

async function sign(
  claims: Record<string, unknown>,
  key: { kid: string; privateKey: KeyLike },
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: key.kid, typ: "JWT" })
    .sign(key.privateKey);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

let issuer: Issuer;
let other: Issuer;
let validator: TokenValidator;

const good = () => ({
  iss: issuer.url,
  aud: AUDIENCE,
  iat: now(),
  nbf: now(),
  exp: now() + 600,
  oid: "user-1",
  sub: "subject-1",
  name: "Ada",
  azp: "client-1",
  scp: "Orders.ReadWrite",
  roles: ["Orders.Approve"],
});

beforeAll(async () => {
  issuer = await startIssuer();
  other = await startIssuer();
});
afterAll(async () => {
  await new Promise((r) => issuer.server.close(r));
  await new Promise((r) => other.server.close(r));
});
beforeEach(() => {
  validator = new TokenValidator({ authority: issuer.url, audience: AUDIENCE });
  issuer.jwksFetches = 0;
});

it("accepts a good token and reads the caller from it", async () => {
  const claims = await validator.validate(await sign(good(), issuer.keys[0]!));
  expect(claims).toEqual({
    id: "user-1",
    name: "Ada",
    clientId: "client-1",
    scopes: ["Orders.ReadWrite"],
    roles: ["Orders.Approve"],
  });
});

it("falls back to sub, preferred_username and appid", async () => {
  const { oid: _o, name: _n, azp: _a, ...rest } = good();
  const token = await sign(
    { ...rest, preferred_username: "ada@x", appid: "v1-client" },
    issuer.keys[0]!,
  );
  expect(await validator.validate(token)).toMatchObject({
    id: "subject-1",
    name: "ada@x",
    clientId: "v1-client",
  });
});

it("tolerates a small clock skew", async () => {
  const token = await sign({ ...good(), exp: now() - 20, nbf: now() + 20 }, issuer.keys[0]!);
  await expect(validator.validate(token)).resolves.toMatchObject({ id: "user-1" });
});

type Case = [name: string, token: () => Promise<string>, reason: RegExp];
const CASES: Case[] = [
  ["expired", () => sign({ ...good(), exp: now() - 3600 }, issuer.keys[0]!), /expired/],
  ["not yet valid", () => sign({ ...good(), nbf: now() + 3600 }, issuer.keys[0]!), /not valid yet/],
  [
    "wrong iss",
    () => sign({ ...good(), iss: "https://evil.example" }, issuer.keys[0]!),
    /not issued/,
  ],
  ["wrong aud", () => sign({ ...good(), aud: "another-api" }, issuer.keys[0]!), /aud/],
  ["no exp", () => sign({ ...good(), exp: undefined }, issuer.keys[0]!), /exp/],
  [
    "alg none",
    async () => `${b64({ alg: "none", typ: "JWT" })}.${b64(good())}.`,
    /algorithm is not allowed|malformed/,
  ],
  [
    "HS256 signed with the issuer's public key as the secret",
    async () => {
      const secret = await exportSPKI(issuer.keys[0]!.publicKey);
      const input = `${b64({ alg: "HS256", typ: "JWT", kid: "key-1" })}.${b64(good())}`;
      return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
    },
    /algorithm is not allowed/,
  ],
  [
    "unknown kid",
    async () => sign(good(), { ...(await newKey("key-unknown")) }),
    /key the issuer does not publish/,
  ],
  [
    "tampered payload",
    async () => {
      const [h, , s] = (await sign(good(), issuer.keys[0]!)).split(".");
      return `${h}.${b64({ ...good(), roles: ["Orders.Operate"] })}.${s}`;
    },
    /signature does not verify/,
  ],
  [
    "a token from another issuer with its own key",
    () => sign({ ...good(), iss: other.url }, other.keys[0]!),
    /not issued|does not publish|signature does not verify/,
  ],
  [
    "missing oid and sub",
    () => sign({ ...good(), oid: undefined, sub: undefined }, issuer.keys[0]!),
    /no subject/,
  ],
  ["not a JWT", async () => "not-a-token", /malformed/],
  ["garbage parts", async () => "a.b.c", /malformed/],
];

it.each(CASES)("refuses: %s", async (_name, token, reason) => {
  const err = await validator.validate(await token()).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(InvalidTokenError);
  expect((err as InvalidTokenError).reason).toMatch(reason);
});

it("caches the key set; an unknown kid refetches it at most once per cooldown", async () => {
  await validator.validate(await sign(good(), issuer.keys[0]!));
  await validator.validate(await sign(good(), issuer.keys[0]!));
  expect(issuer.jwksFetches).toBe(1);
  const stranger = await newKey("key-x");
  for (let i = 0; i < 3; i++) {
    await expect(validator.validate(await sign(good(), stranger))).rejects.toThrow(
      InvalidTokenError,
    );
  }
  expect(issuer.jwksFetches).toBe(1);
});

it("finds a rolled-over key by refetching on its unknown kid (after the cooldown)", async () => {
  const quick = new TokenValidator(
    { authority: issuer.url, audience: AUDIENCE },
    { cooldownMs: 0 },
  );
  await quick.validate(await sign(good(), issuer.keys[0]!));
  const next = await newKey("key-2");
  issuer.published = [...issuer.published, await publicJwk(next)];
  await expect(quick.validate(await sign(good(), next))).resolves.toMatchObject({ id: "user-1" });
  expect(issuer.jwksFetches).toBe(2);
});

describe("verified tokens are remembered", () => {
  // A key set refetched on every lookup whose key is then withdrawn: only a remembered token
  // still passes, which shows when the signature check is skipped and when it is not.
  async function withdrawnKey(clock: { now: number }) {
    const v = new TokenValidator(
      { authority: issuer.url, audience: AUDIENCE },
      { cooldownMs: 0, maxAgeMs: 0, now: () => clock.now },
    );
    const key = await newKey("key-short-lived");
    const before = issuer.published;
    issuer.published = [...before, await publicJwk(key)];
    const token = await sign({ ...good(), exp: now() + 3600 }, key);
    await expect(v.validate(token)).resolves.toMatchObject({ id: "user-1" });
    issuer.published = before;
    return { v, key, token };
  }

  it("the same token again is not re-verified, for at most VERIFIED_TOKEN_TTL_MS", async () => {
    const clock = { now: Date.now() };
    const { v, key, token } = await withdrawnKey(clock);
    await expect(v.validate(token)).resolves.toMatchObject({ id: "user-1" });
    // Another token from the withdrawn key is checked, and refused.
    await expect(v.validate(await sign({ ...good(), jti: "other" }, key))).rejects.toThrow(
      /key the issuer does not publish/,
    );
    clock.now += VERIFIED_TOKEN_TTL_MS + 1;
    await expect(v.validate(token)).rejects.toThrow(/key the issuer does not publish/);
  });

  it("never past the token's exp", async () => {
    const clock = { now: Date.now() };
    const v = new TokenValidator(
      { authority: issuer.url, audience: AUDIENCE },
      { now: () => clock.now },
    );
    const token = await sign({ ...good(), exp: now() + 30 }, issuer.keys[0]!);
    await v.validate(token);
    expect(v.verifiedTokens).toBe(1);
    // Past exp, inside the skew: still accepted, checked each time, not remembered.
    clock.now += 30_000 + 1000;
    await expect(v.validate(token)).resolves.toMatchObject({ id: "user-1" });
    expect(v.verifiedTokens).toBe(0);
    clock.now += CLOCK_SKEW_SECONDS * 1000;
    await expect(v.validate(token)).rejects.toThrow(/has expired/);
    expect(v.verifiedTokens).toBe(0);
  });

  it("a token altered by one character is checked on its own", async () => {
    const token = await sign(good(), issuer.keys[0]!);
    await validator.validate(token);
    // A character inside the signature (the last one may only hold padding bits).
    const at = token.length - 10;
    const altered = token.slice(0, at) + (token[at] === "A" ? "B" : "A") + token.slice(at + 1);
    await expect(validator.validate(altered)).rejects.toThrow(/signature does not verify/);
    const [, payload] = token.split(".");
    const forged = token.replace(payload!, b64({ ...good(), roles: ["Orders.Operate"] }));
    await expect(validator.validate(forged)).rejects.toThrow(/signature does not verify/);
  });

  it(`holds at most ${VERIFIED_TOKENS_MAX} tokens`, async () => {
    for (let i = 0; i < VERIFIED_TOKENS_MAX + 20; i++) {
      await validator.validate(await sign({ ...good(), jti: `t${i}` }, issuer.keys[0]!));
    }
    expect(validator.verifiedTokens).toBe(VERIFIED_TOKENS_MAX);
  });
});

it("an unreachable issuer is 'unavailable', not an invalid token", async () => {
  issuer.discoveryUp = false;
  try {
    const v = new TokenValidator({ authority: issuer.url, audience: AUDIENCE });
    await expect(v.validate(await sign(good(), issuer.keys[0]!))).rejects.toThrow(
      IssuerUnavailableError,
    );
  } finally {
    issuer.discoveryUp = true;
  }
});

describe("settings", () => {
  it.each([
    ["https://login.microsoftonline.com/t/v2.0", true],
    ["http://127.0.0.1:7072", true],
    ["http://localhost:7072", true],
    ["http://[::1]:7072", true],
    ["http://issuer.example.com", false],
    ["ftp://127.0.0.1", false],
    ["not a url", false],
  ])("%s acceptable: %s", (url, ok) => {
    expect(isAcceptableIssuerUrl(url)).toBe(ok);
  });

  it("AUTH_AUTHORITY and AUTH_AUDIENCE are required; no setting turns checking off", () => {
    expect(() => readAuthConfig({ AUTH_AUDIENCE: "a" })).toThrow(ConfigError);
    expect(() => readAuthConfig({ AUTH_AUTHORITY: "https://x/v2.0" })).toThrow(/AUTH_AUDIENCE/);
    expect(() =>
      readAuthConfig({ AUTH_AUTHORITY: "http://issuer.example.com", AUTH_AUDIENCE: "a" }),
    ).toThrow(/AUTH_AUTHORITY/);
    expect(readAuthConfig({ AUTH_AUTHORITY: "http://127.0.0.1:1", AUTH_AUDIENCE: "a" })).toEqual({
      authority: "http://127.0.0.1:1",
      audience: "a",
    });
  });
});
