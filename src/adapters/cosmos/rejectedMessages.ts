// Invalid orders-inbound messages (container `rejected-messages`, pk /id): a v4 Node trigger
// cannot dead-letter with a reason, so the body and the reasons are kept here instead.
import type { Container } from "@azure/cosmos";
import type { RejectedMessage, RejectedMessages } from "../ports";
import { scrubCardNumbers } from "../scrub";
import { withoutSystemProperties } from "./errors";

export class CosmosRejectedMessages implements RejectedMessages {
  constructor(private readonly container: Container) {}

  async record(message: RejectedMessage): Promise<void> {
    // Upsert: a redelivered message overwrites its own record rather than failing.
    await this.container.items.upsert<RejectedMessage>({
      ...message,
      body: scrubCardNumbers(message.body),
      reasons: message.reasons.map((r) => ({ ...r, detail: scrubCardNumbers(r.detail) as string })),
    });
  }

  async list(query: { limit?: number } = {}): Promise<RejectedMessage[]> {
    const { resources } = await this.container.items
      .query<RejectedMessage>({
        query: "SELECT TOP @limit * FROM c ORDER BY c.rejectedAt DESC",
        parameters: [{ name: "@limit", value: query.limit ?? 100 }],
      })
      .fetchAll();
    return resources.map((doc) => withoutSystemProperties(doc));
  }
}
