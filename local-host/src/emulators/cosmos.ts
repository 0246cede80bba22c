import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import routes from "@vercel/cosmosdb-server/lib/routes";
import { z } from "zod";
import { count } from "../counters";
import { CosmosState, type CosmosRecord, type CosmosSnapshot } from "./cosmos-state";

/** The Cosmos DB emulator's documented, public key (not a secret). */
export const COSMOS_EMULATOR_KEY =
  "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";
export const STANDARD_COSMOS_PORT = 8081;

type Log = (level: "debug" | "info" | "warn" | "error", message: string) => void;

/** What the Cosmos emulator needs from a write-ahead journal (see ./cosmos-journal.ts). */
export interface CosmosJournal {
  /** Resolves once the record is durable. Records become durable in append order. */
  append(record: CosmosRecord): Promise<void>;
  /** Replaces everything appended so far by `snapshot`. */
  compact(snapshot: CosmosSnapshot): Promise<void>;
  /** Bytes appended since the last snapshot (drives compaction). */
  readonly sizeSinceSnapshot: number;
  /** The write error while appends are held back and retried (the disk is full), else undefined. */
  readonly stalled?: Error;
  /** `work`, unless appends get held back before it settles: then it rejects at once. */
  untilStalled?<T>(work: Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface OpenedCosmosJournal {
  journal: CosmosJournal;
  snapshot?: CosmosSnapshot;
  records: Iterable<CosmosRecord>;
}

export interface CosmosOptions {
  host: string;
  port: number;
  /** Persistence; in-memory when absent. */
  journal?: OpenedCosmosJournal;
  /** Path of a provisioning file: { "databases": [{ "id", "containers": [{ "id", "partitionKey" }] }] }. */
  provision?: string;
  /** Compact the journal into a snapshot once this many bytes were appended since the last one. */
  compactAfterBytes?: number;
  log?: Log;
}

export interface RunningCosmos {
  port: number;
  endpoint: string;
  key: string;
  connectionString: string;
  close(): Promise<void>;
}

const provisionSchema = z.object({
  databases: z.array(
    z.object({
      id: z.string().min(1),
      containers: z
        .array(
          z.object({
            id: z.string().min(1),
            partitionKey: z.string().regex(/^\/\S+$/, 'a path such as "/id"'),
            /** Seconds; kept as the container's setting (the emulator does not expire items). */
            defaultTtl: z.number().int().positive().optional(),
          }),
        )
        .default([]),
    }),
  ),
});
export type CosmosProvision = z.infer<typeof provisionSchema>;

export async function readProvision(file: string): Promise<CosmosProvision> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    throw new Error(`Cannot read Cosmos provisioning file ${file}: ${(err as Error).message}`);
  }
  const parsed = provisionSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(`Invalid Cosmos provisioning file ${file}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

type RouteHandler = (
  account: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  params: Record<string, string>,
) => unknown;

const QUERY_METRICS =
  "totalExecutionTimeInMs=0.00;queryCompileTimeInMs=0.00;queryLogicalPlanBuildTimeInMs=0.00;queryPhysicalPlanBuildTimeInMs=0.00;queryOptimizationTimeInMs=0.00;VMExecutionTimeInMs=0.00;indexLookupTimeInMs=0.00;documentLoadTimeInMs=0.00;systemFunctionExecuteTimeInMs=0.00;userFunctionExecuteTimeInMs=0.00;retrievedDocumentCount=0;retrievedDocumentSize=0;outputDocumentCount=1;outputDocumentSize=0;writeOutputTimeInMs=0.00;indexUtilizationRatio=0.00";

function packageFile(name: string): Buffer {
  const root = path.dirname(require.resolve("@vercel/cosmosdb-server/package.json"));
  return readFileSync(path.join(root, name));
}

/**
 * Starts @vercel/cosmosdb-server's request handling over HTTPS (keep-alive), with an optional
 * write-ahead journal: every change is journalled synchronously as it is applied, and no response
 * leaves before every change applied so far is durable. So an acknowledged write survives a
 * SIGKILL, and no client ever reads a state that a crash could take back.
 */
export async function startCosmos(options: CosmosOptions): Promise<RunningCosmos> {
  const log: Log = options.log ?? (() => undefined);
  const journal = options.journal?.journal;
  const compactAfter = options.compactAfterBytes ?? 16 * 1024 * 1024;
  let durable: Promise<void> | undefined; // settles when everything journalled so far is on disk
  let failure: Error | undefined;
  let compacting: Promise<void> | undefined;
  let state: CosmosState | undefined;

  const compact = (): void => {
    if (!journal || !state || compacting || failure) return;
    // The snapshot is taken synchronously, so it holds exactly the records appended before it.
    const snapshot = state.snapshot();
    compacting = journal
      .compact(snapshot)
      .catch((err: Error) => log("warn", `Cosmos journal compaction failed: ${err.message}`))
      .finally(() => (compacting = undefined));
  };

  const onChange = (record: CosmosRecord): void => {
    if (!journal) return;
    const appended = journal.append(record);
    const previous = durable;
    const all = previous ? Promise.all([previous, appended]).then(() => undefined) : appended;
    durable = all;
    all.then(
      () => {
        if (durable === all) durable = undefined;
      },
      (err: Error) => {
        // Memory now holds a change that is not on disk: refuse further work rather than diverge.
        failure ??= new Error(`Cosmos emulator persistence failed: ${err.message}`);
        log("error", failure.message);
      },
    );
    if (journal.sizeSinceSnapshot >= compactAfter) compact();
  };

  const server = https.createServer({
    cert: packageFile("cert.pem"),
    key: packageFile("key.pem"),
    keepAlive: true,
  });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const account = state?.account;
    let body: unknown;
    const route = routes(req) as [Record<string, string>, RouteHandler] | undefined;
    const stalled = journal?.stalled;
    if (failure || !account || stalled) {
      // A full disk holds the journal back (it retries until writes succeed): refuse work that
      // could not be made durable, and serve again as soon as the journal catches up.
      res.statusCode = 503;
      res.setHeader("x-ms-retry-after-ms", "1000");
      const message = stalled
        ? `Cosmos emulator cannot persist changes for now: ${stalled.message}`
        : (failure?.message ?? "starting");
      body = { code: "ServiceUnavailable", message };
    } else if (route) {
      const [params, handler] = route;
      try {
        body = await handler(account, req, res, params);
      } catch (err) {
        log("error", `Cosmos emulator: ${req.method} ${req.url}: ${(err as Error).stack}`);
        body = { message: (err as Error).message };
        res.statusCode = 500;
      }
      const b = body as { message?: string } | undefined;
      if (res.statusCode > 399 && b && !b.message) b.message = "";
    } else {
      res.statusCode = 400;
      body = { message: "no route" };
    }
    // The durability barrier: wait for every change applied so far (this request's and earlier).
    if (durable) {
      try {
        await (journal?.untilStalled ? journal.untilStalled(durable) : durable);
      } catch (err) {
        // Not acknowledged: the change is in memory and reaches the disk once space returns
        // (a retry by the client then finds it), or the journal failed for good.
        res.statusCode = 503;
        res.setHeader("x-ms-retry-after-ms", "1000");
        body = { code: "ServiceUnavailable", message: failure?.message ?? (err as Error).message };
      }
    }
    // Response headers as @vercel/cosmosdb-server's own handler sets them.
    const etag = (body as { _etag?: string } | undefined)?._etag;
    if (etag) res.setHeader("etag", etag);
    res.setHeader("content-type", "application/json");
    res.setHeader("content-location", `https://${req.headers.host}${req.url}`);
    res.setHeader("connection", "keep-alive");
    res.setHeader("x-ms-activity-id", randomUUID());
    res.setHeader("x-ms-request-charge", "1");
    if (req.headers["x-ms-documentdb-populatequerymetrics"]) {
      res.setHeader("x-ms-documentdb-query-metrics", QUERY_METRICS);
    }
    if (req.headers["a-im"] && res.statusCode === 200) {
      if (req.headers["if-none-match"]) res.statusCode = 304;
      res.setHeader("etag", "1");
    }
    res.end(JSON.stringify(body));
  };

  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    count("cosmos.requests");
    handle(req, res).catch((err: Error) => {
      log("error", `Cosmos emulator: ${err.stack}`);
      if (!res.writableEnded) {
        res.statusCode = 500;
        res.end("");
      }
    });
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port, options.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await journal?.close().catch(() => undefined);
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  try {
    // The account advertises the bound address for endpoint discovery, as cosmosdb-server does:
    // clients given https://localhost:<port>/ then talk to https://127.0.0.1:<port>/, which
    // measured 2-3x faster through @azure/cosmos than when "localhost" is advertised.
    const advertised =
      options.host === "0.0.0.0" || options.host === "::" ? "localhost" : options.host;
    state = new CosmosState(advertised, port, onChange);
    if (options.journal) {
      if (options.journal.snapshot) state.restore(options.journal.snapshot);
      state.apply(options.journal.records);
    }
    if (options.provision) provisionAccount(state, await readProvision(options.provision), log);
    if (durable) await durable;
    if (failure) throw failure;
    // Fold what a crash left in the journal into a snapshot, so the next start stays short.
    if (journal && journal.sizeSinceSnapshot > 0) compact();
  } catch (err) {
    server.close();
    server.closeAllConnections();
    await journal?.close().catch(() => undefined);
    throw err;
  }

  const endpoint = `https://localhost:${port}/`;
  let closing: Promise<void> | undefined;
  return {
    port,
    endpoint,
    key: COSMOS_EMULATOR_KEY,
    connectionString: `AccountEndpoint=${endpoint};AccountKey=${COSMOS_EMULATOR_KEY};`,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          // Keep-alive clients may hold connections open; give in-flight requests a moment.
          setTimeout(() => server.closeAllConnections(), 1000).unref();
        });
        if (journal) {
          await durable?.catch(() => undefined);
          await compacting;
          // A final snapshot keeps the next startup short.
          if (!failure && journal.sizeSinceSnapshot > 0) compact();
          await compacting;
          await journal.close();
        }
      })();
      return closing;
    },
  };
}

/** Creates the databases and containers the file names; existing ones are left as they are. */
function provisionAccount(state: CosmosState, provision: CosmosProvision, log: Log): void {
  const account = state.account;
  for (const db of provision.databases) {
    if (!account.database(db.id).read()) {
      (account.databases as unknown as { create(d: object): unknown }).create({ id: db.id });
      log("info", `Cosmos: created database ${db.id}`);
    }
    const database = account.database(db.id);
    for (const c of db.containers) {
      const existing = database.collection(c.id).read() as
        { partitionKey?: { paths?: string[] } } | undefined;
      if (existing) {
        const paths = existing.partitionKey?.paths ?? [];
        if (paths[0] !== c.partitionKey) {
          log(
            "warn",
            `Cosmos: container ${db.id}/${c.id} exists with partition key ${paths.join(",")}, not ${c.partitionKey}; left unchanged`,
          );
        }
        continue;
      }
      (database.collections as unknown as { create(d: object): unknown }).create({
        id: c.id,
        partitionKey: { paths: [c.partitionKey], kind: "Hash", version: 2 },
        ...(c.defaultTtl ? { defaultTtl: c.defaultTtl } : {}),
      });
      log("info", `Cosmos: created container ${db.id}/${c.id} (partition key ${c.partitionKey})`);
    }
  }
}
