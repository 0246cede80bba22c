import { amqpTotals, startServiceBusEmulator } from "../../../servicebus-emulator/src/index";
import { addCounterSource } from "../counters";

export const STANDARD_SERVICE_BUS_PORT = 5672;

export interface ServiceBusOptions {
  host: string;
  port: number;
  /** Path of a Config.json (Microsoft's emulator format); an empty namespace when absent. */
  config?: string;
  dataDir?: string;
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
}

export interface RunningServiceBus {
  port: number;
  connectionString: string;
  close(): Promise<void>;
}

const EMPTY_CONFIG = {
  UserConfig: { Namespaces: [{ Name: "sbemulatorns", Queues: [], Topics: [] }] },
};

/** Starts the project's Service Bus emulator (servicebus-emulator/src) in this process. */
export function startServiceBus(options: ServiceBusOptions): Promise<RunningServiceBus> {
  addCounterSource(() => {
    const t = amqpTotals();
    return {
      "serviceBus.received": t.received,
      "serviceBus.delivered": t.delivered,
      "serviceBus.settled": t.settled,
    };
  });
  return startServiceBusEmulator({ ...options, config: options.config ?? EMPTY_CONFIG });
}
