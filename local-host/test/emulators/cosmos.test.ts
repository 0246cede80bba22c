import path from "node:path";
import { startCosmos, type RunningCosmos } from "../../src/emulators/cosmos";
import { cosmosClient } from "./cosmos-client";

const provision = path.join(__dirname, "fixtures", "cosmos.json");

describe("Cosmos emulator (in memory)", () => {
  let cosmos: RunningCosmos;
  let client: ReturnType<typeof cosmosClient>;

  beforeAll(async () => {
    cosmos = await startCosmos({ host: "127.0.0.1", port: 0, provision });
    client = cosmosClient(cosmos.connectionString);
  });
  afterAll(async () => {
    client.dispose();
    await cosmos.close();
  });

  it("exposes the well-known emulator key and a localhost endpoint", () => {
    expect(cosmos.connectionString).toBe(
      `AccountEndpoint=https://localhost:${cosmos.port}/;AccountKey=C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==;`,
    );
    expect(cosmos.port).toBeGreaterThan(0);
  });

  it("provisions the databases and containers of the file", async () => {
    const { resources: dbs } = await client.client.databases.readAll().fetchAll();
    expect(dbs.map((d) => d.id).sort()).toEqual(["audit", "shop"]);
    const { resource: orders } = await client.client.database("shop").container("orders").read();
    expect(orders?.partitionKey?.paths).toEqual(["/customerId"]);
    const { resources: colls } = await client.client
      .database("shop")
      .containers.readAll()
      .fetchAll();
    expect(colls.map((c) => c.id).sort()).toEqual(["items", "orders"]);
  });

  it("creates, reads, queries, replaces with etag, patches and deletes documents", async () => {
    const orders = client.client.database("shop").container("orders");
    const { resource: created, statusCode } = await orders.items.create({
      id: "o1",
      customerId: "c1",
      total: 10,
    });
    expect(statusCode).toBe(201);
    await expect(orders.items.create({ id: "o1", customerId: "c1" })).rejects.toMatchObject({
      code: 409,
    });
    const { resource: read } = await orders.item("o1", "c1").read();
    expect(read).toMatchObject({ id: "o1", customerId: "c1", total: 10, _etag: created?._etag });
    const { resources: found } = await orders.items
      .query({
        query: "SELECT * FROM c WHERE c.customerId = @c",
        parameters: [{ name: "@c", value: "c1" }],
      })
      .fetchAll();
    expect(found.map((d) => d.id)).toEqual(["o1"]);

    const { resource: replaced } = await orders.item("o1", "c1").replace(
      { id: "o1", customerId: "c1", total: 11 },
      {
        accessCondition: { type: "IfMatch", condition: created!._etag },
      },
    );
    expect(replaced?.total).toBe(11);
    await expect(
      orders.item("o1", "c1").replace(
        { id: "o1", customerId: "c1", total: 12 },
        {
          accessCondition: { type: "IfMatch", condition: created!._etag },
        },
      ),
    ).rejects.toMatchObject({ code: 412 });

    const { resource: patched } = await orders
      .item("o1", "c1")
      .patch([{ op: "incr", path: "/total", value: 5 }]);
    expect(patched?.total).toBe(16);

    await orders.item("o1", "c1").delete();
    await expect(orders.item("o1", "c1").read()).resolves.toMatchObject({ statusCode: 404 });
  });
});
