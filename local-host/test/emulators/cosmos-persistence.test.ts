import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import readline from "node:readline";
import { startEmulators, type RunningEmulators } from "../../src/emulators";
import { fullDisk } from "../../../durable-log/test/enospc";
import { cosmosClient } from "./cosmos-client";
import { ensureBuilt } from "../support/host";

const root = path.resolve(__dirname, "..", "..", "..");
const provision = path.join(__dirname, "fixtures", "cosmos.json");
const distIndex = path.join(root, "dist", "local-host", "src", "emulators", "index.js");

function startCosmosOnly(dataDir: string): Promise<RunningEmulators> {
  return startEmulators({
    dataDir,
    ports: "free",
    cosmosProvision: provision,
    which: { azurite: false, serviceBus: false },
  });
}

describe("Cosmos emulator persistence under DATA_DIR", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), "cosmos-data-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers 503 while the disk is full and serves again by itself once space returns", async () => {
    const disk = await fullDisk();
    let cosmos = await startCosmosOnly(dataDir);
    let c = cosmosClient(cosmos.cosmos!.connectionString);
    try {
      const orders = c.client.database("shop").container("orders");
      await orders.items.create({ id: "o1", customerId: "c1", total: 1 });
      disk.full = true;
      // The create is applied in memory but cannot be made durable: not acknowledged.
      const refused = await orders.items
        .create({ id: "o2", customerId: "c2", total: 2 })
        .catch((err: { code?: number }) => err);
      expect(refused).toMatchObject({ code: 503 });
      // Nothing is served (not even reads) while the journal holds a change back.
      const read = await orders
        .item("o1", "c1")
        .read()
        .catch((err: { code?: number }) => err);
      expect(read).toMatchObject({ code: 503 });
      expect(disk.failures).toBeGreaterThan(0);
      disk.full = false;
      // The journal retries by itself: no restart, the held change lands, and the client's
      // retry of the refused create finds it.
      let o1: unknown;
      for (let i = 0; i < 50 && !o1; i++) {
        o1 = await orders
          .item("o1", "c1")
          .read()
          .then((r) => r.resource)
          .catch(() => new Promise((r) => setTimeout(r, 100)).then(() => undefined));
      }
      expect(o1).toMatchObject({ total: 1 });
      const retried = await orders.items
        .create({ id: "o2", customerId: "c2", total: 2 })
        .catch((err: { code?: number }) => err);
      expect(retried).toMatchObject({ code: 409 });
      await orders.items.create({ id: "o3", customerId: "c3", total: 3 });
    } finally {
      disk.restore();
      c.dispose();
      await cosmos.close();
    }
    cosmos = await startCosmosOnly(dataDir);
    c = cosmosClient(cosmos.cosmos!.connectionString);
    try {
      const { resources } = await c.client
        .database("shop")
        .container("orders")
        .items.query("SELECT VALUE c.id FROM c")
        .fetchAll();
      expect(resources.sort()).toEqual(["o1", "o2", "o3"]);
    } finally {
      c.dispose();
      await cosmos.close();
    }
  });

  it("keeps documents, containers and their etags across a restart", async () => {
    let first = await startCosmosOnly(dataDir);
    let c = cosmosClient(first.cosmos!.connectionString);
    const orders = c.client.database("shop").container("orders");
    await orders.items.create({ id: "o1", customerId: "c1", total: 1 });
    await orders.items.create({ id: "o2", customerId: "c2", total: 2 });
    await orders.items.create({ id: "o3", customerId: "c3", total: 3 });
    const { resource: replaced } = await orders
      .item("o1", "c1")
      .replace({ id: "o1", customerId: "c1", total: 10 });
    await orders.item("o2", "c2").patch([{ op: "add", path: "/note", value: "hi" }]);
    await orders.item("o3", "c3").delete();
    await c.client.database("shop").containers.create({ id: "later", partitionKey: "/id" });
    await c.client.database("shop").container("later").items.create({ id: "l1" });
    c.dispose();
    await first.close();
    expect(await readdir(path.join(dataDir, "cosmos"))).toEqual(
      expect.arrayContaining([expect.stringMatching(/^snap-\d+\.snap$/)]),
    );

    first = await startCosmosOnly(dataDir);
    c = cosmosClient(first.cosmos!.connectionString);
    try {
      const again = c.client.database("shop").container("orders");
      const { resource: o1 } = await again.item("o1", "c1").read();
      expect(o1).toMatchObject({ total: 10, _etag: replaced!._etag, _rid: replaced!._rid });
      // The etag from before the restart still works as a precondition.
      await again.item("o1", "c1").replace(
        { id: "o1", customerId: "c1", total: 11 },
        {
          accessCondition: { type: "IfMatch", condition: replaced!._etag },
        },
      );
      expect((await again.item("o2", "c2").read()).resource).toMatchObject({ note: "hi" });
      expect((await again.item("o3", "c3").read()).statusCode).toBe(404);
      const { resources } = await again.items.query("SELECT VALUE c.id FROM c").fetchAll();
      expect(resources.sort()).toEqual(["o1", "o2"]);
      const { resource: later } = await c.client
        .database("shop")
        .container("later")
        .item("l1", "l1")
        .read();
      expect(later?.id).toBe("l1");
    } finally {
      c.dispose();
      await first.close();
    }
  });

  describe("SIGKILL at a random moment", () => {
    beforeAll(() => {
      // The child runs the compiled module, as `npm start` does.
      ensureBuilt();
      if (!existsSync(distIndex)) throw new Error(`build did not produce ${distIndex}`);
    }, 120_000);

    it("loses no acknowledged write", async () => {
      const latestSnapshot = async (): Promise<number> => {
        const names = await readdir(path.join(dataDir, "cosmos")).catch(() => []);
        return Math.max(0, ...names.map((n) => Number(/^snap-(\d+)\.snap$/.exec(n)?.[1] ?? 0)));
      };
      for (let run = 0; run < 6; run++) {
        const snapshotBefore = await latestSnapshot();
        const child = spawn(
          process.execPath,
          [
            path.join(__dirname, "fixtures", "cosmos-writer.js"),
            distIndex,
            dataDir,
            provision,
            `r${run}`,
            // Odd runs compact every ~4 kB, so some kills land during a compaction.
            ...(run % 2 === 1 ? ["4000"] : []),
          ],
          { cwd: root, stdio: ["ignore", "pipe", "pipe"] },
        );
        let stderr = "";
        child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
        const acked = new Set<string>();
        const patched = new Map<string, number>();
        const deleted = new Set<string>();
        const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
        // Writing is under way once 20 creates were acknowledged; the kill comes at random after.
        const writing = new Promise<void>((resolve, reject) => {
          child.once("exit", (code) => reject(new Error(`writer exited (${code}): ${stderr}`)));
          readline.createInterface({ input: child.stdout }).on("line", (line) => {
            const [kind, id, value] = line.split(" ");
            if (kind === "ACK") {
              acked.add(id);
              if (acked.size === 20) resolve();
            } else if (kind === "PATCHED") patched.set(id, Number(value));
            else if (kind === "DELETED") deleted.add(id);
          });
        });
        await writing;
        await new Promise((r) => setTimeout(r, Math.random() * 800));
        child.kill("SIGKILL");
        await exited;
        // The small threshold really compacted while writes were being acknowledged.
        if (run % 2 === 1) expect(await latestSnapshot()).toBeGreaterThan(snapshotBefore);

        const emulators = await startCosmosOnly(dataDir);
        const c = cosmosClient(emulators.cosmos!.connectionString);
        try {
          const orders = c.client.database("shop").container("orders");
          // A point read per acknowledged id (the writer's partition key is c<i % 7>): exact,
          // and independent of the emulator's cross-partition query paging.
          const present = new Map<string, number>();
          for (const id of acked) {
            const i = Number(id.split("-")[1]);
            const { resource, statusCode } = await orders.item(id, `c${i % 7}`).read();
            if (resource) present.set(id, resource.n as number);
            else expect(statusCode).toBe(404);
          }
          for (const id of acked) {
            if (deleted.has(id)) {
              expect(present.has(id)).toBe(false);
              continue;
            }
            // A delete may have been applied but not yet acknowledged when the process died.
            if (!present.has(id)) expect(Number(id.split("-")[1]) % 5).toBe(0);
            else {
              const base = Number(id.split("-")[1]);
              if (patched.has(id)) expect(present.get(id)).toBe(base + 1000);
              else expect([base, base + 1000]).toContain(present.get(id));
            }
          }
        } finally {
          c.dispose();
          await emulators.close();
        }
      }
    }, 120_000);
  });
});
