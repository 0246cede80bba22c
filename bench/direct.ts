/**
 * Durability overhead, the direct leg (`npm run bench -- orders direct`): the order app's own
 * handlers called in this one process, in the order workflow version 3 runs them, with no engine,
 * no HTTP and no worker in between. Same emulators as the local host (its emulators process,
 * forked the same way, fresh DATA_DIR, fsync on), same settings (local.settings.json with the
 * emulators' endpoints, as the host sets them), same card and approval threshold as `orders`.
 *
 * Per order: intake (`acceptOrder`, as createOrder calls it minus HTTP and the token check; its
 * durable client only takes the orchestration input) → chargePayment (records Charging) →
 * capturePayment → sendNotifications (records Paid/Notifying, enqueues the Service Bus batch,
 * records Completed); a receiver on the notifications queue (maxConcurrentCalls 16, as host.json)
 * calls deliverNotification for each message. A closed loop of as many clients as `orders`
 * saturates with, for as long; an order counts once its last notification is delivered, so this
 * leg waits for more than `orders` does (which ends at the Completed write).
 *
 * Not in this leg: token checks, tracing export and log transport (log lines are still formatted,
 * then dropped) — what the host adds besides durability counts against it. The ratio against
 * `orders` (run in the same invocation) is worked out by the dispatcher (lib/overhead.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { InvocationContext } from "@azure/functions";
import { ServiceBusClient } from "@azure/service-bus";
import { startEmulatorsProcess } from "../local-host/src/emulators-client";
import { capturePayment } from "../src/activities/capturePayment";
import { chargePayment } from "../src/activities/chargePayment";
import { sendNotifications } from "../src/activities/sendNotifications";
import { resetCosmosClient } from "../src/adapters/cosmos/client";
import { getServiceBusClient } from "../src/adapters/servicebus/client";
import { getServices } from "../src/adapters/services";
import { getSettings } from "../src/config";
import { NOTIFICATION_CHANNELS, type ProcessOrderInput } from "../src/domain/order";
import { deliverNotification, NOTIFICATIONS_QUEUE } from "../src/functions/deliverNotification";
import { acceptOrder, type AcceptOrderDeps } from "../src/intake/acceptOrder";
import type { BenchContext } from "./lib/context";
import { ROOT } from "./lib/host";
import { closedLoop } from "./lib/load";
import { cpuPer, sampleCpu, totalUnderTest } from "./lib/proc";
import { rate, round } from "./lib/stats";

export interface DirectFigures {
  clients: number;
  seconds: number;
  orders: number;
  /** Orders fully processed (last notification delivered) per second, first start → last delivery. */
  ordersPerSec: number;
  /** CPU ms per order: `app` is this process (handlers and the loop driving them), `emulators` theirs. */
  cpuMsPerOrder: Record<string, number>;
  loadAverage: number;
  errors: number;
}

let invocations = 0;
/** An invocation context like the worker's, whose log lines are dropped (no host to send them to). */
function contextFor(functionName: string, triggerMetadata: Record<string, unknown> = {}) {
  return new InvocationContext({
    functionName,
    invocationId: `direct-${++invocations}`,
    triggerMetadata,
    logHandler: () => undefined,
  });
}

function orderBody(i: number) {
  return {
    customerId: `bench-${i % 97}`,
    currency: "USD",
    items: [{ sku: `SKU-${i % 50}`, name: "Widget", quantity: 1 + (i % 3), unitPrice: 1999 }],
    shippingAddress: { line1: "1 Main St", city: "Seattle", postalCode: "98101", country: "US" },
    payment: { cardNumber: "4242424242424242" },
  };
}

/** The app's settings as the local host gives them to the worker. */
function appEnvironment(emulators: {
  cosmos?: { connectionString: string };
  serviceBusConnectionString?: string;
  storageConnectionString?: string;
}): void {
  const file = path.join(ROOT, "local.settings.json");
  const values = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, "utf8")) as { Values?: Record<string, string> }).Values
    : {};
  Object.assign(process.env, values, {
    CosmosDBConnection: emulators.cosmos?.connectionString,
    COSMOS_ALLOW_SELF_SIGNED: "true",
    ServiceBusConnection: emulators.serviceBusConnectionString,
    AzureWebJobsStorage: emulators.storageConnectionString,
    // As `orders`: every order below the approval threshold.
    APPROVAL_THRESHOLD_MINOR: "100000000",
  });
}

export async function run(ctx?: BenchContext): Promise<DirectFigures> {
  const quick = ctx?.quick ?? false;
  const clients = quick ? 32 : 64;
  const seconds = quick ? 3 : 10;
  const dataDir = fs.mkdtempSync(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "bench-direct-"));
  const child = startEmulatorsProcess(
    {
      dataDir: path.join(dataDir, "emulators"),
      ports: "free",
      host: "127.0.0.1",
      cosmosProvision: path.join(ROOT, "local-host", "config", "cosmos.json"),
      serviceBusConfig: path.join(ROOT, "servicebus-emulator", "config", "Config.json"),
      which: { issuer: false },
    },
    (level, message) => {
      if (level === "warn" || level === "error") console.error(`direct: ${message}`);
    },
  );
  const emulators = await child.started;
  // Settings and clients are read on first use (getSettings, getServices): after this line.
  appEnvironment(emulators);
  const bus = new ServiceBusClient(emulators.serviceBusConnectionString!);
  const receiver = bus.createReceiver(NOTIFICATIONS_QUEUE);
  const delivered = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  let deliveryErrors = 0;
  const subscription = receiver.subscribe(
    {
      processMessage: async (msg) => {
        await deliverNotification(
          msg.body,
          contextFor("deliverNotification", { deliveryCount: msg.deliveryCount }),
        );
        const id = (msg.body as { orderId: string }).orderId;
        const n = (delivered.get(id) ?? 0) + 1;
        delivered.set(id, n);
        if (n === NOTIFICATION_CHANNELS.length) waiting.get(id)?.();
      },
      processError: async () => {
        deliveryErrors++;
      },
    },
    { maxConcurrentCalls: 16, autoCompleteMessages: true },
  );

  const services = getServices();
  const settings = getSettings();
  /** One order through every step; resolves when its last notification was delivered. */
  const one = async (i: number): Promise<void> => {
    let input: ProcessOrderInput | undefined;
    const client = {
      startNew: async (_name: string, o?: { instanceId?: string; input?: unknown }) => {
        input = o?.input as ProcessOrderInput;
        return o?.instanceId ?? "";
      },
      getStatus: async () => undefined,
      raiseEvent: async () => undefined,
    } as unknown as AcceptOrderDeps["client"];
    const accepted = await acceptOrder(
      orderBody(i),
      { kind: "http", createdBy: { kind: "app", id: "orders-bench", clientId: "orders-bench" } },
      {
        client,
        orders: services.orders,
        gateway: services.gateway,
        settings,
        context: contextFor("createOrder"),
      },
    );
    if (accepted.kind !== "created" || !input) throw new Error(`intake: ${accepted.kind}`);
    const order = input;
    const allDelivered = new Promise<void>((resolve) => waiting.set(order.orderId, resolve));
    const charge = await chargePayment(
      {
        orderId: order.orderId,
        token: order.payment.token,
        amount: order.total,
        currency: order.currency,
        stage: { status: "Charging" },
      },
      contextFor("chargePayment", { instanceId: order.orderId }),
    );
    if (charge.outcome !== "approved") throw new Error(`charge ${charge.outcome}`);
    const capture = await capturePayment(
      { orderId: order.orderId, chargeId: charge.chargeId },
      contextFor("capturePayment", { instanceId: order.orderId }),
    );
    if (!capture.captured) throw new Error(capture.reason);
    await sendNotifications(
      {
        orderId: order.orderId,
        customerId: order.customerId,
        template: "order-completed",
        data: { total: order.total, currency: order.currency, last4: order.payment.last4 },
        channels: order.channels,
        stage: { status: "Notifying", via: "Paid" },
        outcome: { status: "Completed", chargeId: charge.chargeId },
      },
      contextFor("sendNotifications", { instanceId: order.orderId }),
    );
    await allDelivered;
    waiting.delete(order.orderId);
  };

  try {
    const warm = await closedLoop(16, (quick ? 1 : 5) * 1000, one);
    if (warm.done === 0) throw new Error(`direct: warm-up failed: ${warm.firstError}`);
    console.log(`direct: warm-up ${warm.done} orders`);
    const pids = { emulators: child.child.pid };
    const loadAverage = round(os.loadavg()[0]);
    const cpuBefore = sampleCpu(pids);
    const t0 = performance.now();
    const loop = await closedLoop(clients, seconds * 1000, one);
    const elapsed = performance.now() - t0;
    const cpu = cpuPer(cpuBefore, sampleCpu(pids), loop.done);
    if (loop.errors > 0) console.error(`direct: ${loop.errors} errors, first: ${loop.firstError}`);
    const { loadgen, ...underTest } = cpu;
    const perOrder = { app: loadgen, ...underTest };
    const figures: DirectFigures = {
      clients,
      seconds,
      orders: loop.done,
      ordersPerSec: round(rate(loop.done, elapsed)),
      cpuMsPerOrder: {
        ...Object.fromEntries(Object.entries(perOrder).map(([k, v]) => [k, round(v)])),
        total: round(totalUnderTest(perOrder)),
      },
      loadAverage,
      errors: loop.errors + deliveryErrors,
    };
    console.log(
      `direct: ${figures.ordersPerSec} orders/s over ${figures.orders} orders, ${figures.cpuMsPerOrder.total} CPU ms per order`,
    );
    return figures;
  } finally {
    await subscription.close();
    await receiver.close();
    await bus.close();
    await getServiceBusClient().close();
    resetCosmosClient();
    await emulators.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}
