// Access-token validation (OAuth 2.0 bearer tokens, Microsoft Entra ID v2 or the local
// development issuer): the signature against the issuer's JWKS found through OpenID Connect
// discovery at `<authority>/.well-known/openid-configuration`, `iss` (the discovery document's
// issuer), `aud` (the API's client id), `exp`/`nbf` with a small clock skew, and an algorithm
// allow-list of RS256 only: `none` and HMAC algorithms (an attacker "signing" with the issuer's
// public key as an HMAC secret) are refused before any key is looked at. Discovery and the key
// set are cached; an unknown `kid` refetches the key set at most once per cooldown. A token that
// verified is remembered (by its exact text, bounded, until it expires and at most
// VERIFIED_TOKEN_TTL_MS): a client polling its order's status sends the same token each time.
import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from "jose";

export const ALLOWED_ALGORITHMS = ["RS256"];
/** Seconds of clock skew tolerated on exp/nbf. */
export const CLOCK_SKEW_SECONDS = 60;
/** Minimum time between two key-set fetches (an unknown kid does not hammer the issuer). */
export const JWKS_COOLDOWN_MS = 30_000;
/** Key sets are refetched after this even when every kid is known (keys roll over). */
export const JWKS_MAX_AGE_MS = 10 * 60_000;
/** A failed discovery is retried at most this often. */
export const DISCOVERY_RETRY_MS = 5_000;
const FETCH_TIMEOUT_MS = 5_000;
/**
 * A verified token is trusted again without a signature check for at most this long (never past
 * its exp). Shorter than JWKS_MAX_AGE_MS, so a withdrawn key stops counting no later than it
 * would through the cached key set.
 */
export const VERIFIED_TOKEN_TTL_MS = 5 * 60_000;
/** Verified tokens remembered at once (the oldest is forgotten first). */
export const VERIFIED_TOKENS_MAX = 1024;

export interface AuthConfig {
  /** e.g. https://login.microsoftonline.com/<tenant>/v2.0 */
  authority: string;
  /** The API's client id (the token's `aud`). */
  audience: string;
}

/** What the API knows about a caller after the token checked out. */
export interface TokenClaims {
  /** `oid`, else `sub`. */
  id: string;
  /** `name`, else `preferred_username`. */
  name?: string;
  /** The client application: `azp` (v2), else `appid` (v1). */
  clientId?: string;
  /** Delegated scopes (`scp`, space separated). */
  scopes: string[];
  /** App roles (`roles`). */
  roles: string[];
}

/** The token is missing a piece, malformed, expired, not ours or not signed by our issuer. */
export class InvalidTokenError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = "InvalidTokenError";
  }
}

/** The issuer's discovery document or key set could not be fetched: try again later. */
export class IssuerUnavailableError extends Error {
  readonly retryAfterSeconds = 5;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IssuerUnavailableError";
  }
}

/** An `http:` URL is accepted only on loopback (the development issuer). */
export function isAcceptableIssuerUrl(value: string): boolean {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  if (url.protocol === "https:") return true;
  return (
    url.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]", "::1"].includes(url.hostname)
  );
}

interface Discovery {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** Token errors from jose that mean "this token is not acceptable" (→ 401). */
const INVALID_TOKEN_CODES = new Set([
  "ERR_JWT_EXPIRED",
  "ERR_JWT_CLAIM_VALIDATION_FAILED",
  "ERR_JWT_INVALID",
  "ERR_JWS_INVALID",
  "ERR_JWS_SIGNATURE_VERIFICATION_FAILED",
  "ERR_JOSE_ALG_NOT_ALLOWED",
  "ERR_JOSE_NOT_SUPPORTED",
  "ERR_JWKS_NO_MATCHING_KEY",
  "ERR_JWKS_MULTIPLE_MATCHING_KEYS",
]);

function describe(err: errors.JOSEError): string {
  switch (err.code) {
    case "ERR_JWT_EXPIRED":
      return "the token has expired";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED": {
      const claim = (err as errors.JWTClaimValidationFailed).claim;
      if (claim === "nbf") return "the token is not valid yet";
      if (claim === "iss") return "the token was not issued by this API's authority";
      if (claim === "aud") return "the token is not meant for this API (aud)";
      return `the token's ${claim} claim is not acceptable`;
    }
    case "ERR_JOSE_ALG_NOT_ALLOWED":
    case "ERR_JOSE_NOT_SUPPORTED":
      return `the token's signing algorithm is not allowed (${ALLOWED_ALGORITHMS.join(", ")} only)`;
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "the token is signed with a key the issuer does not publish";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "the token's signature does not verify";
    default:
      return "the token is malformed";
  }
}

const list = (value: unknown): string[] =>
  typeof value === "string"
    ? value.split(" ").filter(Boolean)
    : Array.isArray(value)
      ? value.filter((v): v is string => typeof v === "string")
      : [];

const text = (value: unknown): string | undefined =>
  typeof value === "string" && value.length > 0 ? value : undefined;

export function claimsOf(payload: JWTPayload): TokenClaims {
  const id = text(payload.oid) ?? text(payload.sub);
  if (!id) throw new InvalidTokenError("the token names no subject (oid or sub)");
  const claims: TokenClaims = {
    id,
    scopes: list(payload.scp),
    roles: list(payload.roles),
  };
  const name = text(payload.name) ?? text(payload.preferred_username);
  if (name) claims.name = name;
  const clientId = text(payload.azp) ?? text(payload.appid);
  if (clientId) claims.clientId = clientId;
  return claims;
}

interface Verified {
  claims: TokenClaims;
  /** Epoch ms after which the token is checked again. */
  until: number;
}

export class TokenValidator {
  #discovery: Promise<Discovery> | undefined;
  #failedAt = 0;
  #failure: unknown;
  readonly #verified = new Map<string, Verified>();
  readonly #now: () => number;

  constructor(
    readonly config: AuthConfig,
    private readonly options: { cooldownMs?: number; maxAgeMs?: number; now?: () => number } = {},
  ) {
    this.#now = options.now ?? Date.now;
  }

  /** Tokens currently trusted without a signature check. */
  get verifiedTokens(): number {
    return this.#verified.size;
  }

  async validate(token: string): Promise<TokenClaims> {
    const now = this.#now();
    const known = this.#verified.get(token);
    if (known && now < known.until) return known.claims;
    if (known) this.#verified.delete(token);
    const { claims, exp } = await this.#verify(token, now);
    // Past exp but inside the clock skew it verified, but there is nothing left to remember.
    const until = Math.min(exp * 1000, now + VERIFIED_TOKEN_TTL_MS);
    if (until <= now) return claims;
    if (this.#verified.size >= VERIFIED_TOKENS_MAX) {
      this.#verified.delete(this.#verified.keys().next().value as string);
    }
    this.#verified.set(token, { claims, until });
    return claims;
  }

  async #verify(token: string, now: number): Promise<{ claims: TokenClaims; exp: number }> {
    // Three base64url parts; anything else is malformed before any network call.
    if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
      throw new InvalidTokenError("the token is malformed");
    }
    const { issuer, jwks } = await this.#discover();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        algorithms: ALLOWED_ALGORITHMS,
        issuer,
        audience: this.config.audience,
        clockTolerance: CLOCK_SKEW_SECONDS,
        requiredClaims: ["exp"],
        currentDate: new Date(now),
      }));
    } catch (err) {
      if (err instanceof errors.JOSEError && INVALID_TOKEN_CODES.has(err.code)) {
        throw new InvalidTokenError(describe(err));
      }
      throw new IssuerUnavailableError("The issuer's signing keys could not be fetched", {
        cause: err,
      });
    }
    return { claims: claimsOf(payload), exp: Number(payload.exp) };
  }

  #discover(): Promise<Discovery> {
    if (this.#discovery) return this.#discovery;
    if (Date.now() - this.#failedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(
        new IssuerUnavailableError("The issuer's discovery document is unavailable", {
          cause: this.#failure,
        }),
      );
    }
    const discovery = this.#fetchDiscovery();
    this.#discovery = discovery;
    discovery.catch((err: unknown) => {
      this.#discovery = undefined;
      this.#failedAt = Date.now();
      this.#failure = err;
    });
    return discovery;
  }

  async #fetchDiscovery(): Promise<Discovery> {
    const url = `${this.config.authority.replace(/\/+$/, "")}/.well-known/openid-configuration`;
    let document: { issuer?: unknown; jwks_uri?: unknown };
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
      if (!res.ok) throw new Error(`GET ${url} answered ${res.status}`);
      document = (await res.json()) as typeof document;
    } catch (err) {
      throw new IssuerUnavailableError(`OpenID Connect discovery failed (${url})`, { cause: err });
    }
    const issuer = text(document.issuer);
    const jwksUri = text(document.jwks_uri);
    if (!issuer || !jwksUri || !isAcceptableIssuerUrl(jwksUri)) {
      throw new IssuerUnavailableError(
        `The discovery document at ${url} has no usable issuer and jwks_uri`,
      );
    }
    return {
      issuer,
      jwks: createRemoteJWKSet(new URL(jwksUri), {
        cooldownDuration: this.options.cooldownMs ?? JWKS_COOLDOWN_MS,
        cacheMaxAge: this.options.maxAgeMs ?? JWKS_MAX_AGE_MS,
        timeoutDuration: FETCH_TIMEOUT_MS,
      }),
    };
  }
}
