// Access tokens for tests, minted by the development issuer exactly as a client gets them: over
// its token endpoint. `Tokens.forHost(endpoints)` uses the running local host's issuer (e2e,
// crash, benchmarks); `startTestIssuer()` starts one in this process for the in-process API tests
// and points AUTH_AUTHORITY / AUDIENCE at it. Nothing here weakens the app's checks.
import { resetAuth } from "../../src/http/auth";
import { startIssuer, type RunningIssuer } from "../../local-host/src/emulators/issuer";
import {
  mintToken,
  tokenFor,
  type IssuerInfo,
  type TokenRequest,
} from "../../local-host/src/token";

export const ROLES = {
  submit: "Orders.Submit",
  approve: "Orders.Approve",
  operate: "Orders.Operate",
} as const;

export const bearer = (token: string): Record<string, string> => ({
  authorization: `Bearer ${token}`,
});

export class Tokens {
  readonly #cache = new Map<string, Promise<string>>();

  constructor(readonly issuer: IssuerInfo) {}

  /** The issuer of a running local host (its endpoints.json). */
  static forHost(endpoints: Record<string, unknown>): Tokens {
    const issuer = endpoints.issuer as IssuerInfo | undefined;
    if (!issuer?.url) throw new Error("The host's endpoints.json names no development issuer");
    return new Tokens(issuer);
  }

  /** A token for `request` (cached while it is valid, unless it sets its own lifetime). */
  mint(request: TokenRequest): Promise<string> {
    if (request.expiresIn !== undefined) return mintToken(this.issuer, request);
    const key = JSON.stringify(request);
    let token = this.#cache.get(key);
    if (!token) {
      token = mintToken(this.issuer, request);
      token.catch(() => this.#cache.delete(key));
      this.#cache.set(key, token);
    }
    return token;
  }

  /** A customer (delegated, Orders.ReadWrite, oid = id). */
  customer(id: string, extra: TokenRequest = {}): Promise<string> {
    return this.mint(tokenFor.customer(id, extra));
  }

  /** An application (app-only) with Orders.Submit unless told otherwise. */
  app(clientId = "storefront-e2e", roles: string[] = [ROLES.submit], extra: TokenRequest = {}) {
    return this.mint(tokenFor.app(clientId, roles, extra));
  }

  /** A person with app roles. */
  user(id: string, name: string, roles: string[], extra: TokenRequest = {}): Promise<string> {
    return this.mint(tokenFor.user(id, name, roles, extra));
  }

  approver(id = "approver-e2e", name = "Ada Approver"): Promise<string> {
    return this.user(id, name, [ROLES.approve]);
  }

  operator(id = "operator-e2e", name = "Olu Operator"): Promise<string> {
    return this.user(id, name, [ROLES.operate]);
  }

  /** Headers with a bearer token. */
  async headers(token: Promise<string> | string): Promise<Record<string, string>> {
    return bearer(await token);
  }
}

export interface TestIssuer {
  issuer: RunningIssuer;
  tokens: Tokens;
  stop(): Promise<void>;
}

export const TEST_AUDIENCE = "orders-api-test";

/** A development issuer in this process; the app (loaded in-process) trusts it. */
export async function startTestIssuer(): Promise<TestIssuer> {
  const issuer = await startIssuer({ ports: "free", audience: TEST_AUDIENCE });
  const previous = { authority: process.env.AUTH_AUTHORITY, audience: process.env.AUTH_AUDIENCE };
  process.env.AUTH_AUTHORITY = issuer.url;
  process.env.AUTH_AUDIENCE = TEST_AUDIENCE;
  resetAuth();
  return {
    issuer,
    tokens: new Tokens({ url: issuer.url, audience: TEST_AUDIENCE }),
    stop: async () => {
      await issuer.close();
      for (const [name, value] of [
        ["AUTH_AUTHORITY", previous.authority],
        ["AUTH_AUDIENCE", previous.audience],
      ] as const) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      resetAuth();
    },
  };
}
