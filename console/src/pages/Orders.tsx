// Orders: filters (status, customer, time), counts per status and the charts from
// GET /api/operator/order-stats (drawn from the order store, so they work in Azure too), and the
// list from GET /api/orders, a page at a time.
import { useMemo, useState } from "preact/hooks";
import { api, type Page } from "../api";
import { colorFor, TimeChart } from "../chart";
import { STATUSES, TERMINAL, type Order, type OrderStats } from "../types";
import { ErrorBox, Loading, money, orderLink, StatusBadge, time, useApi, asApiError } from "../ui";
import type { ApiError } from "../api";

interface Filters {
  status: string;
  customerId: string;
  from: string;
  to: string;
}

const localInput = (d: Date) =>
  new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
const iso = (local: string) => (local ? new Date(local).toISOString() : undefined);

function defaults(): Filters {
  const now = new Date();
  return {
    status: "",
    customerId: "",
    from: localInput(new Date(now.getTime() - 60 * 60_000)),
    to: "",
  };
}

/** GET /api/orders filters: the store applies status, customer and the created-at range. */
const listQuery = (f: Filters) => ({
  status: f.status,
  customerId: f.customerId.trim(),
  from: iso(f.from),
  to: iso(f.to),
});

export function OrdersPage() {
  const [draft, setDraft] = useState<Filters>(defaults);
  const [filters, setFilters] = useState<Filters>(draft);
  const [extra, setExtra] = useState<{ items: Order[]; token: string | null } | undefined>();
  const [moreError, setMoreError] = useState<ApiError>();

  const stats = useApi(
    () =>
      api<OrderStats>("operator/order-stats", {
        query: { from: iso(filters.from), to: iso(filters.to) },
      }),
    [filters],
  );
  const list = useApi(() => {
    setExtra(undefined);
    return api<Page<Order>>("orders", {
      query: { ...listQuery(filters), limit: "50" },
    });
  }, [filters]);

  async function more(token: string) {
    try {
      const page = await api<Page<Order>>("orders", {
        query: { ...listQuery(filters), limit: "50", continuationToken: token },
      });
      setExtra((e) => ({
        items: [...(e?.items ?? []), ...page.items],
        token: page.continuationToken,
      }));
    } catch (e) {
      setMoreError(asApiError(e));
    }
  }

  return (
    <>
      <h1>Orders</h1>
      <form
        class="filters"
        aria-label="Filter orders"
        onSubmit={(e) => {
          e.preventDefault();
          setFilters({ ...draft });
        }}
      >
        <label>
          Status
          <select
            value={draft.status}
            onChange={(e) => setDraft({ ...draft, status: e.currentTarget.value })}
          >
            <option value="">Any status</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Customer id
          <input
            type="text"
            value={draft.customerId}
            onInput={(e) => setDraft({ ...draft, customerId: e.currentTarget.value })}
          />
        </label>
        <label>
          From
          <input
            type="datetime-local"
            value={draft.from}
            onInput={(e) => setDraft({ ...draft, from: e.currentTarget.value })}
          />
        </label>
        <label>
          To
          <input
            type="datetime-local"
            value={draft.to}
            onInput={(e) => setDraft({ ...draft, to: e.currentTarget.value })}
          />
        </label>
        <button type="submit">Apply filters</button>
      </form>

      <section aria-labelledby="stats-h">
        <h2 id="stats-h">Orders in this time range</h2>
        <Loading state={stats}>{(s) => <Stats stats={s} />}</Loading>
      </section>

      <section aria-labelledby="list-h">
        <h2 id="list-h">List</h2>
        <Loading state={list}>
          {(page) => {
            const items = [...page.items, ...(extra?.items ?? [])];
            const token = extra ? extra.token : page.continuationToken;
            return (
              <>
                <OrderTable orders={items} />
                <ErrorBox error={moreError} />
                {token && (
                  <button type="button" onClick={() => void more(token)}>
                    Load more orders
                  </button>
                )}
              </>
            );
          }}
        </Loading>
      </section>
    </>
  );
}

function Stats({ stats }: { stats: OrderStats }) {
  // From..to of the answer (else of the data), at least ten minutes wide.
  const range = useMemo((): [number, number] => {
    const xs = [...stats.perMinute, ...stats.latency].map((p) => Date.parse(p.minute) / 1000);
    const to = stats.to ? Date.parse(stats.to) / 1000 : Math.max(Date.now() / 1000, ...xs);
    const from = stats.from ? Date.parse(stats.from) / 1000 : Math.min(to - 600, ...xs);
    return [Math.min(from, to - 600), to];
  }, [stats]);
  const perMinute = useMemo(() => {
    const x = stats.perMinute.map((p) => Date.parse(p.minute) / 1000);
    const outcomes = [...new Set(stats.perMinute.flatMap((p) => Object.keys(p.outcomes)))].sort(
      (a, b) => TERMINAL.indexOf(a) - TERMINAL.indexOf(b),
    );
    return {
      x,
      series: outcomes.map((o, i) => ({
        label: o,
        color: colorFor(o, i),
        values: stats.perMinute.map((p) => p.outcomes[o] ?? 0),
      })),
    };
  }, [stats]);
  const latency = useMemo(
    () => ({
      x: stats.latency.map((p) => Date.parse(p.minute) / 1000),
      series: [
        { label: "p50", color: "#0969da", values: stats.latency.map((p) => p.p50Ms / 1000) },
        { label: "p95", color: "#cf222e", values: stats.latency.map((p) => p.p95Ms / 1000) },
      ],
    }),
    [stats],
  );
  const counts = Object.entries(stats.countsByStatus).filter(([, n]) => n > 0);
  return (
    <>
      <ul class="counts" aria-label="Orders per status">
        {counts.length === 0 && <li>No orders.</li>}
        {counts.map(([status, n]) => (
          <li key={status}>
            <StatusBadge status={status} /> <strong>{n}</strong>
          </li>
        ))}
      </ul>
      <div class="charts">
        <TimeChart
          title="Orders finished per minute, by outcome"
          unit="orders"
          bars
          range={range}
          {...perMinute}
        />
        <TimeChart
          title="Accept → finish latency (p50, p95)"
          unit="seconds"
          range={range}
          {...latency}
        />
      </div>
    </>
  );
}

export function OrderTable({ orders }: { orders: Order[] }) {
  if (orders.length === 0) return <p class="empty">No orders match.</p>;
  return (
    <table>
      <caption class="visually-hidden">Orders</caption>
      <thead>
        <tr>
          <th scope="col">Order</th>
          <th scope="col">Customer</th>
          <th scope="col">Status</th>
          <th scope="col">Total</th>
          <th scope="col">Source</th>
          <th scope="col">Created</th>
          <th scope="col">Updated</th>
        </tr>
      </thead>
      <tbody>
        {orders.map((o) => (
          <tr key={o.orderId}>
            <td>
              <a href={orderLink(o.orderId)} class="mono">
                {o.orderId}
              </a>
            </td>
            <td>{o.customerId}</td>
            <td>
              <StatusBadge status={o.status} />
            </td>
            <td class="num">{money(o.totals.total, o.currency)}</td>
            <td>{o.source}</td>
            <td>{time(o.createdAt)}</td>
            <td>{time(o.updatedAt)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
