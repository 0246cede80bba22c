// In-memory services for tests: real domain logic (the simulated gateway, the built-in notifier)
// over in-memory stores, plus recorders and failure injection. `installFakeServices()` wires them
// into getServices() and returns them for assertions.
import { BuiltInNotifier } from "../../src/adapters/notifier/builtInNotifier";
import { SimulatedGateway } from "../../src/adapters/payment/simulatedGateway";
import type { Notifier, NotificationMessage, NotificationDelivery } from "../../src/adapters/ports";
import { setServicesForTesting, type Services } from "../../src/adapters/services";
import { Failures } from "./failures";
import { InMemoryOrderStore } from "./orderStore";
import {
  InMemoryAuditLog,
  InMemoryDeadLetters,
  InMemoryNotificationDeliveries,
  InMemoryPaymentsLedger,
  InMemoryRejectedMessages,
  RecordingNotificationQueue,
} from "./stores";

export * from "./failures";
export * from "./orderStore";
export * from "./sampleOrder";
export * from "./stores";

/** The built-in notifier over in-memory deliveries, with failure injection. */
export class FakeNotifier implements Notifier {
  readonly failures = new Failures<"deliver">();
  readonly inner: BuiltInNotifier;
  calls = 0;

  constructor(readonly deliveries: InMemoryNotificationDeliveries) {
    this.inner = new BuiltInNotifier(deliveries);
  }

  async deliver(message: NotificationMessage): Promise<NotificationDelivery> {
    this.calls++;
    this.failures.check("deliver");
    return this.inner.deliver(message);
  }
}

/** Health probes whose answers tests set. */
export class FakeHealth {
  down: { cosmos?: Error; serviceBus?: Error } = {};
  async cosmos(): Promise<void> {
    if (this.down.cosmos) throw this.down.cosmos;
  }
  async serviceBus(): Promise<void> {
    if (this.down.serviceBus) throw this.down.serviceBus;
  }
}

export interface Fakes {
  services: Services;
  orders: InMemoryOrderStore;
  ledger: InMemoryPaymentsLedger;
  gateway: SimulatedGateway;
  deliveries: InMemoryNotificationDeliveries;
  notifier: FakeNotifier;
  queue: RecordingNotificationQueue;
  rejected: InMemoryRejectedMessages;
  audit: InMemoryAuditLog;
  deadLetters: InMemoryDeadLetters;
  health: FakeHealth;
}

export function createFakes(now: () => Date = () => new Date()): Fakes {
  const orders = new InMemoryOrderStore(now);
  const ledger = new InMemoryPaymentsLedger();
  const gateway = new SimulatedGateway({ ledger, now });
  const deliveries = new InMemoryNotificationDeliveries();
  const notifier = new FakeNotifier(deliveries);
  const queue = new RecordingNotificationQueue();
  const rejected = new InMemoryRejectedMessages();
  const health = new FakeHealth();
  const audit = new InMemoryAuditLog();
  const deadLetters = new InMemoryDeadLetters();
  const services: Services = {
    orders,
    payments: ledger,
    gateway,
    notifier,
    notifications: { enqueue: (m) => queue.enqueue(m), list: (id) => deliveries.list(id) },
    rejectedMessages: rejected,
    audit,
    deadLetters,
    health,
  };
  return {
    services,
    orders,
    ledger,
    gateway,
    deliveries,
    notifier,
    queue,
    rejected,
    audit,
    deadLetters,
    health,
  };
}

/** Creates fakes and makes getServices() return them (call resetServices() afterwards). */
export function installFakeServices(now?: () => Date): Fakes {
  const fakes = createFakes(now);
  setServicesForTesting(fakes.services);
  return fakes;
}
