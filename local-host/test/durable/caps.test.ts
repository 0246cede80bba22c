import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { DurableEngine } from "../../src/durable";

async function capsWith(durableTask: Record<string, unknown> | undefined) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "caps-"));
  const engine = await DurableEngine.open({
    dataDir,
    taskHub: "Caps",
    functions: [],
    invoker: {
      invoke: () => Promise.reject(new Error("nothing runs in this test")),
    },
    publicBaseUrl: "http://localhost:7071",
    rpcBaseUrl: "http://127.0.0.1:17071/durabletask/",
    durableTask,
  });
  try {
    return {
      activities: engine.maxConcurrentActivities,
      orchestrations: engine.maxConcurrentOrchestrations,
    };
  } finally {
    await engine.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

describe("durable concurrency caps", () => {
  it("follows host.json where the app sets them, numbers or strings (as overrides arrive)", async () => {
    expect(
      await capsWith({
        maxConcurrentActivityFunctions: 20,
        maxConcurrentOrchestratorFunctions: "10",
      }),
    ).toEqual({ activities: 20, orchestrations: 10 });
  });

  it("uses the local host's own default of 100 per CPU where host.json sets none", async () => {
    const cpus = os.cpus().length;
    expect(await capsWith(undefined)).toEqual({
      activities: 100 * cpus,
      orchestrations: 100 * cpus,
    });
    expect(await capsWith({ maxConcurrentActivityFunctions: 0 })).toEqual({
      activities: 100 * cpus,
      orchestrations: 100 * cpus,
    });
  });
});
