/**
 * Durability overhead: the order app through the local host (`orders`) against the same handlers
 * called directly in one process (`direct`), from the same run. Both ratios are host ÷ direct
 * in cost terms, so above 1 is what the host adds: time per order (direct orders/s ÷ host
 * orders/s) and CPU ms per order (host ÷ direct, load generator apart).
 */
import { round } from "./stats";

export interface Overhead {
  throughHost: { ordersPerSec: number; cpuMsPerOrder: number };
  direct: { ordersPerSec: number; cpuMsPerOrder: number };
  /** Time per order through the host ÷ directly (= direct orders/s ÷ host orders/s). */
  throughputRatio: number;
  /** CPU ms per order through the host ÷ directly. */
  cpuRatio: number;
}

export function durabilityOverhead(
  orders: { completedOrdersPerSec: number; saturation: { cpuMsPerOrder: Record<string, number> } },
  direct: { ordersPerSec: number; cpuMsPerOrder: Record<string, number> },
): Overhead {
  const host = {
    ordersPerSec: orders.completedOrdersPerSec,
    cpuMsPerOrder: orders.saturation.cpuMsPerOrder.total,
  };
  const alone = { ordersPerSec: direct.ordersPerSec, cpuMsPerOrder: direct.cpuMsPerOrder.total };
  return {
    throughHost: host,
    direct: alone,
    throughputRatio: round(alone.ordersPerSec / host.ordersPerSec),
    cpuRatio: round(host.cpuMsPerOrder / alone.cpuMsPerOrder),
  };
}
