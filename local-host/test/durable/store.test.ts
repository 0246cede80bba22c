// The bounded durable store: only live instances in the hot state (and in snapshots); finished
// ones in the archive, still readable (status, history, listing with filters) and purgeable;
// restart after compaction recovers all; retention; and a data dir written by the engine before
// this store (fixtures/v1-store, see generate-v1-store.ts) opens with every instance intact.
import { FunctionsCore } from "../../src/worker/functionsCore";

const mockCore = new FunctionsCore();
jest.mock("@azure/functions-core", () => mockCore.api, { virtual: true });

import * as fs from "node:fs";
import * as path from "node:path";
import * as df from "durable-functions";
import type { OrchestrationContext } from "durable-functions";
import { EventType, TERMINAL } from "../../src/durable/types";
import { startHarness, tempDir, until, waitDone, type Harness } from "./harness";

df.app.activity("upper", { handler: (x: string) => String(x).toUpperCase() });
df.app.activity("boom", {
  handler: () => {
    throw new Error("kaboom");
  },
});
df.app.orchestration("chain", function* (ctx: OrchestrationContext) {
  const a: string = yield ctx.df.callActivity("upper", ctx.df.getInput<string>());
  ctx.df.setCustomStatus({ stage: "half" });
  const b: string = yield ctx.df.callActivity("upper", `${a}-b`);
  return `${a}|${b}`;
});
df.app.orchestration("failer", function* (ctx: OrchestrationContext) {
  yield ctx.df.callActivity("boom", 1);
  return "never";
});
df.app.orchestration("waiter", function* (ctx: OrchestrationContext) {
  const v: unknown = yield ctx.df.waitForExternalEvent("go");
  return v;
});
df.app.orchestration("parent", function* (ctx: OrchestrationContext) {
  const r: string = yield ctx.df.callSubOrchestrator("chain", "kid", `${ctx.df.instanceId}:kid`);
  return `parent(${r})`;
});
df.app.entity("counter", (ctx) => {
  ctx.df.setState(((ctx.df.getState(() => 0) as number) ?? 0) + (ctx.df.getInput() as number));
});

const FIXTURE = path.join(__dirname, "fixtures", "v1-store");
interface Expected {
  status: { instanceId: string; runtimeStatus: string } & Record<string, unknown>;
  historyLength: number;
}

function liveIds(h: Harness): string[] {
  return [...h.engine.state.live.keys()].sort();
}

async function statusOf(h: Harness, id: string) {
  return h.request("GET", `/durabletask/instances/${id}?showHistory=true&showHistoryOutput=true`);
}

function snapshotText(dataDir: string): string {
  const dir = path.join(dataDir, "durable");
  const snap = fs.readdirSync(dir).find((n) => n.endsWith(".snap"));
  return snap ? fs.readFileSync(path.join(dir, snap), "utf8") : "";
}

function archiveFiles(dataDir: string): string[] {
  return fs.readdirSync(path.join(dataDir, "durable-archive")).filter((n) => n.endsWith(".arc"));
}

describe("a data dir written before the bounded store (v1: one snapshot of every instance)", () => {
  let h: Harness;
  const expected = JSON.parse(
    fs.readFileSync(path.join(FIXTURE, "expected.json"), "utf8"),
  ) as Expected[];

  beforeAll(async () => {
    const dataDir = tempDir("durable-v1-");
    fs.mkdirSync(path.join(dataDir, "durable"));
    for (const name of fs.readdirSync(FIXTURE).filter((n) => n.endsWith(".bin")))
      fs.copyFileSync(path.join(FIXTURE, name), path.join(dataDir, "durable", name.slice(0, -4)));
    h = await startHarness(mockCore, { dataDir, fsync: true });
  });
  afterAll(() => h.close());

  async function expectEveryInstance(): Promise<void> {
    for (const e of expected) {
      const res = await statusOf(h, e.status.instanceId);
      const history = h.engine.getInstance(e.status.instanceId)!.history;
      if (["Running", "Suspended"].includes(e.status.runtimeStatus)) {
        // Recovery replays live instances (a new episode: lastUpdatedTime moves on).
        expect({ ...(res.body as object), lastUpdatedTime: "" }).toEqual({
          ...e.status,
          lastUpdatedTime: "",
        });
        expect(history.length).toBeGreaterThanOrEqual(e.historyLength);
      } else {
        expect(res.body).toEqual(e.status);
        expect(history).toHaveLength(e.historyLength);
      }
    }
    expect((await statusOf(h, "c-00")).status).toBe(404); // purged in the old log
    expect(h.engine.getEntity("@counter@k")?.state).toBe("7");
  }

  it("opens with every instance, its status, output, custom status and history", async () => {
    expect(expected.length).toBe(32);
    await expectEveryInstance();
    expect(liveIds(h)).toEqual(["s-1", "w-1", "w-2"]);
    expect(h.engine.state.finished.size).toBe(29);
  });

  it("moves the finished instances to the archive at the first compaction; all stay readable", async () => {
    await h.engine.stop();
    expect(archiveFiles(h.dataDir)).toHaveLength(1);
    expect(snapshotText(h.dataDir)).not.toContain('"c-01"');
    await h.reopen({ fsync: true });
    await expectEveryInstance();
    expect(liveIds(h)).toEqual(["s-1", "w-1", "w-2"]);
  });

  it("runs the instances that were live in the old store to the end", async () => {
    await h.client.raiseEvent("w-1", "go", "went");
    expect((await waitDone(h, "w-1")).output).toBe("went");
    await h.client.resume("s-1", "back");
    await h.client.raiseEvent("s-1", "go", 2);
    expect((await waitDone(h, "s-1")).output).toBe(2);
    expect(liveIds(h)).toEqual(["w-2"]);
  });
});

describe("hot state and finished store", () => {
  let h: Harness;
  beforeEach(async () => {
    // Compact on every commit that finds more than 2 KB of log: many snapshots and archive files.
    h = await startHarness(mockCore, { fsync: false, compactMinBytes: 2048 });
  });
  afterEach(() => h.close());

  async function runMany(n: number, prefix = "o"): Promise<string[]> {
    const ids = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, "0")}`);
    await Promise.all(
      ids.map((id, i) => h.client.startNew("chain", { instanceId: id, input: `x${i}` })),
    );
    for (const id of ids) await waitDone(h, id);
    return ids;
  }

  it("holds only live instances; finished ones are readable, listed with filters and purgeable", async () => {
    await h.client.startNew("waiter", { instanceId: "live-1" });
    const ids = await runMany(40);
    await h.client.startNew("failer", { instanceId: "bad-1" });
    await waitDone(h, "bad-1");
    await until(
      () => h.engine.compactions > 0 && archiveFiles(h.dataDir).length > 0,
      5000,
      "a compaction with an archive file",
    );

    expect(liveIds(h)).toEqual(["live-1"]);
    for (const inst of h.engine.state.live.values()) expect(TERMINAL.has(inst.status)).toBe(false);
    expect(h.engine.state.finished.size).toBe(41);
    // The snapshot holds the live instance and no finished one. (The newest compaction may have
    // run while some o-* were still running, so which of them it holds depends on timing; none
    // may be there as finished.)
    const snap = snapshotText(h.dataDir);
    expect(snap).toContain('"live-1"');
    expect(snap).not.toMatch(/"status":"(Completed|Failed|Terminated|Canceled)"/);

    const one = await statusOf(h, "o-007");
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ runtimeStatus: "Completed", output: "X7|X7-B", input: "x7" });
    const history = (one.body as { historyEvents: { EventType: string }[] }).historyEvents;
    expect(history.map((e) => e.EventType)).toEqual([
      "ExecutionStarted",
      "TaskCompleted",
      "TaskCompleted",
      "ExecutionCompleted",
    ]);

    const completed = await h.request(
      "GET",
      "/durabletask/instances/?runtimeStatus=Completed&top=25",
    );
    expect((completed.body as unknown[]).length).toBe(25);
    const token = completed.headers.get("x-ms-continuation-token")!;
    const rest = await h.request(
      "GET",
      "/durabletask/instances/?runtimeStatus=Completed&top=25",
      undefined,
      {
        "x-ms-continuation-token": token,
      },
    );
    const listed = [
      ...(completed.body as { instanceId: string }[]),
      ...(rest.body as { instanceId: string }[]),
    ];
    expect(listed.map((i) => i.instanceId).sort()).toEqual(ids);
    const running = await h.request("GET", "/durabletask/instances/?runtimeStatus=Running,Failed");
    expect((running.body as { instanceId: string }[]).map((i) => i.instanceId).sort()).toEqual([
      "bad-1",
      "live-1",
    ]);
    const prefixed = await h.request("GET", "/durabletask/instances/?instanceIdPrefix=o-01");
    expect((prefixed.body as { output: string }[]).map((i) => i.output)).toContain("X12|X12-B");
    expect((prefixed.body as unknown[]).length).toBe(10);

    expect((await h.request("DELETE", "/durabletask/instances/o-003")).body).toEqual({
      instancesDeleted: 1,
    });
    expect((await statusOf(h, "o-003")).status).toBe(404);
    const from = encodeURIComponent("2000-01-01T00:00:00Z");
    const byFilter = await h.request(
      "DELETE",
      `/durabletask/instances/?createdTimeFrom=${from}&instanceIdPrefix=o-02`,
    );
    expect(byFilter.body).toEqual({ instancesDeleted: 10 });
    expect(h.engine.state.finished.size).toBe(30);

    // Started again under an archived id: the new run replaces the old record.
    await h.client.startNew("chain", { instanceId: "o-001", input: "again" });
    expect((await waitDone(h, "o-001")).output).toBe("AGAIN|AGAIN-B");

    // A restart after all those compactions (clean, then a crash) recovers every instance.
    const check = async () => {
      expect(liveIds(h)).toEqual(["live-1"]);
      expect(h.engine.state.finished.size).toBe(30);
      for (const id of ids) {
        const res = await statusOf(h, id);
        const gone = id === "o-003" || id.startsWith("o-02");
        expect(res.status).toBe(gone ? 404 : 200);
        if (!gone) expect((res.body as { runtimeStatus: string }).runtimeStatus).toBe("Completed");
      }
      expect(((await statusOf(h, "o-001")).body as { output: string }).output).toBe(
        "AGAIN|AGAIN-B",
      );
      expect(((await statusOf(h, "bad-1")).body as { runtimeStatus: string }).runtimeStatus).toBe(
        "Failed",
      );
    };
    await h.engine.stop();
    await h.reopen({ compactMinBytes: 2048 });
    await check();
    await runMany(5, "n"); // more compactions on the reopened store
    await h.client.purgeInstanceHistory("o-000");
    await h.engine.abandon();
    await h.reopen({ compactMinBytes: 2048 });
    expect((await statusOf(h, "o-000")).status).toBe(404);
    expect(h.engine.state.finished.size).toBe(29 + 5);
    await h.client.raiseEvent("live-1", "go", "done");
    expect((await waitDone(h, "live-1")).output).toBe("done");
    expect(h.engine.state.live.size).toBe(0);
  });

  it("reads archived instances back by offset after a restart, whatever their ids' bytes", async () => {
    // Multi-byte ids make the index's UTF-8 length differ from its text length, and enough
    // records per file take the offsets across digit boundaries: both shift every offset.
    const ids = [
      ...(await runMany(12, "ü")),
      ...(await runMany(12, "注文")),
      ...(await runMany(12, "😀")),
    ];
    await h.engine.stop(); // the final compaction archives every finished instance
    expect(archiveFiles(h.dataDir).length).toBeGreaterThan(0);
    await h.reopen({ fsync: false, compactMinBytes: 2048 });
    expect(h.engine.state.live.size).toBe(0);
    for (const [i, id] of ids.entries()) {
      const res = await statusOf(h, encodeURIComponent(id));
      expect(res.status).toBe(200);
      const n = i % 12;
      expect(res.body).toMatchObject({ instanceId: id, output: `X${n}|X${n}-B` });
    }
  });

  it("drops an archive file a crashed compaction left unlisted; its records come from the log", async () => {
    const ids = await runMany(12, "k");
    await h.engine.abandon(); // a crash: no final compaction
    const archive = path.join(h.dataDir, "durable-archive");
    const listed = archiveFiles(h.dataDir);
    // As if a compaction had written its archive file and died before its snapshot.
    const stray = path.join(archive, "fin-0000099999.arc");
    fs.writeFileSync(stray, "half-written");
    await h.reopen({ compactMinBytes: 2048 });
    expect(fs.existsSync(stray)).toBe(false);
    expect(archiveFiles(h.dataDir)).toEqual(listed);
    for (const id of ids) {
      const body = (await statusOf(h, id)).body as { runtimeStatus: string };
      expect(body.runtimeStatus).toBe("Completed");
    }
    expect(h.engine.state.finished.size).toBe(12);
  });

  it("rewinds a failed instance from the archive back into the hot state", async () => {
    await h.client.startNew("failer", { instanceId: "rw" });
    await waitDone(h, "rw");
    await runMany(10, "r"); // pushes "rw" into an archive file
    expect(h.engine.state.live.has("rw")).toBe(false);
    // A finished record is parsed once and served as such to every read after.
    const before = h.engine.getInstance("rw")!;
    expect(h.engine.getInstance("rw")).toBe(before);
    const beforeJson = JSON.stringify(before);
    await h.client.rewind("rw", "retry");
    await until(
      () => h.engine.getInstance("rw")?.status === "Failed" && h.engine.state.live.size === 0,
      5000,
      "failed again",
    );
    expect(
      h.engine.getInstance("rw")!.history.filter((e) => e.EventType === EventType.TaskFailed),
    ).toHaveLength(1);
    // The rewind took it out (and out of the parsed records): reads see the new run.
    expect(JSON.stringify(h.engine.getInstance("rw"))).not.toBe(beforeJson);
  });
});

describe("retention (LOCALHOST_DURABLE_RETENTION_HOURS)", () => {
  it("purges finished instances older than the retention, never live ones", async () => {
    const h = await startHarness(mockCore, { fsync: false, retentionMs: 3_600_000 });
    try {
      await h.client.startNew("waiter", { instanceId: "keep" });
      await h.client.startNew("chain", { instanceId: "old", input: "o" });
      await waitDone(h, "old");
      await h.engine.stop();
      await h.reopen({ retentionMs: 3_600_000 });
      expect(h.engine.state.finished.has("old")).toBe(true); // younger than an hour
      await h.engine.stop();
      await h.reopen({ retentionMs: 1 });
      await until(() => !h.engine.state.finished.has("old"), 5000, "retention purge");
      expect((await statusOf(h, "old")).status).toBe(404);
      expect(h.engine.state.live.has("keep")).toBe(true);
    } finally {
      await h.close();
    }
  });
});
