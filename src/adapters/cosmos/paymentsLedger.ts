// The `payments` ledger (pk /orderId): one document per charge, decline and refund, under
// deterministic ids, so a repeated write is a 409 that resolves to the first entry.
import type { Container } from "@azure/cosmos";
import type { LedgerEntry, PaymentsLedger } from "../ports";
import { cosmosStatus, withoutSystemProperties } from "./errors";

export class CosmosPaymentsLedger implements PaymentsLedger {
  constructor(private readonly container: Container) {}

  async record(entry: LedgerEntry): Promise<{ created: boolean; entry: LedgerEntry }> {
    try {
      const { resource } = await this.container.items.create<LedgerEntry>(entry);
      return { created: true, entry: withoutSystemProperties(resource ?? entry) };
    } catch (err) {
      if (cosmosStatus(err) !== 409) throw err;
      const existing = await this.get(entry.orderId, entry.id);
      if (!existing) throw err;
      return { created: false, entry: existing };
    }
  }

  async get(orderId: string, id: string): Promise<LedgerEntry | undefined> {
    const { resource } = await this.container.item(id, orderId).read<LedgerEntry>();
    return resource ? withoutSystemProperties(resource) : undefined;
  }

  async list(orderId: string): Promise<LedgerEntry[]> {
    const { resources } = await this.container.items
      .query<LedgerEntry>(
        {
          query: "SELECT * FROM c WHERE c.orderId = @orderId ORDER BY c.createdAt ASC",
          parameters: [{ name: "@orderId", value: orderId }],
        },
        { partitionKey: orderId },
      )
      .fetchAll();
    return resources.map((doc) => withoutSystemProperties(doc));
  }
}
