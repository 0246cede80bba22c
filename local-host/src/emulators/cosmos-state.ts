import Account from "@vercel/cosmosdb-server/lib/account";

/*
 * Change capture for @vercel/cosmosdb-server, which keeps everything in memory.
 *
 * Every write in that server ends in one of a few synchronous methods of its `Items` collections
 * (`_set` for create/replace/upsert/patch, `delete`; UDFs keep compiled functions beside the data,
 * so for them create/upsert/replace/delete). Wrapping those methods on the live instances yields
 * a record of the resulting state at the moment of each change, in exactly the order the changes
 * were applied, whatever HTTP route caused them (documents, batch, patch, containers, databases).
 * Replaying the records (or a snapshot plus the records after it) rebuilds the same resources with
 * the same ids, bodies, `_rid`, `_etag` and `_ts`; only UDFs get a fresh `_rid`/`_etag`.
 *
 * This relies on internals of @vercel/cosmosdb-server 1.0.x (MIT); `CosmosState` checks the
 * shape it needs at construction so a changed package fails loudly instead of losing data.
 */

type Data = { id: string; [key: string]: unknown };

interface ItemLike {
  read(): Data | undefined;
}

interface ItemsLike<I extends ItemLike = ItemLike> {
  _data: Map<string, I>;
  _ridCount: number;
  _set(data: Data): Data;
  delete(idOrRid: string, partition?: unknown): void;
  _newItem(data?: Data): I;
  _item(keyPath: string, value: string, partition: unknown): I;
  _getPartition(data: Data): unknown;
  replace(data: Data, original: Data): Data;
}

interface UdfsLike extends ItemsLike {
  create(data: { id: string; body: string }): Data;
  upsert(data: { id: string; body: string }): Data;
  replace(data: { id: string; body: string }): Data;
  delete(idOrRid: string): void;
}

interface CollectionLike extends ItemLike {
  documents: ItemsLike;
  userDefinedFunctions: UdfsLike;
}

interface DatabaseLike extends ItemLike {
  collections: ItemsLike<CollectionLike>;
  collection(idOrRid: string): CollectionLike;
}

interface AccountLike extends ItemLike {
  databases: ItemsLike<DatabaseLike>;
  database(idOrRid: string): DatabaseLike;
}

/** One change, as the state it produced. `n` is the owning collection's resource-id counter. */
export type CosmosRecord =
  | { k: "db"; d: Data; n: number }
  | { k: "dbdel"; id: string }
  | { k: "coll"; db: string; d: Data; n: number }
  | { k: "colldel"; db: string; id: string }
  | { k: "doc"; db: string; coll: string; d: Data; n: number }
  | { k: "docdel"; db: string; coll: string; id: string; p: unknown }
  | { k: "udf"; db: string; coll: string; id: string; body: string }
  | { k: "udfdel"; db: string; coll: string; id: string };

export interface CosmosSnapshot {
  v: 1;
  n: number;
  dbs: {
    d: Data;
    n: number;
    colls: { d: Data; n: number; docs: Data[]; udfs: { id: string; body: string }[] }[];
  }[];
}

export class CosmosReplayError extends Error {}

export class CosmosState {
  readonly account: AccountLike;
  private replaying = false;
  /** Inside Items.replace: its internal delete is not a change of its own (see hookReplace). */
  private replacing = 0;

  /** `onChange` is called synchronously for every change made through the server's API. */
  constructor(
    host: string,
    port: number,
    private readonly onChange: (record: CosmosRecord) => void,
  ) {
    this.account = new Account(host, port) as unknown as AccountLike;
    const dbs = this.account.databases;
    for (const name of ["_set", "delete", "_newItem", "_item", "_getPartition"] as const) {
      if (typeof dbs[name] !== "function" || !(dbs._data instanceof Map)) {
        throw new Error(
          `@vercel/cosmosdb-server internals changed (Items.${name}); Cosmos persistence cannot work with this version`,
        );
      }
    }
    this.hookDatabases(dbs);
  }

  private emit(record: CosmosRecord): void {
    if (!this.replaying) this.onChange(record);
  }

  /**
   * Items.replace deletes the old item, then sets the new one. Journalled as two records, a crash
   * (or a compaction boundary) between them could keep the delete and lose the item, whose create
   * had been acknowledged. So a replace is one record: the set, which replay applies as a replace.
   */
  private hookReplace(items: ItemsLike): void {
    const replace = items.replace;
    items.replace = (data, original) => {
      this.replacing++;
      try {
        return replace.call(items, data, original);
      } finally {
        this.replacing--;
      }
    };
  }

  private hookDatabases(items: ItemsLike<DatabaseLike>): void {
    const { _set: set, delete: del, _newItem: newItem } = items;
    items._newItem = (data) => {
      const db = newItem.call(items, data);
      if (data) this.hookCollections(db.collections, data.id);
      return db;
    };
    items._set = (data) => {
      const stored = set.call(items, data);
      this.emit({ k: "db", d: stored, n: items._ridCount });
      return stored;
    };
    items.delete = (idOrRid, partition) => {
      const existing = items._item("/id", idOrRid, partition).read();
      del.call(items, idOrRid, partition);
      if (existing) this.emit({ k: "dbdel", id: existing.id });
    };
  }

  private hookCollections(items: ItemsLike<CollectionLike>, db: string): void {
    const { _set: set, delete: del, _newItem: newItem } = items;
    items._newItem = (data) => {
      const coll = newItem.call(items, data);
      if (data) {
        this.hookDocuments(coll.documents, db, data.id);
        this.hookUdfs(coll.userDefinedFunctions, db, data.id);
      }
      return coll;
    };
    items._set = (data) => {
      const stored = set.call(items, data);
      this.emit({ k: "coll", db, d: stored, n: items._ridCount });
      return stored;
    };
    items.delete = (idOrRid, partition) => {
      const existing = items._item("/id", idOrRid, partition).read();
      del.call(items, idOrRid, partition);
      if (existing && !this.replacing) this.emit({ k: "colldel", db, id: existing.id });
    };
    this.hookReplace(items);
  }

  private hookDocuments(items: ItemsLike, db: string, coll: string): void {
    const { _set: set, delete: del } = items;
    items._set = (data) => {
      const stored = set.call(items, data);
      this.emit({ k: "doc", db, coll, d: stored, n: items._ridCount });
      return stored;
    };
    items.delete = (idOrRid, partition) => {
      const existing = items._item("/id", idOrRid, partition).read();
      del.call(items, idOrRid, partition);
      if (existing && !this.replacing) {
        this.emit({ k: "docdel", db, coll, id: existing.id, p: items._getPartition(existing) });
      }
    };
    this.hookReplace(items);
  }

  private hookUdfs(items: UdfsLike, db: string, coll: string): void {
    for (const name of ["create", "upsert", "replace"] as const) {
      const original = items[name];
      items[name] = (data) => {
        const stored = original.call(items, data);
        this.emit({ k: "udf", db, coll, id: data.id, body: data.body });
        return stored;
      };
    }
    const del = items.delete;
    items.delete = (idOrRid) => {
      const existing = items._item("/id", idOrRid, idOrRid).read();
      del.call(items, idOrRid);
      if (existing) this.emit({ k: "udfdel", db, coll, id: existing.id });
    };
  }

  private collection(db: string, coll: string): CollectionLike {
    const collection = this.account.database(db).collection(coll);
    if (!collection.read()) {
      throw new CosmosReplayError(`Cosmos journal refers to missing container ${db}/${coll}`);
    }
    return collection;
  }

  /** Applies recorded changes (startup only); nothing is re-emitted. */
  apply(records: Iterable<CosmosRecord>): void {
    this.replaying = true;
    try {
      for (const r of records) this.applyOne(r);
    } finally {
      this.replaying = false;
    }
  }

  private applyOne(r: CosmosRecord): void {
    const dbs = this.account.databases;
    switch (r.k) {
      case "db":
        if (dbs._item("/id", r.d.id, r.d.id).read()) dbs.delete(r.d.id, r.d.id);
        dbs._set(r.d);
        dbs._ridCount = Math.max(dbs._ridCount, r.n);
        return;
      case "dbdel":
        if (dbs._item("/id", r.id, r.id).read()) dbs.delete(r.id, r.id);
        return;
      case "coll": {
        const db = this.account.database(r.db);
        if (!db.read())
          throw new CosmosReplayError(`Cosmos journal refers to missing database ${r.db}`);
        const colls = db.collections;
        if (colls._item("/id", r.d.id, r.d.id).read()) colls.delete(r.d.id, r.d.id);
        colls._set(r.d);
        colls._ridCount = Math.max(colls._ridCount, r.n);
        return;
      }
      case "colldel": {
        const colls = this.account.database(r.db).collections;
        if (colls._item("/id", r.id, r.id).read()) colls.delete(r.id, r.id);
        return;
      }
      case "doc": {
        const docs = this.collection(r.db, r.coll).documents;
        const partition = docs._getPartition(r.d);
        if (docs._item("/id", r.d.id, partition).read()) docs.delete(r.d.id, partition);
        docs._set(r.d);
        docs._ridCount = Math.max(docs._ridCount, r.n);
        return;
      }
      case "docdel": {
        const docs = this.collection(r.db, r.coll).documents;
        if (docs._item("/id", r.id, r.p).read()) docs.delete(r.id, r.p);
        return;
      }
      case "udf":
        this.collection(r.db, r.coll).userDefinedFunctions.upsert({ id: r.id, body: r.body });
        return;
      case "udfdel": {
        const udfs = this.collection(r.db, r.coll).userDefinedFunctions;
        if (udfs._item("/id", r.id, r.id).read()) udfs.delete(r.id);
        return;
      }
      default:
        throw new CosmosReplayError(`unknown Cosmos journal record ${JSON.stringify(r)}`);
    }
  }

  /** The whole account as one JSON-able value, consistent as of the last emitted record. */
  snapshot(): CosmosSnapshot {
    const dbs = this.account.databases;
    const read = (item: ItemLike): Data => item.read() as Data;
    return {
      v: 1,
      n: dbs._ridCount,
      dbs: [...dbs._data.values()].map((db) => ({
        d: read(db),
        n: db.collections._ridCount,
        colls: [...db.collections._data.values()].map((coll) => ({
          d: read(coll),
          n: coll.documents._ridCount,
          docs: [...coll.documents._data.values()].map(read),
          udfs: [...coll.userDefinedFunctions._data.values()].map((u) => ({
            id: read(u).id,
            body: String(read(u).body),
          })),
        })),
      })),
    };
  }

  /** Loads a snapshot into this (empty) account (startup only). */
  restore(snapshot: CosmosSnapshot): void {
    if (snapshot.v !== 1)
      throw new CosmosReplayError(`unknown Cosmos snapshot version ${snapshot.v}`);
    const records: CosmosRecord[] = [];
    for (const db of snapshot.dbs) {
      records.push({ k: "db", d: db.d, n: snapshot.n });
      for (const coll of db.colls) {
        records.push({ k: "coll", db: db.d.id, d: coll.d, n: db.n });
        for (const d of coll.docs)
          records.push({ k: "doc", db: db.d.id, coll: coll.d.id, d, n: coll.n });
        for (const u of coll.udfs) records.push({ k: "udf", db: db.d.id, coll: coll.d.id, ...u });
      }
    }
    this.apply(records);
    // Resource-id counters only ever grow; restore them even where every child was deleted, so new
    // resources never reuse a `_rid` (the server keys its data by `_rid`).
    const dbs = this.account.databases;
    dbs._ridCount = Math.max(dbs._ridCount, snapshot.n);
    for (const db of snapshot.dbs) {
      const database = this.account.database(db.d.id);
      database.collections._ridCount = Math.max(database.collections._ridCount, db.n);
      for (const coll of db.colls) {
        const documents = database.collection(coll.d.id).documents;
        documents._ridCount = Math.max(documents._ridCount, coll.n);
      }
    }
  }
}
