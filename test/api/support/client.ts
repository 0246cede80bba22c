// The real durable-functions DurableClient, built from a binding payload (what df.getClient does
// inside a function), for tests that call intake code directly.
import type { DurableClient } from "durable-functions";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DurableClient: Client } = require("durable-functions/lib/src/durableClient/DurableClient");

export function durableClientFor(binding: Record<string, unknown>): DurableClient {
  return new Client(binding) as DurableClient;
}
