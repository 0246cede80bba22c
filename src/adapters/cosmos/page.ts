// One page of a Cosmos query. A cross-partition page may come back empty with a continuation:
// keep going until items arrive or the results end, so callers never see an empty page that is
// not the last.
import type { Container, SqlQuerySpec } from "@azure/cosmos";
import type { Page } from "../ports";
import { withoutSystemProperties } from "./errors";

export async function queryPage<T extends object>(
  container: Container,
  query: SqlQuerySpec,
  limit: number,
  continuationToken: string | undefined,
): Promise<Page<T>> {
  const iterator = container.items.query<T>(query, { maxItemCount: limit, continuationToken });
  let page = await iterator.fetchNext();
  while (page.resources.length === 0 && page.continuationToken && iterator.hasMoreResults()) {
    page = await iterator.fetchNext();
  }
  const result: Page<T> = { items: page.resources.map((doc) => withoutSystemProperties(doc)) };
  if (page.continuationToken) result.continuationToken = page.continuationToken;
  return result;
}
