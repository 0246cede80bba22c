import { durabilityOverhead } from "../lib/overhead";
import { directTable, ordersTables } from "../lib/report";

const orders = {
  completedOrdersPerSec: 50,
  saturation: {
    clients: 32,
    orders: 160,
    acceptedPerSec: 60,
    post: { p50: 10, p95: 20, p99: 30 },
    cpuMsPerOrder: { host: 10, worker: 20, emulators: 10, loadgen: 5, total: 40 },
    hopsPerOrder: {},
  },
  paced: [],
  startup: { readyMs: 900, firstAcceptedMs: 950 },
  peakRssMiB: { host: 150 },
};

const direct = {
  clients: 32,
  seconds: 3,
  orders: 300,
  ordersPerSec: 100,
  cpuMsPerOrder: { app: 12, emulators: 8, total: 20 },
  loadAverage: 1.5,
  errors: 0,
};

describe("durability overhead", () => {
  it("states both ratios as host ÷ direct in cost: time per order and CPU per order", () => {
    const o = durabilityOverhead(orders, direct);
    expect(o.throughHost).toEqual({ ordersPerSec: 50, cpuMsPerOrder: 40 });
    expect(o.direct).toEqual({ ordersPerSec: 100, cpuMsPerOrder: 20 });
    // Twice the orders/s directly = twice the time per order through the host.
    expect(o.throughputRatio).toBe(2);
    // The load generator's CPU is not in either total.
    expect(o.cpuRatio).toBe(2);
  });

  it("shows the overhead in the orders tables only when both legs ran", () => {
    expect(ordersTables(orders)).not.toContain("durability overhead");
    const text = ordersTables({
      ...orders,
      durabilityOverhead: durabilityOverhead(orders, direct),
    });
    expect(text).toContain(
      "| time per order (from orders/s) | 50 orders/s | 100 orders/s | **2×** |",
    );
    expect(text).toContain("| CPU ms per order | 40 | 20 | **2×** |");
  });

  it("shows the direct leg with its CPU by process", () => {
    expect(directTable(direct)).toContain(
      "| closed loop, 32 clients, 3 s, 300 orders (load 1.5) | **100** | 20 (app 12, emulators 8) | 0 |",
    );
  });
});
