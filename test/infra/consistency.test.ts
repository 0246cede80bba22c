// The infrastructure provisions what the code uses: settings, binding connections, queues and
// containers are read from the app's sources (so the test follows the code), and compared with
// the Bicep and infra/app-entities.json.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import JSON5 from "json5";
import {
  arrayConstant,
  propertyValues,
  queueNames,
  readSources,
  settingReads,
  SRC,
  type SettingRead,
} from "./app-source";
import { at, Expr, exprText, INFRA, readBicep, REPO, type Obj } from "./bicep";

const main = readBicep(join(INFRA, "main.bicep"));
const fn = readBicep(join(INFRA, "app", "function.bicep"));
const entities = JSON.parse(readFileSync(join(INFRA, "app-entities.json"), "utf8")) as {
  cosmos: { containers: { name: string; partitionKey: string }[] };
  serviceBus: { queues: Record<string, string | number | boolean>[] };
};
const sources = readSources();
const where = (r: SettingRead) =>
  r.file.startsWith("const ") ? r.file : relative(REPO, r.file).split("\\").join("/");

// What the function app gets: the app-specific settings main.bicep passes, plus the
// identity-based ones function.bicep adds.
const apiModule = main.modules.find((m) => m.name === "api")!;
const appSettings = at(apiModule.body, "params", "appSettings") as Obj;
const identitySettings = fn.vars.get("identitySettings") as Obj;
const provisioned: Obj = { ...appSettings, ...identitySettings };
const names = Object.keys(provisioned);

/** Settings the code reads that must NOT exist in Azure, and why. */
const LOCAL_ONLY: Record<string, string> = {
  COSMOS_ALLOW_SELF_SIGNED:
    "accepts a self-signed certificate from a loopback emulator only; Azure endpoints have real certificates",
  FUNCTIONS_WORKER_RUNTIME:
    "Flex takes the runtime from functionAppConfig.runtime and rejects this setting",
};
/** App settings Flex Consumption rejects or ignores; none may be provisioned. */
const FLEX_UNSUPPORTED = [
  "FUNCTIONS_WORKER_RUNTIME",
  "FUNCTIONS_EXTENSION_VERSION",
  "WEBSITE_NODE_DEFAULT_VERSION",
  "WEBSITE_RUN_FROM_PACKAGE",
  "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
  "WEBSITE_CONTENTSHARE",
  "SCM_DO_BUILD_DURING_DEPLOYMENT",
  "ENABLE_ORYX_BUILD",
  "AzureWebJobsStorage",
];

/**
 * A name the code or a binding reads is covered when it is provisioned as-is or, for a
 * connection, in identity form (`X__fullyQualifiedNamespace`, `X__accountEndpoint`, ...).
 */
function coverage(name: string): "exact" | "identity" | "local-only" | "missing" {
  if (names.includes(name)) return "exact";
  if (names.some((n) => n.startsWith(`${name}__`))) return "identity";
  if (name in LOCAL_ONLY) return "local-only";
  return "missing";
}

describe("app settings", () => {
  const reads = settingReads(sources);

  it("the scan sees every way code reads settings, queues and connections", () => {
    const dir = mkdtempSync(join(tmpdir(), "infra-scan-"));
    try {
      writeFileSync(
        join(dir, "sample.ts"),
        [
          'const SB = "OrdersBus";',
          'const QUEUES = { extra: "extra-queue" } as const;',
          "const env = process.env;",
          "export const a = process.env.NEW_FLAG;",
          'export const b = process.env["OTHER_FLAG"];',
          'read(env, "THIRD_FLAG");',
          'identityOptions(env, "PaymentsConnection");',
          "read(env, `${prefix}__tenantId`);",
          'app.serviceBusQueue("x", { connection: SB, queueName: QUEUES.extra, handler });',
          'client.createSender("outbound");',
        ].join("\n"),
      );
      const sample = readSources(dir);
      expect(settingReads(sample).map((r) => r.name)).toEqual([
        "NEW_FLAG",
        "OTHER_FLAG",
        "THIRD_FLAG",
        "PaymentsConnection",
        "*__tenantId",
      ]);
      expect(propertyValues(sample, "connection").map((r) => r.name)).toEqual(["OrdersBus"]);
      expect(
        queueNames(sample)
          .map((r) => r.name)
          .sort(),
      ).toEqual(["extra-queue", "extra-queue", "outbound"]);
      // ...and a setting nobody provisioned is reported.
      expect(coverage("NEW_FLAG")).toBe("missing");
      expect(coverage("ServiceBusConnection")).toBe("identity");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds the settings the code reads (the scan works on the real sources)", () => {
    const found = new Set(reads.map((r) => r.name));
    expect(found.has("COSMOS_DATABASE_NAME")).toBe(true);
    expect(found.has("CosmosDBConnection")).toBe(true);
    expect(found.has("ServiceBusConnection")).toBe(true);
  });

  it("every setting the code reads is provisioned (as-is, in identity form, or local-only)", () => {
    const missing = reads
      .filter((r) => !r.name.startsWith("*"))
      .filter((r) => coverage(r.name) === "missing")
      .map((r) => `${r.name} (read in ${where(r)})`);
    expect(missing).toEqual([]);
  });

  it("identity suffixes the code reads (`${connection}__x`) exist for every identity connection", () => {
    const suffixes = [...new Set(reads.filter((r) => r.name.startsWith("*")).map((r) => r.name))];
    const connections = [
      ...new Set(names.filter((n) => n.includes("__")).map((n) => n.split("__")[0])),
    ];
    for (const suffix of suffixes) {
      for (const c of connections) expect(names).toContain(`${c}${suffix.slice(1)}`);
    }
  });

  it("every binding connection is provisioned in identity form", () => {
    const connections = propertyValues(readSources(join(SRC, "functions")), "connection");
    for (const c of connections) {
      expect({ connection: c.name, in: where(c), coverage: coverage(c.name) }).toEqual({
        connection: c.name,
        in: where(c),
        coverage: "identity",
      });
    }
    // Durable's client and triggers use AzureWebJobsStorage.
    expect(coverage("AzureWebJobsStorage")).toBe("identity");
  });

  it("every %SETTING% in host.json is provisioned", () => {
    const hostJson = join(REPO, "host.json");
    const text = existsSync(hostJson) ? readFileSync(hostJson, "utf8") : "{}";
    const refs = [...text.matchAll(/%([A-Za-z0-9_]+)%/g)].map((m) => m[1]);
    for (const r of refs)
      expect({ setting: r, coverage: coverage(r) }).toEqual({ setting: r, coverage: "exact" });
  });

  it("each identity connection names the user-assigned identity", () => {
    const connections = [
      ...new Set(names.filter((n) => n.includes("__")).map((n) => n.split("__")[0])),
    ];
    expect(connections.sort()).toEqual([
      "AzureWebJobsStorage",
      "CosmosDBConnection",
      "ServiceBusConnection",
    ]);
    for (const c of connections) {
      expect(provisioned[`${c}__credential`]).toBe("managedidentity");
      expect(exprText(provisioned[`${c}__clientId`])).toBe("identityClientId");
    }
    expect(exprText(provisioned.AZURE_CLIENT_ID)).toBe("identityClientId");
    expect(exprText(provisioned.ServiceBusConnection__fullyQualifiedNamespace)).toBe(
      "serviceBus.outputs.fullyQualifiedNamespace",
    );
    expect(exprText(provisioned.CosmosDBConnection__accountEndpoint)).toBe(
      "cosmos.outputs.endpoint",
    );
    expect(exprText(provisioned.AzureWebJobsStorage__accountName)).toBe("storageAccountName");
  });

  it("Application Insights authenticates with the identity (Entra ID)", () => {
    expect(exprText(provisioned.APPLICATIONINSIGHTS_AUTHENTICATION_STRING)).toBe(
      "'ClientId=${identityClientId};Authorization=AAD'",
    );
    expect(exprText(provisioned.APPLICATIONINSIGHTS_CONNECTION_STRING)).toBe(
      "monitoring.outputs.connectionString",
    );
  });

  it("sets the app's own settings from parameters whose defaults match the code's", () => {
    expect(exprText(provisioned.COSMOS_DATABASE_NAME)).toBe("cosmosDatabaseName");
    expect(exprText(provisioned.TASKHUB_NAME)).toBe("taskHubName");
    expect(exprText(provisioned.APPROVAL_THRESHOLD_MINOR)).toBe("string(approvalThresholdMinor)");
    expect(exprText(provisioned.APPROVAL_TIMEOUT)).toBe("approvalTimeout");
    const config = readFileSync(join(SRC, "config.ts"), "utf8");
    const codeDefault = (name: string) =>
      new RegExp(`${name}:\\s*"([^"]*)"`).exec(config)?.[1] ??
      `(no default for ${name} in src/config.ts)`;
    expect(String(main.params.get("cosmosDatabaseName")!.default)).toBe(
      codeDefault("COSMOS_DATABASE_NAME"),
    );
    expect(String(main.params.get("approvalThresholdMinor")!.default)).toBe(
      codeDefault("APPROVAL_THRESHOLD_MINOR"),
    );
    expect(String(main.params.get("approvalTimeout")!.default)).toBe(
      codeDefault("APPROVAL_TIMEOUT"),
    );
    // The Azure Storage provider's task hub rule: 3-45 letters and digits, starting with a letter.
    expect(String(main.params.get("taskHubName")!.default)).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
  });

  it("provisions no setting Flex Consumption rejects, no local-only setting, and no secret", () => {
    for (const n of [...FLEX_UNSUPPORTED, ...Object.keys(LOCAL_ONLY)])
      expect(names).not.toContain(n);
    for (const [name, value] of Object.entries(provisioned)) {
      expect({ name, value: exprText(value) }).not.toEqual({
        name,
        value: expect.stringMatching(/AccountKey|SharedAccessKey|listKeys|password|secret/i),
      });
    }
  });
});

describe("every identity connection has its data roles", () => {
  const rbac = readBicep(join(INFRA, "app", "rbac.bicep"));
  const cosmos = readBicep(join(INFRA, "app", "cosmos.bicep"));
  const scoped = (scope: string) =>
    rbac.resources.filter(
      (r) =>
        r.type === "Microsoft.Authorization/roleAssignments" && exprText(r.body.scope) === scope,
    );
  // connection prefix -> how its access is granted
  const grants: Record<string, () => void> = {
    AzureWebJobsStorage: () => {
      const [a] = scoped("storage");
      expect(a.loop?.collection).toBe("storageAssignments");
      expect(exprText(rbac.vars.get("storageAssignments"))).toContain("map(storageRoles");
      expect(rbac.vars.get("storageRoles")).toHaveLength(3);
    },
    ServiceBusConnection: () => {
      const [a] = scoped("serviceBus");
      expect(a.loop?.collection).toBe("serviceBusAssignments");
      expect(exprText(rbac.vars.get("serviceBusAssignments"))).toContain("map(serviceBusRoles");
    },
    CosmosDBConnection: () => {
      const ra = cosmos.resources.find(
        (r) => r.type === "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments",
      )!;
      expect(exprText(at(ra.body, "properties", "principalId"))).toBe("principalId");
      expect(ra.loop?.variables).toEqual(["principalId"]);
    },
  };

  it("storage, Service Bus and Cosmos DB connections each have role assignments", () => {
    const connections = [
      ...new Set(names.filter((n) => n.includes("__")).map((n) => n.split("__")[0])),
    ];
    for (const c of connections) {
      expect(Object.keys(grants)).toContain(c);
      grants[c]();
    }
  });

  it("telemetry over Entra ID has Monitoring Metrics Publisher", () => {
    expect(scoped("applicationInsights")).toHaveLength(1);
  });
});

describe("queues", () => {
  const infraQueues = new Map(entities.serviceBus.queues.map((q) => [String(q.name), q]));
  const used = queueNames(sources);

  it("the code uses queues and every one of them is provisioned", () => {
    expect(used.length).toBeGreaterThan(0);
    for (const q of used)
      expect({ queue: q.name, in: where(q), provisioned: infraQueues.has(q.name) }).toEqual({
        queue: q.name,
        in: where(q),
        provisioned: true,
      });
  });

  it("every provisioned queue is used by the code", () => {
    const usedNames = new Set(used.map((q) => q.name));
    for (const name of infraQueues.keys()) expect(usedNames).toContain(name);
  });

  it("have the delivery, lock and dead-letter settings the app expects", () => {
    expect(infraQueues.get("orders-inbound")).toMatchObject({
      maxDeliveryCount: 10,
      lockDuration: "PT1M",
      defaultMessageTimeToLive: "P14D",
      deadLetteringOnMessageExpiration: true,
      requiresDuplicateDetection: true,
      duplicateDetectionHistoryTimeWindow: "PT10M",
    });
    expect(infraQueues.get("notifications")).toMatchObject({
      maxDeliveryCount: 5,
      lockDuration: "PT30S",
      defaultMessageTimeToLive: "P1D",
      deadLetteringOnMessageExpiration: true,
      requiresDuplicateDetection: false,
    });
  });

  it("the Bicep passes every queue setting through", () => {
    const sb = readBicep(join(INFRA, "app", "servicebus.bicep"));
    const queue = sb.resources.find((r) => r.type === "Microsoft.ServiceBus/namespaces/queues")!;
    expect(queue.loop?.collection).toBe("queues");
    const props = queue.body.properties as Obj;
    for (const key of Object.keys(infraQueues.get("orders-inbound")!).filter((k) => k !== "name")) {
      expect(exprText(props[key])).toMatch(new RegExp(`^q\\.\\??${key}$`));
    }
    expect(
      exprText(at(main.modules.find((m) => m.name === "serviceBus")!.body, "params", "queues")),
    ).toBe("entities.serviceBus.queues");
    expect(main.vars.get("entities")).toEqual(new Expr("loadJsonContent('app-entities.json')"));
  });

  const emulatorConfig = join(REPO, "servicebus-emulator", "config", "Config.json");
  it("match the local Service Bus emulator's Config.json", () => {
    const config = JSON5.parse(readFileSync(emulatorConfig, "utf8")) as {
      UserConfig: {
        Namespaces: { Queues: { Name: string; Properties: Record<string, unknown> }[] }[];
      };
    };
    const local = config.UserConfig.Namespaces.flatMap((n) => n.Queues);
    expect(local.map((q) => q.Name).sort()).toEqual([...infraQueues.keys()].sort());
    for (const q of local) {
      const azure = infraQueues.get(q.Name)!;
      const p = q.Properties;
      expect(Object.values(pick(azure, true))).not.toContain(undefined);
      expect({ queue: q.Name, ...pick(p) }).toEqual({ queue: q.Name, ...pick(azure, true) });
    }
  });
});

function pick(o: Record<string, unknown>, camel = false) {
  const k = (s: string) => (camel ? s[0].toLowerCase() + s.slice(1) : s);
  const dedup = o[k("RequiresDuplicateDetection")] === true;
  return {
    MaxDeliveryCount: o[k("MaxDeliveryCount")],
    LockDuration: o[k("LockDuration")],
    DefaultMessageTimeToLive: o[k("DefaultMessageTimeToLive")],
    DeadLetteringOnMessageExpiration: o[k("DeadLetteringOnMessageExpiration")],
    RequiresDuplicateDetection: o[k("RequiresDuplicateDetection")],
    ...(dedup
      ? { DuplicateDetectionHistoryTimeWindow: o[k("DuplicateDetectionHistoryTimeWindow")] }
      : {}),
  };
}

describe("Cosmos DB containers", () => {
  it("are exactly the app's COSMOS_CONTAINERS, with the same partition keys", () => {
    const app = arrayConstant(
      join(SRC, "adapters", "cosmos", "containers.ts"),
      "COSMOS_CONTAINERS",
    );
    expect(app.length).toBeGreaterThan(0);
    expect(
      entities.cosmos.containers.map((c) => ({ id: c.name, partitionKey: c.partitionKey })),
    ).toEqual(app.map((c) => ({ id: c.id, partitionKey: c.partitionKey })));
  });

  it("the Bicep creates each one in the app's database with its partition key", () => {
    const cosmos = readBicep(join(INFRA, "app", "cosmos.bicep"));
    const c = cosmos.resources.find(
      (r) => r.type === "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers",
    )!;
    expect(c.loop?.collection).toBe("containers");
    expect(exprText(at(c.body, "properties", "resource", "id"))).toBe("c.name");
    expect(at(c.body, "properties", "resource", "partitionKey", "paths")).toEqual([
      new Expr("c.partitionKey"),
    ]);
    const params = main.modules.find((m) => m.name === "cosmos")!.body.params as Obj;
    expect(exprText(params.containers)).toBe("entities.cosmos.containers");
    expect(exprText(params.databaseName)).toBe("cosmosDatabaseName");
  });
});
