import { FunctionsCore } from "../../src/worker/functionsCore";

const mockCore = new FunctionsCore();
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { EventType } from "../../src/durable/types";
import {
  compareVersions,
  refusesVersion,
  versioningOf,
  type VersioningOptions,
} from "../../src/durable/versioning";
import { startHarness, until, waitDone, type Harness } from "./harness";

df.app.activity("echoVersion", { handler: (v: string | null) => v });

// Returns the version it runs under, after an optional approval event.
df.app.orchestration("versioned", function* (ctx: OrchestrationContext) {
  if (ctx.df.getInput<{ wait?: boolean }>()?.wait) yield ctx.df.waitForExternalEvent("go");
  const seen: string | null = yield ctx.df.callActivity("echoVersion", ctx.df.version ?? null);
  return seen;
});
df.app.orchestration("parentOfVersioned", function* (ctx: OrchestrationContext) {
  const child: string | null = yield ctx.df.callSubOrchestrator(
    "versioned",
    {},
    `${ctx.df.instanceId}:child`,
  );
  return { parent: ctx.df.version ?? null, child };
});

const opened: Harness[] = [];
async function host(durableTask: Record<string, unknown>, dataDir?: string): Promise<Harness> {
  const h = await startHarness(mockCore, { durableTask, ...(dataDir ? { dataDir } : {}) });
  opened.push(h);
  return h;
}
/** The same data directory served by a host with other settings (a redeployment). */
async function redeploy(h: Harness, durableTask: Record<string, unknown>): Promise<void> {
  await h.engine.stop();
  await h.reopen({ durableTask });
}
afterEach(async () => {
  for (const h of opened.splice(0)) await h.close();
});

describe("version comparison (VersioningSettings.CompareVersions)", () => {
  it.each([
    ["1.0", "1.0", 0],
    ["1.1", "1.0", 1],
    ["1.0", "1.1", -1],
    ["1.0.1", "1.0.0", 1],
    ["1.10", "1.9", 1], // numeric, not textual
    ["1.0", "1.0.0", -1], // System.Version: an absent build is older than 0
    ["", "1.0", -1], // no version is older than any version
    ["1.0", "", 1],
    ["", "", 0],
    ["  ", "", 0],
    ["2", "1", 1], // single numbers are not System.Version: string comparison
    ["alpha", "beta", -1],
    ["Beta", "beta", 0], // case-insensitive
  ])("compare(%p, %p) has the sign of %p", (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });

  it("refuses by strategy: None never, Strict on any difference, CurrentOrOlder only newer", () => {
    const at = (matchStrategy: VersioningOptions["matchStrategy"]): VersioningOptions => ({
      defaultVersion: "2.0",
      matchStrategy,
      failureStrategy: "Reject",
    });
    expect(["", "1.0", "2.0", "3.0"].map((v) => refusesVersion(at("None"), v))).toEqual([
      false,
      false,
      false,
      false,
    ]);
    expect(["", "1.0", "2.0", "3.0"].map((v) => refusesVersion(at("Strict"), v))).toEqual([
      true,
      true,
      false,
      true,
    ]);
    expect(["", "1.0", "2.0", "3.0"].map((v) => refusesVersion(at("CurrentOrOlder"), v))).toEqual([
      false,
      false,
      false,
      true,
    ]);
    // A host without defaultVersion runs only unversioned instances under CurrentOrOlder.
    const none = { ...at("CurrentOrOlder"), defaultVersion: "" };
    expect([refusesVersion(none, ""), refusesVersion(none, "1.0")]).toEqual([false, true]);
  });

  it("reads host.json settings with the extension's defaults, any key or value case", () => {
    expect(versioningOf(undefined)).toEqual({
      defaultVersion: "",
      matchStrategy: "CurrentOrOlder",
      failureStrategy: "Reject",
    });
    expect(
      versioningOf({
        DefaultVersion: "2.0",
        versionmatchstrategy: "strict",
        versionFailureStrategy: "FAIL",
      }),
    ).toEqual({ defaultVersion: "2.0", matchStrategy: "Strict", failureStrategy: "Fail" });
    expect(versioningOf({ defaultVersion: null, versionMatchStrategy: "0" }).matchStrategy).toBe(
      "None",
    );
    expect(() => versioningOf({ versionMatchStrategy: "Newest" })).toThrow(
      /versionMatchStrategy 'Newest' is not one of None, Strict, CurrentOrOlder/,
    );
  });
});

describe("orchestration versioning in the engine", () => {
  it("keeps the version given at start, and passes it in ExecutionStarted.Version", async () => {
    const h = await host({ defaultVersion: "2.0" });
    const id = await h.client.startNew("versioned", { input: {}, version: "1.5" });
    const status = await waitDone(h, id);
    expect(status.output).toBe("1.5");
    expect(h.engine.getInstance(id)!.version).toBe("1.5");
    const started = h.engine
      .getInstance(id)!
      .history.find((e) => e.EventType === EventType.ExecutionStarted);
    expect(started?.Version).toBe("1.5");
  });

  it("gives instances and sub-orchestrations started without a version host.json defaultVersion", async () => {
    const h = await host({ defaultVersion: "2.0" });
    const id = await h.client.startNew("parentOfVersioned", { input: {} });
    const status = await waitDone(h, id);
    expect(status.output).toEqual({ parent: "2.0", child: "2.0" });
  });

  it("leaves instances unversioned without defaultVersion (context.df.version is empty)", async () => {
    const h = await host({});
    const id = await h.client.startNew("versioned", { input: {} });
    expect((await waitDone(h, id)).output).toBe("");
  });

  it("an instance started on 1.0 finishes as 1.0 after the host moves to 2.0 (CurrentOrOlder)", async () => {
    const h = await host({ defaultVersion: "1.0" });
    const old = await h.client.startNew("versioned", { input: { wait: true } });
    await until(() => h.engine.getInstance(old)?.status === "Running", 10_000, "old running");
    await redeploy(h, { defaultVersion: "2.0" });
    const fresh = await h.client.startNew("versioned", { input: {} });
    await h.client.raiseEvent(old, "go", null);
    expect((await waitDone(h, old)).output).toBe("1.0");
    expect((await waitDone(h, fresh)).output).toBe("2.0");
  });

  it("CurrentOrOlder + Reject: a host on an older version leaves a newer instance queued, events included", async () => {
    const h = await host({ defaultVersion: "2.0" });
    const id = await h.client.startNew("versioned", { input: { wait: true } });
    await until(() => h.engine.getInstance(id)?.status === "Running", 10_000, "running");
    // Rolled back to 1.0: the 2.0 instance must not run on 1.0 code.
    await redeploy(h, { defaultVersion: "1.0" });
    const invocationsBefore = h.invocations.length;
    await h.client.raiseEvent(id, "go", null);
    await new Promise((r) => setTimeout(r, 300));
    const inst = h.engine.getInstance(id)!;
    expect(inst.status).toBe("Running");
    expect(inst.inbox.map((m) => m.event.Name)).toEqual(["go"]);
    expect(h.invocations.slice(invocationsBefore)).toEqual([]);
    // A host that accepts 2.0 picks it up where it was.
    await redeploy(h, { defaultVersion: "2.0" });
    expect((await waitDone(h, id)).output).toBe("2.0");
  });

  it("Strict + Reject: only the exact version runs; the others wait for their host", async () => {
    const h = await host({ defaultVersion: "2.0", versionMatchStrategy: "Strict" });
    const v1 = await h.client.startNew("versioned", { input: {}, version: "1.0" });
    const v2 = await h.client.startNew("versioned", { input: {} });
    expect((await waitDone(h, v2)).output).toBe("2.0");
    await new Promise((r) => setTimeout(r, 200));
    expect(h.engine.getInstance(v1)!.status).toBe("Pending");
    expect(h.engine.getInstance(v1)!.history).toEqual([]);
    await redeploy(h, { defaultVersion: "1.0", versionMatchStrategy: "Strict" });
    expect((await waitDone(h, v1)).output).toBe("1.0");
  });

  it("Fail: an instance whose version the host refuses fails with VersionMismatch", async () => {
    const h = await host({
      defaultVersion: "2.0",
      versionMatchStrategy: "Strict",
      versionFailureStrategy: "Fail",
    });
    const id = await h.client.startNew("versioned", { input: {}, version: "1.0" });
    const status = await waitDone(h, id);
    expect(status.runtimeStatus).toBe("Failed");
    expect(status.output).toBe("Orchestration version did not comply with Worker Versioning");
    const completed = h.engine.getInstance(id)!.history.at(-1)!;
    expect(completed.EventType).toBe(EventType.ExecutionCompleted);
    expect(completed.FailureDetails).toMatchObject({
      ErrorType: "VersionMismatch",
      IsNonRetriable: true,
    });
    // The orchestrator itself never ran.
    expect(h.invocations).not.toContain("echoVersion");
  });
});
