// Approvals inbox: orders awaiting a decision (GET /api/orders?status=AwaitingApproval), with how
// long each has waited and its deadline (APPROVAL_TIMEOUT after it started waiting); approve or
// reject with a reason (POST /api/orders/{id}/approval), then follow the order to its outcome.
import { useEffect, useState } from "preact/hooks";
import { api, type ApiError, type Page } from "../api";
import { TERMINAL, type Order } from "../types";
import {
  asApiError,
  duration,
  ErrorBox,
  Loading,
  money,
  Notice,
  orderLink,
  StatusBadge,
  time,
  useApi,
} from "../ui";

export function ApprovalsPage({ approvalTimeoutSeconds }: { approvalTimeoutSeconds?: number }) {
  const inbox = useApi(
    () => api<Page<Order>>("orders", { query: { status: "AwaitingApproval", limit: "100" } }),
    [],
  );
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 10_000);
    return () => clearInterval(t);
  }, []);
  return (
    <>
      <h1>Approvals</h1>
      <p>
        Orders at or above the approval threshold wait here for a decision.{" "}
        <button type="button" onClick={inbox.reload}>
          Refresh the inbox
        </button>
      </p>
      <Loading state={inbox}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="empty">Nothing is waiting for approval.</p>
          ) : (
            <ul class="cards" aria-label="Orders awaiting approval">
              {page.items.map((o) => {
                const since = Date.parse(o.updatedAt);
                const deadline = approvalTimeoutSeconds
                  ? since + approvalTimeoutSeconds * 1000
                  : undefined;
                return (
                  <li key={o.orderId} class="card" aria-labelledby={`appr-${o.orderId}`}>
                    <h2 id={`appr-${o.orderId}`} class="card-title">
                      <a href={orderLink(o.orderId)} class="mono">
                        {o.orderId}
                      </a>
                    </h2>
                    <dl class="summary">
                      <dt>Customer</dt>
                      <dd>{o.customerId}</dd>
                      <dt>Total</dt>
                      <dd>{money(o.totals.total, o.currency)}</dd>
                      <dt>Waiting</dt>
                      <dd>{duration((now - since) / 1000)}</dd>
                      <dt>Deadline</dt>
                      <dd>
                        {deadline ? (
                          <>
                            {time(new Date(deadline).toISOString())} (in{" "}
                            {duration((deadline - now) / 1000)}; then rejected)
                          </>
                        ) : (
                          "—"
                        )}
                      </dd>
                    </dl>
                    <DecisionForm orderId={o.orderId} />
                  </li>
                );
              })}
            </ul>
          )
        }
      </Loading>
    </>
  );
}

/** Approve or reject with a reason; afterwards polls the order until it is terminal. */
export function DecisionForm({ orderId, onDone }: { orderId: string; onDone?: () => void }) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [decided, setDecided] = useState<string>();
  const [status, setStatus] = useState<string>();
  const inputId = `reason-${orderId}`;

  useEffect(() => {
    if (!decided || (status && TERMINAL.includes(status))) return;
    const t = setTimeout(async () => {
      try {
        const s = await api<{ status: string }>(`orders/${encodeURIComponent(orderId)}/status`);
        setStatus(s.status);
        if (TERMINAL.includes(s.status)) onDone?.();
      } catch (e) {
        setError(asApiError(e));
      }
    }, 1000);
    return () => clearTimeout(t);
  }, [decided, status, orderId, onDone]);

  async function decide(approved: boolean) {
    setBusy(true);
    setError(undefined);
    try {
      await api(`orders/${encodeURIComponent(orderId)}/approval`, {
        method: "POST",
        body: { approved, reason: reason.trim() },
      });
      setDecided(approved ? "Approved" : "Rejected");
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }

  if (decided) {
    return (
      <Notice>
        {decided} order {orderId}. Status: <StatusBadge status={status ?? "…"} />
        {status && !TERMINAL.includes(status) ? " (following it…)" : ""}
      </Notice>
    );
  }
  return (
    <form class="decision" onSubmit={(e) => e.preventDefault()}>
      <label for={inputId}>Reason for order {orderId.slice(0, 8)}</label>
      <input
        id={inputId}
        type="text"
        required
        maxLength={500}
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      <button type="button" disabled={busy || !reason.trim()} onClick={() => void decide(true)}>
        Approve
      </button>
      <button
        type="button"
        class="danger"
        disabled={busy || !reason.trim()}
        onClick={() => void decide(false)}
      >
        Reject
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
