import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  DEV_STORAGE_ACCOUNT,
  DEV_STORAGE_KEY,
  startAzurite,
  type RunningAzurite,
} from "../../src/emulators/azurite";

/** An account SAS (version 2019-12-12) for blob, queue and table, signed with the dev key. */
function accountSas(): string {
  const sv = "2019-12-12";
  const expiry = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, "Z");
  const fields = { sp: "rwdlacup", ss: "bqt", srt: "sco", se: expiry, spr: "http", sv };
  const toSign = [
    DEV_STORAGE_ACCOUNT,
    fields.sp,
    fields.ss,
    fields.srt,
    "",
    fields.se,
    "",
    fields.spr,
    sv,
    "",
  ].join("\n");
  const sig = createHmac("sha256", Buffer.from(DEV_STORAGE_KEY, "base64"))
    .update(toSign)
    .digest("base64");
  return new URLSearchParams({ ...fields, sig }).toString();
}

function endpoints(connectionString: string): { blob: string; queue: string; table: string } {
  const get = (name: string): string => {
    const value = new RegExp(`${name}=([^;]+);`).exec(connectionString)?.[1];
    if (!value) throw new Error(`${name} missing in ${connectionString}`);
    return value;
  };
  return { blob: get("BlobEndpoint"), queue: get("QueueEndpoint"), table: get("TableEndpoint") };
}

async function call(
  url: string,
  init: RequestInit & { sas?: boolean } = {},
): Promise<{ status: number; text: string }> {
  const target = init.sas === false ? url : `${url}${url.includes("?") ? "&" : "?"}${accountSas()}`;
  const res = await fetch(target, init);
  return { status: res.status, text: await res.text() };
}

async function writeEverything(azurite: RunningAzurite): Promise<void> {
  const e = endpoints(azurite.connectionString);
  expect((await call(`${e.queue}/jobs`, { method: "PUT" })).status).toBe(201);
  const message = "<QueueMessage><MessageText>aGVsbG8=</MessageText></QueueMessage>";
  expect((await call(`${e.queue}/jobs/messages`, { method: "POST", body: message })).status).toBe(
    201,
  );
  const table = await call(`${e.table}/Tables`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: "application/json;odata=nometadata" },
    body: JSON.stringify({ TableName: "ledger" }),
  });
  expect(table.status).toBe(201);
  expect((await call(`${e.blob}/docs?restype=container`, { method: "PUT" })).status).toBe(201);
  const blob = await call(`${e.blob}/docs/a.txt`, {
    method: "PUT",
    headers: { "x-ms-blob-type": "BlockBlob", "content-type": "text/plain" },
    body: "blob content",
  });
  expect(blob.status).toBe(201);
}

async function readEverything(azurite: RunningAzurite): Promise<void> {
  const e = endpoints(azurite.connectionString);
  const queues = await call(`${e.queue}?comp=list`);
  expect(queues.text).toContain("<Name>jobs</Name>");
  const peek = await call(`${e.queue}/jobs/messages?peekonly=true`);
  expect(peek.text).toContain("<MessageText>aGVsbG8=</MessageText>");
  const tables = await call(`${e.table}/Tables`, {
    headers: { accept: "application/json;odata=nometadata" },
  });
  expect(JSON.parse(tables.text)).toEqual({ value: [{ TableName: "ledger" }] });
  const blob = await call(`${e.blob}/docs/a.txt`);
  expect(blob).toEqual({ status: 200, text: "blob content" });
}

describe("Azurite in process", () => {
  it("serves blob, queue and table on free ports with the dev account, and checks auth", async () => {
    const azurite = await startAzurite({
      host: "127.0.0.1",
      ports: { blob: 0, queue: 0, table: 0 },
    });
    try {
      const { blob, queue, table } = azurite.ports;
      expect(new Set([blob, queue, table]).size).toBe(3);
      expect(azurite.connectionString).toBe(
        `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${DEV_STORAGE_KEY};` +
          `BlobEndpoint=http://127.0.0.1:${blob}/devstoreaccount1;` +
          `QueueEndpoint=http://127.0.0.1:${queue}/devstoreaccount1;` +
          `TableEndpoint=http://127.0.0.1:${table}/devstoreaccount1;`,
      );
      await writeEverything(azurite);
      await readEverything(azurite);
      const e = endpoints(azurite.connectionString);
      // Without a signature the same request is refused: the servers really check credentials.
      expect((await call(`${e.queue}?comp=list`, { sas: false })).status).toBe(403);
    } finally {
      await azurite.close();
    }
  });

  it("keeps queues, messages, tables and blobs across a clean restart on the same directory", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "azurite-"));
    try {
      const first = await startAzurite({
        host: "127.0.0.1",
        ports: { blob: 0, queue: 0, table: 0 },
        dir,
      });
      await writeEverything(first);
      await first.close();
      const second = await startAzurite({
        host: "127.0.0.1",
        ports: { blob: 0, queue: 0, table: 0 },
        dir,
      });
      try {
        await readEverything(second);
      } finally {
        await second.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("keeps in-memory instances apart", async () => {
    const a = await startAzurite({ host: "127.0.0.1", ports: { blob: 0, queue: 0, table: 0 } });
    const b = await startAzurite({ host: "127.0.0.1", ports: { blob: 0, queue: 0, table: 0 } });
    try {
      await writeEverything(a);
      const e = endpoints(b.connectionString);
      expect((await call(`${e.queue}?comp=list`)).text).not.toContain("<Name>jobs</Name>");
      expect((await call(`${e.blob}/docs/a.txt`)).status).toBe(404);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
