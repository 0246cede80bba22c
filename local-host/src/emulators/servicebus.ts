import path from "node:path";

export const STANDARD_SERVICE_BUS_PORT = 5672;

export interface ServiceBusOptions {
  host: string;
  port: number;
  config?: string;
  dataDir?: string;
}

export interface RunningServiceBus {
  port: number;
  connectionString: string;
  close(): Promise<void>;
}

type StartServiceBusEmulator = (options: ServiceBusOptions) => Promise<RunningServiceBus>;

/**
 * Starts the project's Service Bus emulator (servicebus-emulator/src). It is loaded at run time
 * by path so this module works from the sources (ts-jest) and from dist/ alike.
 */
export async function startServiceBus(options: ServiceBusOptions): Promise<RunningServiceBus> {
  const modulePath = path.join(__dirname, "..", "..", "..", "servicebus-emulator", "src", "index");
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modulePath) as { startServiceBusEmulator?: StartServiceBusEmulator };
  if (typeof mod.startServiceBusEmulator !== "function") {
    throw new Error(`${modulePath} does not export startServiceBusEmulator`);
  }
  return mod.startServiceBusEmulator(options);
}
