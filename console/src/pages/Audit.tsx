// Audit log: every operator and approver action (who, what, when, why), newest first, filtered
// by order or actor, a page at a time.
import { useState } from "preact/hooks";
import { api, type ApiError, type Page } from "../api";
import { pretty } from "../redact";
import type { AuditEntry } from "../types";
import { asApiError, ErrorBox, Loading, orderLink, time, useApi } from "../ui";

export function AuditPage() {
  const [draft, setDraft] = useState({ orderId: "", actor: "" });
  const [filters, setFilters] = useState(draft);
  const [more, setMore] = useState<{ items: AuditEntry[]; token: string | null }>();
  const [moreError, setMoreError] = useState<ApiError>();
  const query = (token?: string) => ({
    orderId: filters.orderId.trim(),
    actor: filters.actor.trim(),
    limit: "50",
    continuationToken: token,
  });
  const first = useApi(() => {
    setMore(undefined);
    return api<Page<AuditEntry>>("operator/audit", { query: query() });
  }, [filters]);
  async function loadMore(token: string) {
    try {
      const page = await api<Page<AuditEntry>>("operator/audit", { query: query(token) });
      setMore((m) => ({
        items: [...(m?.items ?? []), ...page.items],
        token: page.continuationToken,
      }));
    } catch (e) {
      setMoreError(asApiError(e));
    }
  }
  return (
    <>
      <h1>Audit log</h1>
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
      >
        <label>
          Order id
          <input
            type="text"
            value={draft.orderId}
            onInput={(e) => setDraft({ ...draft, orderId: e.currentTarget.value })}
          />
        </label>
        <label>
          Actor id
          <input
            type="text"
            value={draft.actor}
            onInput={(e) => setDraft({ ...draft, actor: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Apply filters</button>
      </form>
      <Loading state={first}>
        {(page) => {
          const items = [...page.items, ...(more?.items ?? [])];
          const token = more ? more.token : page.continuationToken;
          return items.length === 0 ? (
            <p class="empty">No audit entries.</p>
          ) : (
            <>
              <table>
                <caption class="visually-hidden">Audit entries, newest first</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Who</th>
                    <th scope="col">Action</th>
                    <th scope="col">Target</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {items.map((a) => (
                    <tr key={a.id}>
                      <td>{time(a.at)}</td>
                      <td>
                        {a.actor.name} <span class="muted">({a.actor.id})</span>
                      </td>
                      <td>
                        {a.action}
                        {a.details !== undefined && (
                          <details>
                            <summary>details</summary>
                            <pre>{pretty(a.details)}</pre>
                          </details>
                        )}
                      </td>
                      <td>
                        {a.target.kind}{" "}
                        {a.target.kind === "order" ? (
                          <a href={orderLink(a.target.id)} class="mono">
                            {a.target.id}
                          </a>
                        ) : (
                          <span class="mono">{a.target.id}</span>
                        )}
                      </td>
                      <td>{a.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <ErrorBox error={moreError} />
              {token && (
                <button type="button" onClick={() => void loadMore(token)}>
                  Load more entries
                </button>
              )}
            </>
          );
        }}
      </Loading>
    </>
  );
}
