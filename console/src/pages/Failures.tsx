// Failures: rejected inbound messages (resubmit with corrections, or discard), dead-lettered
// messages of `notifications` and `orders-inbound` (resubmit or discard), and stuck orders with
// the actions the action table allows now. Every action takes a reason, which the API audits.
import { useState } from "preact/hooks";
import { api, type ApiError, type Page } from "../api";
import { pretty, redact } from "../redact";
import type { DeadLetter, RejectedMessage, StuckOrder } from "../types";
import {
  asApiError,
  duration,
  ErrorBox,
  Loading,
  Notice,
  orderLink,
  StatusBadge,
  time,
  useApi,
} from "../ui";

export function FailuresPage() {
  return (
    <>
      <h1>Failures</h1>
      <RejectedMessages />
      <DeadLetters queue="orders-inbound" />
      <DeadLetters queue="notifications" />
      <StuckOrders />
    </>
  );
}

/** A reason field and the buttons that need it; `run` gets the reason. */
function ActionForm(props: {
  id: string;
  label: string;
  actions: { label: string; danger?: boolean; run: (reason: string) => Promise<string> }[];
  onDone: () => void;
}) {
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError>();
  const [done, setDone] = useState<string>();
  async function go(run: (reason: string) => Promise<string>) {
    setBusy(true);
    setError(undefined);
    try {
      setDone(await run(reason.trim()));
    } catch (e) {
      setError(asApiError(e));
    } finally {
      setBusy(false);
    }
  }
  if (done)
    return (
      <Notice>
        {done}{" "}
        <button type="button" onClick={props.onDone}>
          Refresh the list
        </button>
      </Notice>
    );
  return (
    <div class="decision">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="text"
        required
        maxLength={500}
        value={reason}
        onInput={(e) => setReason(e.currentTarget.value)}
      />
      {props.actions.map((a) => (
        <button
          key={a.label}
          type="button"
          class={a.danger ? "danger" : ""}
          disabled={busy || !reason.trim()}
          onClick={() => void go(a.run)}
        >
          {a.label}
        </button>
      ))}
      <ErrorBox error={error} />
    </div>
  );
}

/** The message's order without its payment (the stored card token is used on resubmit). */
function editable(body: unknown): string {
  const copy = { ...((redact(body) as Record<string, unknown>) ?? {}) };
  delete copy.payment;
  return JSON.stringify(copy, null, 2);
}

function RejectedMessages() {
  const state = useApi(
    () =>
      api<Page<RejectedMessage>>("operator/rejected-messages", { query: { state: "rejected" } }),
    [],
  );
  return (
    <section aria-labelledby="rejected-h">
      <h2 id="rejected-h">Rejected inbound messages</h2>
      <Loading state={state}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="empty">No rejected messages.</p>
          ) : (
            <ul class="cards">
              {page.items.map((m) => (
                <Rejected key={m.id} message={m} onDone={state.reload} />
              ))}
            </ul>
          )
        }
      </Loading>
    </section>
  );
}

function Rejected({ message: m, onDone }: { message: RejectedMessage; onDone: () => void }) {
  const [text, setText] = useState(() => editable(m.body));
  const [result, setResult] = useState<{ orderId: string }>();
  const fieldId = `fix-${m.id}`;
  async function resubmit(reason: string): Promise<string> {
    let order: unknown;
    try {
      order = JSON.parse(text);
    } catch {
      throw new Error("The corrected order is not valid JSON.");
    }
    const r = await api<{ orderId: string }>(
      `operator/rejected-messages/${encodeURIComponent(m.id)}/resubmit`,
      { method: "POST", body: { reason, order } },
    );
    setResult(r);
    return `Resubmitted: order ${r.orderId}.`;
  }
  async function discard(reason: string): Promise<string> {
    await api(`operator/rejected-messages/${encodeURIComponent(m.id)}/discard`, {
      method: "POST",
      body: { reason },
    });
    return `Discarded message ${m.messageId}.`;
  }
  return (
    <li class="card" aria-labelledby={`rej-${m.id}`}>
      <h3 id={`rej-${m.id}`} class="card-title">
        Message <span class="mono">{m.messageId}</span>
      </h3>
      <p>
        Rejected {time(m.rejectedAt)}.{" "}
        {m.card
          ? `Card kept as a token: ${m.card.brand} ending ${m.card.last4}.`
          : "No card token: it can only be discarded."}
      </p>
      <ul class="reasons" aria-label="Why it was rejected">
        {m.reasons.map((r, i) => (
          <li key={i}>
            <code>{r.field}</code>: {r.detail}
          </li>
        ))}
      </ul>
      {m.card && (
        <>
          <label for={fieldId}>Corrected order (JSON, without the card)</label>
          <textarea
            id={fieldId}
            rows={10}
            spellcheck={false}
            value={text}
            onInput={(e) => setText(e.currentTarget.value)}
          />
        </>
      )}
      {result && (
        <p>
          <a href={orderLink(result.orderId)}>Open order {result.orderId}</a>
        </p>
      )}
      <ActionForm
        id={`rej-reason-${m.id}`}
        label={`Reason for message ${m.messageId}`}
        actions={[
          ...(m.card ? [{ label: "Resubmit corrected", run: resubmit }] : []),
          { label: "Discard", danger: true, run: discard },
        ]}
        onDone={onDone}
      />
    </li>
  );
}

function DeadLetters({ queue }: { queue: "orders-inbound" | "notifications" }) {
  const state = useApi(() => api<Page<DeadLetter>>(`operator/dead-letters/${queue}`), [queue]);
  const act = (seq: string, action: "resubmit" | "discard") => async (reason: string) => {
    await api(`operator/dead-letters/${queue}/${encodeURIComponent(seq)}/${action}`, {
      method: "POST",
      body: { reason },
    });
    return action === "resubmit" ? `Resubmitted message ${seq}.` : `Discarded message ${seq}.`;
  };
  return (
    <section aria-labelledby={`dl-${queue}-h`}>
      <h2 id={`dl-${queue}-h`}>
        Dead letters of <code>{queue}</code>
      </h2>
      <Loading state={state}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="empty">No dead-lettered messages.</p>
          ) : (
            <ul class="cards">
              {page.items.map((d) => (
                <li
                  key={d.sequenceNumber}
                  class="card"
                  aria-labelledby={`dl-${queue}-${d.sequenceNumber}`}
                >
                  <h3 id={`dl-${queue}-${d.sequenceNumber}`} class="card-title">
                    Message <span class="mono">{d.messageId}</span> (#{d.sequenceNumber})
                  </h3>
                  <p>
                    {d.deadLetterReason ?? "Dead-lettered"}
                    {d.deadLetterErrorDescription ? `: ${d.deadLetterErrorDescription}` : ""}.
                    Delivered {d.deliveryCount} times; enqueued {time(d.enqueuedAt)}.
                  </p>
                  <details>
                    <summary>Body</summary>
                    <pre>{pretty(d.body)}</pre>
                  </details>
                  <ActionForm
                    id={`dl-reason-${queue}-${d.sequenceNumber}`}
                    label={`Reason for message #${d.sequenceNumber}`}
                    actions={[
                      { label: "Resubmit", run: act(d.sequenceNumber, "resubmit") },
                      { label: "Discard", danger: true, run: act(d.sequenceNumber, "discard") },
                    ]}
                    onDone={state.reload}
                  />
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
    </section>
  );
}

function StuckOrders() {
  const state = useApi(() => api<Page<StuckOrder>>("operator/stuck-orders"), []);
  const act = (orderId: string, action: string) => async (reason: string) => {
    const r = await api<{ status?: string }>(
      `operator/orders/${encodeURIComponent(orderId)}/actions/${encodeURIComponent(action)}`,
      { method: "POST", body: { reason } },
    );
    return `${action}: order ${orderId} is now ${r?.status ?? "updated"}.`;
  };
  return (
    <section aria-labelledby="stuck-h">
      <h2 id="stuck-h">Stuck orders</h2>
      <Loading state={state}>
        {(page) =>
          page.items.length === 0 ? (
            <p class="empty">No order is stuck.</p>
          ) : (
            <ul class="cards">
              {page.items.map((s) => (
                <li key={s.orderId} class="card" aria-labelledby={`stuck-${s.orderId}`}>
                  <h3 id={`stuck-${s.orderId}`} class="card-title">
                    <a href={orderLink(s.orderId)} class="mono">
                      {s.orderId}
                    </a>
                  </h3>
                  <p>
                    <StatusBadge status={s.status} /> (runtime {s.runtimeStatus}) since{" "}
                    {time(s.since)}: {duration(s.ageSeconds)}, threshold{" "}
                    {duration(s.thresholdSeconds)}.
                  </p>
                  {s.actions.length === 0 ? (
                    <p>No action is allowed at this stage.</p>
                  ) : (
                    <ActionForm
                      id={`stuck-reason-${s.orderId}`}
                      label={`Reason for order ${s.orderId.slice(0, 8)}`}
                      actions={s.actions.map((a) => ({
                        label: a,
                        danger: /terminate|refund|cancel/i.test(a),
                        run: act(s.orderId, a),
                      }))}
                      onDone={state.reload}
                    />
                  )}
                </li>
              ))}
            </ul>
          )
        }
      </Loading>
    </section>
  );
}
