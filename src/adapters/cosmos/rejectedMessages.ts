// Invalid orders-inbound messages (container `rejected-messages`, pk /id): a v4 Node trigger
// cannot dead-letter with a reason, so the body and the reasons are kept here instead, with the
// card's token (never its number) when the number was valid, and the operator's resolution.
import type { Container, SqlParameter } from "@azure/cosmos";
import { ConcurrentUpdateError, MAX_UPDATE_ATTEMPTS } from "../errors";
import type { Page, RejectedMessage, RejectedMessages, RejectedState, Resolution } from "../ports";
import { scrubCardNumbers } from "../scrub";
import { cosmosStatus, withoutSystemProperties } from "./errors";
import { queryPage } from "./page";

type Stored = RejectedMessage & { _etag?: string };

export class CosmosRejectedMessages implements RejectedMessages {
  constructor(private readonly container: Container) {}

  async record(message: RejectedMessage): Promise<void> {
    const doc: RejectedMessage = {
      ...message,
      body: scrubCardNumbers(message.body),
      reasons: message.reasons.map((r) => ({ ...r, detail: scrubCardNumbers(r.detail) as string })),
      state: "rejected",
    };
    // A redelivered message overwrites its own record, unless an operator already resolved it.
    const existing = await this.get(message.id);
    if (existing && (existing.state ?? "rejected") !== "rejected") return;
    await this.container.items.upsert<RejectedMessage>(doc);
  }

  async get(id: string): Promise<RejectedMessage | undefined> {
    const { resource } = await this.container.item(id, id).read<Stored>();
    return resource ? withoutSystemProperties(resource) : undefined;
  }

  async list(query: {
    state?: RejectedState;
    limit: number;
    continuationToken?: string;
  }): Promise<Page<RejectedMessage>> {
    const parameters: SqlParameter[] = [];
    let where = "";
    if (query.state === "rejected") {
      where = " WHERE (NOT IS_DEFINED(c.state) OR c.state = 'rejected')";
    } else if (query.state !== undefined) {
      where = " WHERE c.state = @state";
      parameters.push({ name: "@state", value: query.state });
    }
    return queryPage<RejectedMessage>(
      this.container,
      { query: `SELECT * FROM c${where} ORDER BY c.rejectedAt DESC`, parameters },
      query.limit,
      query.continuationToken,
    );
  }

  async resolve(
    id: string,
    state: Exclude<RejectedState, "rejected">,
    resolution: Resolution,
  ): Promise<RejectedMessage> {
    for (let attempt = 1; attempt <= MAX_UPDATE_ATTEMPTS; attempt++) {
      const { resource } = await this.container.item(id, id).read<Stored>();
      if (!resource) throw new Error(`rejected message ${id} does not exist`);
      const next: RejectedMessage = { ...withoutSystemProperties(resource), state, resolution };
      try {
        const { resource: saved } = await this.container.item(id, id).replace(next, {
          accessCondition: { type: "IfMatch", condition: resource._etag! },
        });
        return withoutSystemProperties((saved as RejectedMessage | undefined) ?? next);
      } catch (err) {
        if (cosmosStatus(err) !== 412) throw err;
      }
    }
    throw new ConcurrentUpdateError(id, MAX_UPDATE_ATTEMPTS);
  }
}
