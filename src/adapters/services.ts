// Process-wide service wiring. Each service is created on first use and then reused for the life
// of the process (SDK clients outside handlers, as Functions recommends); tests replace any of
// them with fakes through setServicesForTesting.
import type { Container } from "@azure/cosmos";
import { getCosmosDatabase } from "./cosmos/client";
import type { ContainerName } from "./cosmos/containers";
import { CosmosAuditLog } from "./cosmos/auditLog";
import { CosmosNotificationDeliveries } from "./cosmos/notificationDeliveries";
import { CosmosOrderStore } from "./cosmos/orderStore";
import { CosmosPaymentsLedger } from "./cosmos/paymentsLedger";
import { CosmosRejectedMessages } from "./cosmos/rejectedMessages";
import { BuiltInNotifier } from "./notifier/builtInNotifier";
import { SimulatedGateway } from "./payment/simulatedGateway";
import type {
  AuditLog,
  DeadLetters,
  NotificationDelivery,
  NotificationQueue,
  Notifier,
  OrderStore,
  PaymentGateway,
  PaymentsLedger,
  RejectedMessages,
} from "./ports";
import { getServiceBusClient } from "./servicebus/client";
import { ServiceBusDeadLetters } from "./servicebus/deadLetters";
import { ServiceBusNotificationQueue } from "./servicebus/notificationQueue";

export interface NotificationsService extends NotificationQueue {
  /** Deliveries recorded for the order (what GET /orders/{id}/notifications returns). */
  list(orderId: string): Promise<NotificationDelivery[]>;
}

export interface HealthChecks {
  /** Resolves when the dependency answers; rejects with the reason otherwise. */
  cosmos(): Promise<void>;
  serviceBus(): Promise<void>;
}

export interface Services {
  orders: OrderStore;
  payments: PaymentsLedger;
  gateway: PaymentGateway;
  notifier: Notifier;
  notifications: NotificationsService;
  rejectedMessages: RejectedMessages;
  audit: AuditLog;
  deadLetters: DeadLetters;
  health: HealthChecks;
}

function container(name: ContainerName): Container {
  return getCosmosDatabase().container(name);
}

const factories: { [K in keyof Services]: (s: Services) => Services[K] } = {
  orders: () => new CosmosOrderStore(container("orders")),
  payments: () => new CosmosPaymentsLedger(container("payments")),
  gateway: (s) => new SimulatedGateway({ ledger: s.payments }),
  notifier: () => new BuiltInNotifier(new CosmosNotificationDeliveries(container("notifications"))),
  notifications: () => {
    const queue = new ServiceBusNotificationQueue(getServiceBusClient);
    const deliveries = new CosmosNotificationDeliveries(container("notifications"));
    return { enqueue: (m) => queue.enqueue(m), list: (id) => deliveries.list(id) };
  },
  rejectedMessages: () => new CosmosRejectedMessages(container("rejected-messages")),
  audit: () => new CosmosAuditLog(container("audit")),
  deadLetters: () => new ServiceBusDeadLetters(getServiceBusClient),
  health: () => {
    const queue = new ServiceBusNotificationQueue(getServiceBusClient);
    return {
      cosmos: async () => {
        await getCosmosDatabase().read();
      },
      serviceBus: () => queue.check(),
    };
  },
};

let overrides: Partial<Services> = {};
let created: Partial<Services> = {};
let services: Services | undefined;

function build(): Services {
  const result = {} as Services;
  for (const key of Object.keys(factories) as (keyof Services)[]) {
    Object.defineProperty(result, key, {
      enumerable: true,
      get: () => {
        const value = overrides[key] ?? created[key] ?? factories[key](result);
        if (!overrides[key]) (created as Record<string, unknown>)[key] = value;
        return value;
      },
    });
  }
  return result;
}

/** The process-wide services; each is created lazily on first access. */
export function getServices(): Services {
  services ??= build();
  return services;
}

/** Replaces some services (tests); the rest keep their real, lazily created implementation. */
export function setServicesForTesting(partial: Partial<Services>): void {
  overrides = { ...overrides, ...partial };
}

/** Drops overrides and every created service. */
export function resetServices(): void {
  overrides = {};
  created = {};
}
