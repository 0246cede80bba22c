// Sign-in with oidc-client-ts: authorization code + PKCE against the authority in config.json
// (Entra ID in Azure, the development issuer locally). Tokens stay in sessionStorage (gone with
// the tab) and are never shown; the roles are read from the access token only to decide which
// pages to offer; the API checks every call itself.
import { User, UserManager, WebStorageStateStore } from "oidc-client-ts";

export interface ConsoleConfig {
  authority: string;
  clientId: string;
  scope: string;
  redirectUri: string;
  approvalTimeoutSeconds?: number;
}

export interface Session {
  id: string;
  name: string;
  roles: string[];
  scopes: string[];
  accessToken: string;
}

export const ROLE = { approve: "Orders.Approve", operate: "Orders.Operate" } as const;

let manager: UserManager | undefined;

export function initAuth(config: ConsoleConfig): UserManager {
  manager = new UserManager({
    authority: config.authority,
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    post_logout_redirect_uri: config.redirectUri,
    scope: config.scope,
    response_type: "code",
    loadUserInfo: false,
    automaticSilentRenew: false,
    userStore: new WebStorageStateStore({ store: window.sessionStorage }),
  });
  return manager;
}

function claimsOf(token: string): Record<string, unknown> {
  try {
    const part = token.split(".")[1] ?? "";
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch {
    return {};
  }
}

const list = (v: unknown): string[] =>
  Array.isArray(v) ? v.map(String) : typeof v === "string" ? v.split(" ").filter(Boolean) : [];

export function sessionOf(user: User | null): Session | undefined {
  if (!user || user.expired) return undefined;
  const claims = claimsOf(user.access_token);
  const id = String(claims.oid ?? claims.sub ?? user.profile.sub);
  return {
    id,
    name: String(claims.name ?? user.profile.name ?? id),
    roles: list(claims.roles),
    scopes: list(claims.scp),
    accessToken: user.access_token,
  };
}

/** Completes a sign-in redirect (?code=&state=) and returns the hash route to go back to. */
export async function completeSignin(): Promise<string | undefined> {
  const params = new URLSearchParams(window.location.search);
  if (!manager || !(params.has("code") || params.has("error")) || !params.has("state")) {
    return undefined;
  }
  const user = await manager.signinRedirectCallback();
  const state = user.state as { hash?: string } | undefined;
  const hash = typeof state?.hash === "string" && state.hash.startsWith("#/") ? state.hash : "";
  window.history.replaceState(null, "", `${window.location.pathname}${hash}`);
  return hash;
}

export async function currentSession(): Promise<Session | undefined> {
  return sessionOf((await manager?.getUser()) ?? null);
}

export function signIn(): Promise<void> {
  return manager!.signinRedirect({ state: { hash: window.location.hash } });
}

export async function signOut(): Promise<void> {
  await manager?.removeUser();
}
