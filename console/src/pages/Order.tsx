// One order: its stages as a timeline, the orchestration history (retries, timers, events;
// inputs without payment tokens), the ledger, the deliveries, and its trace as a waterfall (local
// host) or the Application Insights link (Azure).
import { api } from "../api";
import type { Session } from "../auth";
import { ROLE } from "../auth";
import { pretty, redact } from "../redact";
import type { History, HistoryEvent, Order, Span, Trace } from "../types";
import { ErrorBox, Loading, money, StatusBadge, time, useApi } from "../ui";
import { DecisionForm } from "./Approvals";

export function OrderPage({ orderId, session }: { orderId: string; session: Session }) {
  const id = encodeURIComponent(orderId);
  const order = useApi(() => api<Order>(`orders/${id}`), [orderId]);
  const history = useApi(() => api<History>(`operator/orders/${id}/history`), [orderId]);
  const operator = session.roles.includes(ROLE.operate);
  return (
    <>
      <h1>
        Order <span class="mono">{orderId}</span>
      </h1>
      <Loading state={order}>
        {(o) => (
          <>
            <Summary order={o} />
            {o.status === "AwaitingApproval" && session.roles.includes(ROLE.approve) && (
              <section aria-labelledby="decide-h">
                <h2 id="decide-h">Decision</h2>
                <DecisionForm orderId={o.orderId} onDone={order.reload} />
              </section>
            )}
          </>
        )}
      </Loading>
      <section aria-labelledby="timeline-h">
        <h2 id="timeline-h">Timeline</h2>
        <Loading state={history}>{(h) => <Timeline events={h.events} />}</Loading>
      </section>
      <section aria-labelledby="history-h">
        <h2 id="history-h">Orchestration history</h2>
        <Loading state={history}>{(h) => <HistoryTable history={h} />}</Loading>
      </section>
      {operator && <Ledger orderId={orderId} />}
      {operator && <Deliveries orderId={orderId} />}
      <TraceView orderId={orderId} />
    </>
  );
}

function Summary({ order }: { order: Order }) {
  return (
    <dl class="summary">
      <dt>Status</dt>
      <dd>
        <StatusBadge status={order.status} />
        {order.runtimeStatus ? ` (runtime ${order.runtimeStatus})` : ""}
      </dd>
      <dt>Customer</dt>
      <dd>{order.customerId}</dd>
      <dt>Total</dt>
      <dd>{money(order.totals.total, order.currency)}</dd>
      <dt>Card</dt>
      <dd>
        {order.payment.brand} ending {order.payment.last4}
      </dd>
      <dt>Source</dt>
      <dd>{order.source}</dd>
      <dt>Created</dt>
      <dd>{time(order.createdAt)}</dd>
      <dt>Updated</dt>
      <dd>{time(order.updatedAt)}</dd>
      {order.outcome?.reason && (
        <>
          <dt>Outcome</dt>
          <dd>{order.outcome.reason}</dd>
        </>
      )}
      {(order.decidedBy ?? order.outcome?.decidedBy) && (
        <>
          <dt>Decided by</dt>
          <dd>
            {(order.decidedBy ?? order.outcome!.decidedBy)!.name} at{" "}
            {time((order.decidedBy ?? order.outcome!.decidedBy)!.at)}
          </dd>
        </>
      )}
    </dl>
  );
}

/** The stages the workflow recorded (its start, then each setOrderStatus call), in order. */
function stagesOf(events: HistoryEvent[]): { status: string; at: string }[] {
  const stages: { status: string; at: string }[] = [];
  for (const e of events) {
    if (e.eventType === "ExecutionStarted") stages.push({ status: "Received", at: e.timestamp });
    if (e.name !== "setOrderStatus") continue;
    // Scheduled (with its input; workflow version 2 records a stage on the way, `via`, in the same
    // call) or, when the history has no scheduled events, completed with the status it recorded.
    if (e.eventType === "TaskScheduled") {
      const input = e.input as { status?: unknown; via?: unknown } | undefined;
      for (const s of [input?.via, input?.status])
        if (typeof s === "string") stages.push({ status: s, at: e.timestamp });
    } else if (
      e.eventType === "TaskCompleted" &&
      !events.some((x) => x.eventType === "TaskScheduled")
    ) {
      const status = (e.result as { status?: unknown } | undefined)?.status;
      if (typeof status === "string") stages.push({ status, at: e.timestamp });
    }
  }
  return stages;
}

function Timeline({ events }: { events: HistoryEvent[] }) {
  const stages = stagesOf(events);
  if (stages.length === 0) return <p class="empty">No stages recorded yet.</p>;
  return (
    <ol class="timeline">
      {stages.map((s, i) => (
        <li key={i}>
          <StatusBadge status={s.status} /> <time dateTime={s.at}>{time(s.at)}</time>
        </li>
      ))}
    </ol>
  );
}

function HistoryTable({ history }: { history: History }) {
  return (
    <>
      <p>
        Runtime status <strong>{history.runtimeStatus}</strong>
        {history.version ? `, workflow version ${history.version}` : ""}.
      </p>
      <table class="history">
        <caption class="visually-hidden">Orchestration history events</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Name</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {history.events.map((e, i) => {
            const details = {
              input: e.input,
              result: e.result,
              failure: e.failure,
              retry: e.retry,
            };
            const shown = Object.fromEntries(
              Object.entries(details).filter(([, v]) => v !== undefined),
            );
            return (
              <tr key={i} class={e.failure ? "failed" : e.retry ? "retry" : ""}>
                <td>{time(e.timestamp)}</td>
                <td>
                  {e.eventType}
                  {e.retry !== undefined && <span class="badge">attempt {e.retry}</span>}
                </td>
                <td>{e.name ?? ""}</td>
                <td>
                  {Object.keys(shown).length > 0 && (
                    <details>
                      <summary>{Object.keys(shown).join(", ")}</summary>
                      <pre>{pretty(shown)}</pre>
                    </details>
                  )}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </>
  );
}

interface Items<T> {
  items: T[];
}

function Ledger({ orderId }: { orderId: string }) {
  const state = useApi(
    () => api<Items<Record<string, unknown>>>(`orders/${encodeURIComponent(orderId)}/payments`),
    [orderId],
  );
  return (
    <section aria-labelledby="ledger-h">
      <h2 id="ledger-h">Ledger</h2>
      <Loading state={state}>
        {(d) =>
          d.items.length === 0 ? (
            <p class="empty">No payments.</p>
          ) : (
            <table>
              <caption class="visually-hidden">Payments</caption>
              <thead>
                <tr>
                  <th scope="col">Kind</th>
                  <th scope="col">Amount</th>
                  <th scope="col">Gateway reference</th>
                  <th scope="col">At</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((p, i) => (
                  <tr key={i}>
                    <td>{String(p.kind ?? "")}</td>
                    <td class="num">
                      {typeof p.amount === "number"
                        ? money(p.amount, String(p.currency ?? "USD"))
                        : ""}
                    </td>
                    <td class="mono">{String(redact(p.reference ?? ""))}</td>
                    <td>{time(String(p.createdAt ?? ""))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loading>
    </section>
  );
}

function Deliveries({ orderId }: { orderId: string }) {
  const state = useApi(
    () =>
      api<Items<Record<string, unknown>>>(`orders/${encodeURIComponent(orderId)}/notifications`),
    [orderId],
  );
  return (
    <section aria-labelledby="deliveries-h">
      <h2 id="deliveries-h">Deliveries</h2>
      <Loading state={state}>
        {(d) =>
          d.items.length === 0 ? (
            <p class="empty">No deliveries.</p>
          ) : (
            <table>
              <caption class="visually-hidden">Notification deliveries</caption>
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Notification</th>
                  <th scope="col">Delivered</th>
                </tr>
              </thead>
              <tbody>
                {d.items.map((n, i) => (
                  <tr key={i}>
                    <td>{String(n.channel ?? "")}</td>
                    <td class="mono">{String(n.notificationId ?? "")}</td>
                    <td>{time(String(n.deliveredAt ?? ""))}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </Loading>
    </section>
  );
}

/** Milliseconds since the epoch from ISO text, epoch ms, or OTLP's nanoseconds (number or text). */
function ms(t: string | number): number {
  if (typeof t === "number") return t > 1e15 ? t / 1e6 : t;
  if (/^\d+$/.test(t)) return Number(BigInt(t) / 1000n) / 1000;
  return Date.parse(t);
}

function isError(status: unknown): boolean {
  const code =
    typeof status === "object" && status !== null ? (status as { code?: unknown }).code : status;
  return code === 2 || (typeof code === "string" && /error/i.test(code));
}

function TraceView({ orderId }: { orderId: string }) {
  const state = useApi(
    () => api<Trace>(`operator/orders/${encodeURIComponent(orderId)}/trace`),
    [orderId],
  );
  return (
    <section aria-labelledby="trace-h">
      <h2 id="trace-h">Trace</h2>
      {state.error ? (
        <ErrorBox error={state.error} />
      ) : (
        <Loading state={state}>
          {(t) =>
            "link" in t ? (
              <p>
                Trace <span class="mono">{t.traceId}</span>:{" "}
                {t.link ? (
                  <a href={t.link} target="_blank" rel="noopener noreferrer">
                    open it in Application Insights (transaction search)
                  </a>
                ) : (
                  "search for this operation id in Application Insights (the app has no APPLICATIONINSIGHTS_RESOURCE_ID to link to)."
                )}
              </p>
            ) : (
              <Waterfall traceId={t.traceId} spans={t.spans} />
            )
          }
        </Loading>
      )}
    </section>
  );
}

/** Spans in tree order (parents before children), with their depth. */
function tree(spans: Span[]): { span: Span; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map<string, Span[]>();
  const roots: Span[] = [];
  for (const s of [...spans].sort((a, b) => ms(a.startTime) - ms(b.startTime))) {
    if (s.parentSpanId && ids.has(s.parentSpanId)) {
      children.set(s.parentSpanId, [...(children.get(s.parentSpanId) ?? []), s]);
    } else roots.push(s);
  }
  const out: { span: Span; depth: number }[] = [];
  const walk = (s: Span, depth: number) => {
    out.push({ span: s, depth });
    for (const c of children.get(s.spanId) ?? []) walk(c, depth + 1);
  };
  roots.forEach((r) => walk(r, 0));
  return out;
}

function Waterfall({ traceId, spans }: { traceId: string; spans: Span[] }) {
  if (spans.length === 0) return <p class="empty">No spans received for trace {traceId} yet.</p>;
  const start = Math.min(...spans.map((s) => ms(s.startTime)));
  const end = Math.max(...spans.map((s) => ms(s.endTime)));
  const total = Math.max(1, end - start);
  return (
    <>
      <p>
        Trace <span class="mono">{traceId}</span>: {spans.length} spans over{" "}
        {((end - start) / 1000).toFixed(2)} s.
      </p>
      <ol class="waterfall" aria-label="Spans, parents before children">
        {tree(spans).map(({ span, depth }) => {
          const left = ((ms(span.startTime) - start) / total) * 100;
          const width = Math.max(0.3, ((ms(span.endTime) - ms(span.startTime)) / total) * 100);
          const failed = isError(span.status);
          return (
            <li key={span.spanId} class="span-row">
              <span class="span-name" style={{ paddingLeft: `${depth * 0.9}rem` }}>
                {span.name}
              </span>
              <span class="span-track">
                <span
                  class={`span-bar${failed ? " failed" : ""}`}
                  style={{ left: `${left}%`, width: `${width}%` }}
                />
              </span>
              <span class="span-ms">{(ms(span.endTime) - ms(span.startTime)).toFixed(0)} ms</span>
            </li>
          );
        })}
      </ol>
    </>
  );
}
