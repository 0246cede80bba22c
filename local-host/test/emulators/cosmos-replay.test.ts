import path from "node:path";
import type { CosmosClient } from "@azure/cosmos";
import {
  startCosmos,
  type CosmosJournal,
  type OpenedCosmosJournal,
  type RunningCosmos,
} from "../../src/emulators/cosmos";
import type { CosmosRecord, CosmosSnapshot } from "../../src/emulators/cosmos-state";
import { cosmosClient } from "./cosmos-client";

const provision = path.join(__dirname, "fixtures", "cosmos.json");

/** A journal kept in this process's memory, so the replay logic is tested on its own. */
class MemoryJournal implements CosmosJournal {
  snapshot?: CosmosSnapshot;
  records: string[] = [];
  sizeSinceSnapshot = 0;
  compactions = 0;
  append(record: CosmosRecord): Promise<void> {
    const line = JSON.stringify(record);
    this.records.push(line);
    this.sizeSinceSnapshot += line.length;
    return new Promise((resolve) => setTimeout(resolve, 2)); // like an fsync: later, in order
  }
  compact(snapshot: CosmosSnapshot): Promise<void> {
    this.snapshot = JSON.parse(JSON.stringify(snapshot)) as CosmosSnapshot;
    this.records = [];
    this.sizeSinceSnapshot = 0;
    this.compactions += 1;
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  reopen(): OpenedCosmosJournal {
    return {
      journal: this,
      snapshot: this.snapshot,
      records: this.records.map((l) => JSON.parse(l) as CosmosRecord),
    };
  }
}

async function dump(client: CosmosClient): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  const { resources: dbs } = await client.databases.readAll().fetchAll();
  for (const db of dbs) {
    const { resources: colls } = await client.database(db.id).containers.readAll().fetchAll();
    for (const coll of colls) {
      const { resources } = await client
        .database(db.id)
        .container(coll.id)
        .items.query("SELECT * FROM c ORDER BY c.id")
        .fetchAll();
      out[`${db.id}/${coll.id} ${coll._rid}`] = resources;
    }
  }
  return out;
}

async function withCosmos<T>(
  journal: MemoryJournal,
  compactAfterBytes: number,
  fn: (client: CosmosClient) => Promise<T>,
): Promise<T> {
  const cosmos: RunningCosmos = await startCosmos({
    host: "127.0.0.1",
    port: 0,
    provision,
    journal: journal.reopen(),
    compactAfterBytes,
  });
  const c = cosmosClient(cosmos.connectionString);
  try {
    return await fn(c.client);
  } finally {
    c.dispose();
    await cosmos.close();
  }
}

async function workload(client: CosmosClient, prefix: string): Promise<void> {
  const shop = client.database("shop");
  const orders = shop.container("orders");
  await Promise.all(
    Array.from({ length: 40 }, (_, i) =>
      orders.items.create({ id: `${prefix}${i}`, customerId: `c${i % 4}`, n: i }),
    ),
  );
  await orders.items.upsert({ id: `${prefix}0`, customerId: "c0", n: 100 });
  await orders.item(`${prefix}1`, "c1").replace({ id: `${prefix}1`, customerId: "c1", n: 101 });
  await orders.item(`${prefix}2`, "c2").patch([{ op: "set", path: "/flag", value: true }]);
  await orders.item(`${prefix}3`, "c3").delete();
  await client
    .database("audit")
    .container("events")
    .items.create({ id: `${prefix}e`, at: 1 });
  const { container } = await shop.containers.createIfNotExists({
    id: `extra${prefix}`,
    partitionKey: "/id",
  });
  await container.items.create({ id: "x" });
  await container.item("x", "x").delete();
  await container.items.create({ id: "y" });
  await client.databases.createIfNotExists({ id: `gone${prefix}` });
  await client.database(`gone${prefix}`).delete();
}

describe("Cosmos emulator journal replay", () => {
  it("rebuilds the same documents (ids, bodies, _rid, _etag, _ts) from the journal", async () => {
    const journal = new MemoryJournal();
    const before = await withCosmos(journal, Number.MAX_SAFE_INTEGER, async (client) => {
      await workload(client, "a");
      return dump(client);
    });
    expect(journal.records).toEqual([]); // a clean close folds everything into a snapshot
    expect(Object.values(before).flat()).toHaveLength(39 + 1 + 1);
    const after = await withCosmos(journal, Number.MAX_SAFE_INTEGER, async (client) => {
      const state = await dump(client);
      // New writes after a restart get fresh resource ids, never reused ones.
      await workload(client, "b");
      return state;
    });
    expect(after).toEqual(before);
    const again = await withCosmos(journal, Number.MAX_SAFE_INTEGER, (client) => dump(client));
    expect(Object.values(again).flat()).toHaveLength(2 * 41);
    const rids = Object.values(again)
      .flat()
      .map((d) => (d as { _rid: string })._rid);
    expect(new Set(rids).size).toBe(rids.length);
  });

  it("replays a journal that was never compacted (a crash) and one compacted mid-run", async () => {
    const crashed = new MemoryJournal();
    crashed.compact = () => Promise.resolve(); // never compacts: everything stays as records
    const live = await withCosmos(crashed, 1, async (client) => {
      await workload(client, "a");
      return dump(client);
    });
    expect(crashed.records.length).toBeGreaterThan(40);
    await withCosmos(crashed, 1, async (client) => expect(await dump(client)).toEqual(live));

    const compacted = new MemoryJournal();
    const live2 = await withCosmos(compacted, 2000, async (client) => {
      await workload(client, "a");
      return dump(client);
    });
    expect(compacted.compactions).toBeGreaterThan(2);
    await withCosmos(compacted, 2000, async (client) => expect(await dump(client)).toEqual(live2));
  });

  it("journals a replace or patch as one record, so no crash point keeps the delete alone", async () => {
    const journal = new MemoryJournal();
    journal.compact = () => Promise.resolve();
    await withCosmos(journal, 1, async (client) => {
      const orders = client.database("shop").container("orders");
      await orders.items.create({ id: "r1", customerId: "c1", n: 1 });
      const before = journal.records.length;
      await orders.item("r1", "c1").replace({ id: "r1", customerId: "c1", n: 2 });
      await orders.item("r1", "c1").patch([{ op: "incr", path: "/n", value: 10 }]);
      const added = journal.records.slice(before).map((l) => JSON.parse(l) as CosmosRecord);
      expect(added.map((r) => r.k)).toEqual(["doc", "doc"]);
      // Cut the journal after each of them: the document is there at every cut.
      for (let cut = before; cut <= journal.records.length; cut++) {
        const partial = new MemoryJournal();
        partial.records = journal.records.slice(0, cut);
        await withCosmos(partial, 1e9, async (again) => {
          const { resource } = await again
            .database("shop")
            .container("orders")
            .item("r1", "c1")
            .read();
          expect(resource?.n).toBe([1, 2, 12][cut - before]);
        });
      }
    });
  });
});

describe("Cosmos emulator durability barrier", () => {
  it("answers a write, and any later read, only once the write's record is durable", async () => {
    const journal = new MemoryJournal();
    let release: () => void = () => undefined;
    let held = false;
    const append = journal.append.bind(journal);
    journal.append = (record) => {
      void append(record);
      if (!held) return Promise.resolve();
      return new Promise<void>((resolve) => (release = resolve));
    };
    await withCosmos(journal, Number.MAX_SAFE_INTEGER, async (client) => {
      const orders = client.database("shop").container("orders");
      await orders.items.create({ id: "warmup", customerId: "c" });
      held = true;
      let acknowledged = false;
      const create = orders.items.create({ id: "held", customerId: "c" }).then((r) => {
        acknowledged = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(acknowledged).toBe(false);
      expect(journal.records.at(-1)).toContain('"held"');
      held = false;
      let readDone = false;
      const read = orders
        .item("warmup", "c")
        .read()
        .then(() => (readDone = true));
      await new Promise((r) => setTimeout(r, 200));
      expect(readDone).toBe(false);
      release();
      expect((await create).statusCode).toBe(201);
      await read;
      expect(readDone).toBe(true);
    });
  });

  it("fails the write and refuses further requests when the journal cannot persist", async () => {
    const journal = new MemoryJournal();
    await withCosmos(journal, Number.MAX_SAFE_INTEGER, async (client) => {
      const orders = client.database("shop").container("orders");
      journal.append = () => Promise.reject(new Error("disk full"));
      await expect(orders.items.create({ id: "lost", customerId: "c" })).rejects.toMatchObject({
        code: 503,
      });
      journal.append = () => Promise.resolve();
      await expect(orders.items.create({ id: "next", customerId: "c" })).rejects.toMatchObject({
        code: 503,
        message: expect.stringContaining("disk full"),
      });
    });
  });
});

describe("Cosmos emulator with a damaged journal", () => {
  it("refuses to start, naming what is missing, instead of dropping records", async () => {
    const journal = new MemoryJournal();
    journal.records = [
      JSON.stringify({ k: "doc", db: "nope", coll: "gone", d: { id: "x" }, n: 1 }),
    ];
    let closed = false;
    journal.close = () => {
      closed = true;
      return Promise.resolve();
    };
    await expect(
      startCosmos({ host: "127.0.0.1", port: 0, journal: journal.reopen() }),
    ).rejects.toThrow("Cosmos journal refers to missing container nope/gone");
    expect(closed).toBe(true);
  });
});
