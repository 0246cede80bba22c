// Mints access tokens from the development issuer the local host (or `npm run emulators`)
// started, through its token endpoint, as a client would ask Entra ID for one. Used by
// `npm run token` and by the end-to-end tests.
import fs from "node:fs";
import path from "node:path";

export interface TokenRequest {
  /** oid (and sub) of the token; a customer's id, a person's id. */
  oid?: string;
  name?: string;
  /** The client application (`azp`); an app-only token's own client id. */
  azp?: string;
  scopes?: string[];
  roles?: string[];
  /** Default: the host's AUTH_AUDIENCE. */
  audience?: string;
  /** Seconds; negative mints an already expired token. Default 3600. */
  expiresIn?: number;
}

export interface IssuerInfo {
  url: string;
  audience: string;
}

export const CUSTOMER_SCOPE = "Orders.ReadWrite";

/** The issuer of the host whose state is in `dataDir` (its endpoints.json). */
export function issuerOf(dataDir: string, port?: number): IssuerInfo {
  const file = path.join(dataDir, "endpoints.json");
  let endpoints: { issuer?: Partial<IssuerInfo>; port?: number };
  try {
    endpoints = JSON.parse(fs.readFileSync(file, "utf8")) as typeof endpoints;
  } catch {
    throw new Error(
      `No running host found: ${file} is missing (start it with npm start, or npm run emulators, with the same DATA_DIR).`,
    );
  }
  if (port !== undefined && endpoints.port !== undefined && endpoints.port !== port) {
    throw new Error(
      `The host in ${dataDir} listens on port ${endpoints.port}, not ${port}: give its DATA_DIR.`,
    );
  }
  const url = endpoints.issuer?.url;
  if (!url) throw new Error(`${file} names no development issuer (AUTH_AUTHORITY is external).`);
  return { url, audience: endpoints.issuer?.audience ?? "" };
}

export async function mintToken(issuer: IssuerInfo, request: TokenRequest): Promise<string> {
  const form = new URLSearchParams({ grant_type: "client_credentials" });
  if (request.oid) form.set("oid", request.oid);
  if (request.name) form.set("name", request.name);
  if (request.azp) form.set("azp", request.azp);
  if (request.scopes?.length) form.set("scp", request.scopes.join(" "));
  if (request.roles?.length) form.set("roles", request.roles.join(" "));
  form.set("aud", request.audience ?? issuer.audience);
  if (request.expiresIn !== undefined) form.set("expires_in", String(request.expiresIn));
  const res = await fetch(`${issuer.url.replace(/\/+$/, "")}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form,
  });
  if (!res.ok) throw new Error(`The development issuer answered ${res.status}`);
  const body = (await res.json()) as { access_token?: unknown };
  if (typeof body.access_token !== "string") throw new Error("The issuer returned no token");
  return body.access_token;
}

/** Token shapes by caller kind (the README's table). */
export const tokenFor = {
  customer: (id: string, extra: TokenRequest = {}): TokenRequest => ({
    oid: id,
    scopes: [CUSTOMER_SCOPE],
    ...extra,
  }),
  app: (clientId: string, roles: string[], extra: TokenRequest = {}): TokenRequest => ({
    oid: clientId,
    azp: clientId,
    roles,
    ...extra,
  }),
  user: (id: string, name: string, roles: string[], extra: TokenRequest = {}): TokenRequest => ({
    oid: id,
    name,
    roles,
    ...extra,
  }),
};
