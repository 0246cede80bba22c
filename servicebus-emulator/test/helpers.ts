import { ServiceBusClient } from "@azure/service-bus";
import { startServiceBusEmulator, type ServiceBusEmulator } from "../src";

const queue = (Name: string, Properties: Record<string, unknown> = {}): object => ({
  Name,
  Properties: {
    LockDuration: "PT2S",
    MaxDeliveryCount: 3,
    DefaultMessageTimeToLive: "PT1H",
    ...Properties,
  },
});

/** Entities for the tests: short locks so expiry paths run in seconds. */
export const testConfig = {
  UserConfig: {
    Namespaces: [
      {
        Name: "sbemulatorns",
        Queues: [
          queue("q-basic"),
          queue("q-order"),
          queue("q-settle"),
          queue("q-maxdelivery", { MaxDeliveryCount: 2 }),
          queue("q-lock"),
          queue("q-subscribe"),
          queue("q-mgmt"),
          queue("q-bulk"),
          queue("q-rad"),
          queue("q-ttl", { DeadLetteringOnMessageExpiration: true }),
          queue("q-ttl-drop", {
            DeadLetteringOnMessageExpiration: false,
            DefaultMessageTimeToLive: "PT1S",
          }),
          queue("q-dedup", {
            RequiresDuplicateDetection: true,
            DuplicateDetectionHistoryTimeWindow: "PT1M",
          }),
          queue("q-session", { RequiresSession: true }),
          queue("q-session-next", { RequiresSession: true }),
          queue("q-session-lock", { RequiresSession: true }),
        ],
        Topics: [
          {
            Name: "t-orders",
            Properties: { DefaultMessageTimeToLive: "PT1H" },
            Subscriptions: [
              { Name: "all", Properties: { LockDuration: "PT5S" } },
              {
                Name: "eu",
                Properties: { LockDuration: "PT5S" },
                Rules: [
                  {
                    Name: "region-eu",
                    Properties: {
                      FilterType: "Correlation",
                      CorrelationFilter: { Properties: { region: "eu" } },
                    },
                  },
                ],
              },
              {
                Name: "json",
                Rules: [
                  {
                    Name: "ct",
                    Properties: {
                      FilterType: "Correlation",
                      CorrelationFilter: { ContentType: "application/json", Label: "order" },
                    },
                  },
                ],
              },
              {
                Name: "big",
                Rules: [
                  {
                    Name: "sql",
                    Properties: {
                      FilterType: "Sql",
                      SqlFilter: { SqlExpression: "amount > 100 AND sys.Label = 'order'" },
                    },
                  },
                ],
              },
            ],
          },
        ],
      },
    ],
  },
};

export interface Harness {
  emulator: ServiceBusEmulator;
  client: ServiceBusClient;
  close(): Promise<void>;
}

export async function startHarness(config: object = testConfig): Promise<Harness> {
  const emulator = await startServiceBusEmulator({ port: 0, config });
  const client = new ServiceBusClient(emulator.connectionString, {
    retryOptions: { maxRetries: 1, timeoutInMs: 10_000 },
  });
  return {
    emulator,
    client,
    async close() {
      await client.close();
      await emulator.close();
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
