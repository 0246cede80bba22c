// The development OpenID Connect issuer (oauth2-mock-server) on loopback: discovery at
// `<iss>/.well-known/openid-configuration`, its JWKS, and a token endpoint that mints access
// tokens shaped like Microsoft Entra ID v2 ones. Its RS256 signing key and its port (so its
// issuer URL) are kept in `<dir>/issuer.json` and reused on restart, so tokens minted before a
// restart stay valid and the app's AUTH_AUTHORITY does not change. Development only: anyone who
// can reach the port can mint any token, which is why it binds loopback.
//
// Token requests (POST /token, application/x-www-form-urlencoded, grant_type=client_credentials)
// take these development parameters, all optional: oid (also sub), name, azp, scp and roles
// (space or comma separated), aud (default: the audience given at start) and expires_in
// (seconds; negative mints an already expired token).
//
// Browser sign-in (authorization code + PKCE, for the console): the authorize endpoint first
// shows a sign-in page (./signin.ts) where a person picks a user and roles; the code it then
// issues redeems (once) for an access token with exactly that user and those roles, audience the
// API's, and an ID token for the client. A code issued for the page view itself is never
// redeemed. Redirects go to loopback URIs only.
import fs from "node:fs";
import path from "node:path";
import { OAuth2Server } from "oauth2-mock-server";
import type { EmulatorLog } from "./log";
import {
  claimsFor,
  isLoopbackRedirect,
  PendingCodes,
  pickOf,
  SIGNIN_PATH,
  signinPage,
} from "./signin";

export const STANDARD_ISSUER_PORT = 7072;
/** The client id delegated tokens name as `azp` unless told otherwise. */
export const DEV_CLIENT_ID = "orders-dev-client";

export interface RunningIssuer {
  /** The issuer URL (`iss`), also the authority (discovery lives under it). */
  url: string;
  port: number;
  close(): Promise<void>;
}

interface IssuerState {
  port: number;
  key: Record<string, unknown>;
}

function readState(file: string): IssuerState | undefined {
  try {
    const state = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<IssuerState>;
    if (typeof state.port === "number" && state.key && typeof state.key === "object") {
      return state as IssuerState;
    }
  } catch {
    // Missing or unreadable: a new key and port.
  }
  return undefined;
}

function writeState(file: string, state: IssuerState): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  // The private key: readable by the owner only.
  fs.writeFileSync(tmp, JSON.stringify(state, null, 2) + "\n", { mode: 0o600 });
  fs.renameSync(tmp, file);
}

const list = (value: unknown): string[] =>
  typeof value === "string" ? value.split(/[ ,]+/).filter(Boolean) : [];

export async function startIssuer(options: {
  host?: string;
  /** "standard": the saved port, else 7072; "free": the saved port, else any. */
  ports: "standard" | "free";
  /** Where issuer.json lives; in-memory (new key each start) when absent. */
  dir?: string;
  /** Default `aud` of minted tokens (the app's AUTH_AUDIENCE). */
  audience: string;
  log?: EmulatorLog;
}): Promise<RunningIssuer> {
  const host = options.host ?? "127.0.0.1";
  const file = options.dir === undefined ? undefined : path.join(options.dir, "issuer.json");
  const saved = file ? readState(file) : undefined;
  const server = new OAuth2Server();
  if (saved) await server.issuer.keys.add(saved.key);
  else await server.issuer.keys.generate("RS256");
  const wanted = saved?.port ?? (options.ports === "standard" ? STANDARD_ISSUER_PORT : 0);
  try {
    await server.start(wanted, host);
  } catch (err) {
    if (wanted === 0 || (err as NodeJS.ErrnoException).code !== "EADDRINUSE") throw err;
    options.log?.(
      "warn",
      `Development issuer: port ${wanted} is taken; using a free port, so tokens minted before this start (another iss) are refused`,
    );
    await server.start(0, host);
  }
  const port = server.address().port;
  const url = `http://${host}:${port}`;
  server.issuer.url = url;
  if (file && (!saved || saved.port !== port)) {
    // toJSON(true): the key with its private members.
    const [jwk] = server.issuer.keys.toJSON(true) as unknown as Record<string, unknown>[];
    writeState(file, { port, key: jwk! });
  }

  const pending = new PendingCodes();
  installSignin(server, url, pending);

  type Token = { payload: Record<string, unknown> };
  server.service.on(
    "beforeTokenSigning",
    (token: Token, req: { body?: Record<string, unknown> }) => {
      const body = req.body ?? {};
      const payload = token.payload;
      if (body.grant_type === "authorization_code") {
        signCodeToken(payload, body, pending.peek(body.code), options.audience);
        return;
      }
      const now = Math.floor(Date.now() / 1000);
      const expiresIn = Number(body.expires_in ?? 3600);
      const lifetime = Number.isFinite(expiresIn) ? Math.trunc(expiresIn) : 3600;
      delete payload.scope;
      payload.ver = "2.0";
      payload.aud = typeof body.aud === "string" && body.aud ? body.aud : options.audience;
      payload.iat = lifetime > 0 ? now : now + lifetime - 60;
      payload.nbf = payload.iat;
      payload.exp = now + lifetime;
      if (typeof body.oid === "string" && body.oid) {
        payload.oid = body.oid;
        payload.sub = body.oid;
      }
      if (typeof body.name === "string" && body.name) payload.name = body.name;
      payload.azp = typeof body.azp === "string" && body.azp ? body.azp : DEV_CLIENT_ID;
      const scp = list(body.scp);
      if (scp.length) payload.scp = scp.join(" ");
      const roles = list(body.roles);
      if (roles.length) payload.roles = roles;
      if (!scp.length) payload.idtyp = "app";
    },
  );
  server.service.on(
    "beforeResponse",
    (response: { statusCode: number; body: unknown }, req: { body?: Record<string, unknown> }) => {
      const body = req.body ?? {};
      if (body.grant_type === "refresh_token") refuse(response, "sign in again");
      if (body.grant_type !== "authorization_code") return;
      // Only a code issued after a pick on the sign-in page, and only once.
      if (!pending.peek(body.code)) refuse(response, "unknown, used or expired code");
      pending.take(body.code);
    },
  );
  options.log?.("info", `Development OpenID Connect issuer on ${url}`);
  return { url, port, close: () => server.stop() };
}

function refuse(response: { statusCode: number; body: unknown }, description: string): void {
  response.statusCode = 400;
  response.body = { error: "invalid_grant", error_description: description };
}

/** The claims of a token redeemed for a code (the mock signs whatever is left in `payload`). */
function signCodeToken(
  payload: Record<string, unknown>,
  body: Record<string, unknown>,
  pick: ReturnType<PendingCodes["peek"]>,
  audience: string,
): void {
  // The mock's access token carries `scope`; its ID token does not (and names the client as aud).
  const kind = "scope" in payload ? "access" : "id";
  for (const k of ["scope", "amr", "sub"]) delete payload[k];
  if (!pick) return; // refused in beforeResponse
  Object.assign(payload, claimsFor(pick, kind), { ver: "2.0" });
  if (kind === "access") {
    payload.aud = audience;
    if (typeof body.client_id === "string") payload.azp = body.client_id;
  }
}

type Query = Record<string, unknown>;
interface ExpressLike {
  get(
    path: string,
    handler: (
      req: { query: Query },
      res: { status(n: number): { type(t: string): { send(s: string): void } } },
    ) => void,
  ): void;
}

/** The sign-in page and the authorize hook that sends a person to it first. */
function installSignin(server: OAuth2Server, issuerUrl: string, pending: PendingCodes): void {
  const express = server.service.requestHandler as unknown as ExpressLike;
  express.get(SIGNIN_PATH, (req, res) => {
    const ok = isLoopbackRedirect(req.query.redirect_uri);
    const error = ok
      ? typeof req.query.dev_error === "string"
        ? req.query.dev_error
        : undefined
      : "redirect_uri must be a loopback http(s) URL for the development issuer.";
    res
      .status(ok ? 200 : 400)
      .type("html")
      .send(signinPage("/authorize", ok ? req.query : undefined, error));
  });
  server.service.on(
    "beforeAuthorizeRedirect",
    (redirect: { url: URL }, req: { url?: string; query: Query }) => {
      const { pick, error } = pickOf(req.query);
      const code = redirect.url.searchParams.get("code");
      if (pick && code && isLoopbackRedirect(req.query.redirect_uri)) {
        pending.add(code, pick);
        return;
      }
      // No pick yet (or a bad one): the sign-in page, with the request's own parameters.
      const signin = new URL(SIGNIN_PATH, issuerUrl);
      for (const [k, v] of Object.entries(req.query)) {
        if (typeof v === "string" && !k.startsWith("dev_")) signin.searchParams.set(k, v);
      }
      if (error) signin.searchParams.set("dev_error", error);
      // The mock redirects to this very URL object: change it in place.
      redirect.url.href = signin.href;
    },
  );
}
