// The audit log (container `audit`, pk /id, default TTL = the stated retention): one document per
// operator or approver action, written once and never changed.
import type { Container, SqlParameter } from "@azure/cosmos";
import type { AuditEntry, AuditLog, Page } from "../ports";
import { queryPage } from "./page";

export class CosmosAuditLog implements AuditLog {
  constructor(private readonly container: Container) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.container.items.create<AuditEntry>(entry);
  }

  async list(query: {
    orderId?: string;
    actor?: string;
    limit: number;
    continuationToken?: string;
  }): Promise<Page<AuditEntry>> {
    const filters: string[] = [];
    const parameters: SqlParameter[] = [];
    if (query.orderId !== undefined) {
      filters.push(
        "((c.target.kind = 'order' AND c.target.id = @orderId) OR c.details.orderId = @orderId)",
      );
      parameters.push({ name: "@orderId", value: query.orderId });
    }
    if (query.actor !== undefined) {
      filters.push("c.actor.id = @actor");
      parameters.push({ name: "@actor", value: query.actor });
    }
    const where = filters.length ? ` WHERE ${filters.join(" AND ")}` : "";
    return queryPage<AuditEntry>(
      this.container,
      { query: `SELECT * FROM c${where} ORDER BY c.at DESC`, parameters },
      query.limit,
      query.continuationToken,
    );
  }
}
