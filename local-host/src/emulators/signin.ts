// The development issuer's sign-in page: a browser client (the console, through oidc-client-ts)
// sends a person to the authorize endpoint, which shows this form instead of redirecting at
// once; the person picks a user id, a name and roles (Orders.Approve, Orders.Operate, and/or a
// customer), the form comes back to the authorize endpoint with the pick, and the code issued
// then is remembered with it, so the tokens redeemed for that code carry exactly those claims.
// Codes are single use, expire after CODE_TTL_MS and at most MAX_PENDING are kept.

export const SIGNIN_PATH = "/signin";
export const PICK_PARAMS = ["dev_oid", "dev_name", "dev_role"] as const;
export const SIGNIN_ROLES = ["Orders.Approve", "Orders.Operate"] as const;
/** The pick "customer": the delegated scope customers get (src/auth/rights.ts SCOPE). */
export const CUSTOMER_SCOPE = "Orders.ReadWrite";
const CODE_TTL_MS = 10 * 60_000;
const MAX_PENDING = 1000;

export interface Pick {
  oid: string;
  name: string;
  roles: string[];
  customer: boolean;
  /** The API scopes the client asked for (their last path segment, as Entra's `scp`). */
  scopes: string[];
}

type Query = Record<string, unknown>;

const TEXT = /^[^\p{Cc}\p{Cs}]{1,100}$/u;
const OIDC_SCOPES = new Set(["openid", "profile", "email", "offline_access"]);

const values = (v: unknown): string[] =>
  Array.isArray(v)
    ? v.filter((x): x is string => typeof x === "string")
    : typeof v === "string"
      ? [v]
      : [];

/** Redirects go back to loopback only: this issuer is for a developer's own machine. */
export function isLoopbackRedirect(uri: unknown): boolean {
  if (typeof uri !== "string") return false;
  try {
    const url = new URL(uri);
    return (
      (url.protocol === "http:" || url.protocol === "https:") &&
      ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)
    );
  } catch {
    return false;
  }
}

/** The person's pick from an authorize request, or why it is not one (undefined: no pick yet). */
export function pickOf(query: Query): { pick?: Pick; error?: string } {
  if (query.dev_oid === undefined) return {};
  const oid = values(query.dev_oid)[0]?.trim() ?? "";
  const name = values(query.dev_name)[0]?.trim() || oid;
  if (!TEXT.test(oid)) return { error: "The user id must be 1 to 100 characters, no controls." };
  if (!TEXT.test(name)) return { error: "The name must be 1 to 100 characters, no controls." };
  const picked = values(query.dev_role);
  const roles = SIGNIN_ROLES.filter((r) => picked.includes(r));
  const customer = picked.includes("customer");
  if (roles.length === 0 && !customer) return { error: "Pick at least one role or customer." };
  const scopes = values(query.scope)
    .flatMap((s) => s.split(" "))
    .filter((s) => s && !OIDC_SCOPES.has(s))
    .map((s) => s.split("/").pop()!)
    .filter(Boolean);
  return { pick: { oid, name, roles: [...roles], customer, scopes } };
}

/** Codes issued after a pick, until redeemed (once) or expired. */
export class PendingCodes {
  readonly #codes = new Map<string, { pick: Pick; expires: number }>();

  add(code: string, pick: Pick, now = Date.now()): void {
    for (const [c, v] of this.#codes) if (v.expires <= now) this.#codes.delete(c);
    while (this.#codes.size >= MAX_PENDING) this.#codes.delete(this.#codes.keys().next().value!);
    this.#codes.set(code, { pick, expires: now + CODE_TTL_MS });
  }

  peek(code: unknown, now = Date.now()): Pick | undefined {
    const entry = typeof code === "string" ? this.#codes.get(code) : undefined;
    return entry && entry.expires > now ? entry.pick : undefined;
  }

  take(code: unknown): void {
    if (typeof code === "string") this.#codes.delete(code);
  }
}

/** Claims of the access token (`access`) or the ID token for a pick. */
export function claimsFor(pick: Pick, kind: "access" | "id"): Record<string, unknown> {
  const claims: Record<string, unknown> = { oid: pick.oid, sub: pick.oid, name: pick.name };
  if (kind === "id") return claims;
  const scp = [...new Set([...pick.scopes, ...(pick.customer ? [CUSTOMER_SCOPE] : [])])];
  if (scp.length) claims.scp = scp.join(" ");
  if (pick.roles.length) claims.roles = pick.roles;
  return claims;
}

const escape = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!,
  );

/** The sign-in form; it submits the original authorize parameters plus the pick. */
export function signinPage(
  authorizePath: string,
  query: Query | undefined,
  error?: string,
): string {
  if (!query) return page(`<p class="error" role="alert">${escape(error ?? "Refused.")}</p>`);
  const hidden = Object.entries(query)
    .filter(([k]) => !(PICK_PARAMS as readonly string[]).includes(k) && k !== "dev_error")
    .flatMap(([k, v]) => values(v).map((x) => [k, x] as const))
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join("\n      ");
  const role = (value: string, label: string, checked = false) =>
    `<label><input type="checkbox" name="dev_role" value="${escape(value)}"${checked ? " checked" : ""}> ${escape(label)}</label>`;
  return page(`${error ? `<p class="error" role="alert">${escape(error)}</p>` : ""}
    <form method="get" action="${escape(authorizePath)}">
      ${hidden}
      <label for="dev_oid">User id</label>
      <input type="text" id="dev_oid" name="dev_oid" required maxlength="100" value="u-alice" autocomplete="username">
      <label for="dev_name">Name</label>
      <input type="text" id="dev_name" name="dev_name" maxlength="100" value="Alice Approver" autocomplete="name">
      <fieldset>
        <legend>Roles</legend>
        ${role("Orders.Approve", "Approver (Orders.Approve)", true)}
        ${role("Orders.Operate", "Operator (Orders.Operate)")}
        ${role("customer", "Customer (scope Orders.ReadWrite)")}
      </fieldset>
      <button type="submit">Sign in</button>
    </form>`);
}

function page(content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sign in: development issuer</title>
  <style>
    body { font: 16px/1.5 system-ui, sans-serif; max-width: 32rem; margin: 3rem auto; padding: 0 1rem; color: #1b1f24; }
    fieldset { border: 1px solid #c8ccd1; border-radius: 6px; margin: 1rem 0; }
    label { display: block; margin: .4rem 0; }
    input[type=text] { font: inherit; width: 100%; padding: .35rem; box-sizing: border-box; }
    button { font: inherit; padding: .45rem 1.2rem; background: #0b5cad; color: #fff; border: 0; border-radius: 6px; }
    button:focus-visible, input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
    .error { color: #a40e26; font-weight: 600; }
    .note { color: #57606a; font-size: .9rem; }
  </style>
</head>
<body>
  <main>
    <h1>Sign in</h1>
    <p class="note">Development issuer: pick who you are. The token carries exactly this user and these roles; a customer's user id is their customer id.</p>
    ${content}
  </main>
</body>
</html>
`;
}
