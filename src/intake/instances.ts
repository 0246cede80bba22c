// Reading an orchestration instance through the Durable client. The SDK throws on HTTP 404 (no
// such instance) instead of returning undefined; intake and the status endpoints need "not
// started" as a normal answer, so that one case is mapped to undefined here.
import type { DurableClient, DurableOrchestrationStatus } from "durable-functions";

export type InstanceClient = Pick<DurableClient, "getStatus" | "startNew" | "raiseEvent">;

/** Runtime statuses that mean the orchestration is still going. */
export const IN_PROGRESS = new Set(["Pending", "Running", "Suspended", "ContinuedAsNew"]);

function isNotFound(err: unknown): boolean {
  return err instanceof Error && /HTTP 404 response/.test(err.message);
}

export async function getInstance(
  client: Pick<DurableClient, "getStatus">,
  instanceId: string,
): Promise<DurableOrchestrationStatus | undefined> {
  try {
    const status = await client.getStatus(instanceId);
    // Older extension versions answer an unknown id with an empty status instead of 404.
    return status && status.runtimeStatus ? status : undefined;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}
