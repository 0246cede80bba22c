// The console's shell: loads config.json, completes or starts the sign-in, and routes hash URLs
// (#/orders, #/orders/{id}, #/approvals, #/failures, #/audit) to pages the signed-in person's
// roles allow. Approvers get the inbox and the orders they may see; operators everything; anyone
// else (a customer) none of the operator pages. The API refuses them anyway.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { useSession } from "./api";
import {
  completeSignin,
  currentSession,
  initAuth,
  ROLE,
  signIn,
  signOut,
  type ConsoleConfig,
  type Session,
} from "./auth";
import { ApprovalsPage } from "./pages/Approvals";
import { AuditPage } from "./pages/Audit";
import { FailuresPage } from "./pages/Failures";
import { OrderPage } from "./pages/Order";
import { OrdersPage } from "./pages/Orders";

type Route =
  | { page: "orders" }
  | { page: "order"; orderId: string }
  | { page: "approvals" }
  | { page: "failures" }
  | { page: "audit" }
  | { page: "unknown" };

function parse(hash: string): Route {
  const path = hash.replace(/^#\/?/, "").split("?")[0] ?? "";
  const [first, second] = path.split("/");
  if (first === "orders" && second) return { page: "order", orderId: decodeURIComponent(second) };
  if (first === "orders") return { page: "orders" };
  if (first === "approvals") return { page: "approvals" };
  if (first === "failures") return { page: "failures" };
  if (first === "audit") return { page: "audit" };
  if (first === "") return { page: "orders" };
  return { page: "unknown" };
}

const NAV = [
  { page: "orders", href: "#/orders", label: "Orders", roles: [ROLE.operate] },
  { page: "approvals", href: "#/approvals", label: "Approvals", roles: [ROLE.approve] },
  { page: "failures", href: "#/failures", label: "Failures", roles: [ROLE.operate] },
  { page: "audit", href: "#/audit", label: "Audit log", roles: [ROLE.operate] },
] as const;

/** May this person open the page? (The order page: approvers see orders awaiting them.) */
function allowed(route: Route, s: Session): boolean {
  const has = (r: string) => s.roles.includes(r);
  switch (route.page) {
    case "order":
      return has(ROLE.operate) || has(ROLE.approve);
    case "approvals":
      return has(ROLE.approve);
    case "unknown":
      return true;
    default:
      return has(ROLE.operate);
  }
}

function useHash(): string {
  const [hash, setHash] = useState(window.location.hash);
  useEffect(() => {
    const on = () => setHash(window.location.hash);
    window.addEventListener("hashchange", on);
    return () => window.removeEventListener("hashchange", on);
  }, []);
  return hash;
}

function App({ config, initial }: { config: ConsoleConfig; initial?: Session }) {
  const [session, setSession] = useState(initial);
  const [expired, setExpired] = useState(false);
  const hash = useHash();
  useSession(session, () => setExpired(true));
  let route = parse(hash);
  if (session && route.page === "orders" && !hash && !session.roles.includes(ROLE.operate)) {
    if (session.roles.includes(ROLE.approve)) route = { page: "approvals" };
  }

  useEffect(() => {
    const titles: Record<Route["page"], string> = {
      orders: "Orders",
      order: "Order",
      approvals: "Approvals",
      failures: "Failures",
      audit: "Audit log",
      unknown: "Not found",
    };
    document.title = `${titles[route.page]} · Orders console`;
    document.getElementById("main")?.focus();
  }, [route.page, hash]);

  if (!session) {
    return (
      <main id="main" tabIndex={-1} class="signin">
        <h1>Orders console</h1>
        <p>Operators and approvers sign in with their organisation account.</p>
        <button type="button" onClick={() => void signIn()}>
          Sign in
        </button>
      </main>
    );
  }

  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header>
        <span class="brand">Orders console</span>
        <nav aria-label="Pages">
          <ul>
            {NAV.filter((n) => n.roles.some((r) => session.roles.includes(r))).map((n) => (
              <li key={n.page}>
                <a
                  href={n.href}
                  aria-current={
                    route.page === n.page || (n.page === "orders" && route.page === "order")
                      ? "page"
                      : undefined
                  }
                >
                  {n.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          Signed in as <strong>{session.name}</strong>
          {session.roles.length > 0 ? ` (${session.roles.join(", ")})` : ""}
        </span>
        <button
          type="button"
          onClick={() => {
            void signOut().then(() => setSession(undefined));
          }}
        >
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {expired && (
          <div class="error" role="alert">
            <p>
              Your sign-in has expired or was refused.{" "}
              <button type="button" onClick={() => void signIn()}>
                Sign in again
              </button>
            </p>
          </div>
        )}
        {!allowed(route, session) ? (
          <NotAllowed session={session} />
        ) : route.page === "orders" ? (
          <OrdersPage />
        ) : route.page === "order" ? (
          <OrderPage key={route.orderId} orderId={route.orderId} session={session} />
        ) : route.page === "approvals" ? (
          <ApprovalsPage approvalTimeoutSeconds={config.approvalTimeoutSeconds} />
        ) : route.page === "failures" ? (
          <FailuresPage />
        ) : route.page === "audit" ? (
          <AuditPage />
        ) : (
          <>
            <h1>Not found</h1>
            <p>
              There is no such page. <a href="#/orders">Go to the orders</a>.
            </p>
          </>
        )}
      </main>
    </>
  );
}

function NotAllowed({ session }: { session: Session }) {
  return (
    <>
      <h1>Not allowed</h1>
      <p role="alert">
        This page is for {session.roles.length === 0 ? "operators and approvers" : "other roles"}.
        You are signed in as {session.name}
        {session.roles.length === 0 ? ", without the Orders.Approve or Orders.Operate role" : ""}.
      </p>
    </>
  );
}

async function start() {
  const root = document.getElementById("app")!;
  root.textContent = "";
  try {
    const res = await fetch("config.json", { headers: { accept: "application/json" } });
    if (!res.ok) {
      const p = (await res.json().catch(() => ({}))) as { title?: string; detail?: string };
      throw new Error(p.detail ?? p.title ?? `config.json answered ${res.status}`);
    }
    const config = (await res.json()) as ConsoleConfig;
    initAuth(config);
    await completeSignin();
    render(<App config={config} initial={await currentSession()} />, root);
  } catch (e) {
    render(
      <main id="main" class="signin">
        <h1>Orders console</h1>
        <div class="error" role="alert">
          <p>The console could not start: {e instanceof Error ? e.message : String(e)}</p>
          <p>
            <a href="./">Try again</a>
          </p>
        </div>
      </main>,
      root,
    );
  }
}

void start();
