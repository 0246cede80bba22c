// The infrastructure provisions what the code uses: settings, binding connections, queues and
// containers are read from the app's sources (so the test follows the code), and compared with
// the compiled ARM template (the real Bicep compiler's output) and infra/app-entities.json.
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
import { at, Compiled } from "./arm";
import { INFRA, REPO, type ArmParameter } from "./compiler";

const arm = new Compiled();
const mainParams = arm.template.parameters as Record<string, ArmParameter>;
const fn = arm.moduleTemplate("api");
const durableBackends = arm.template.variables!.durableBackends as Record<
  string,
  { connectionStringName: string }
>;
const entities = JSON.parse(readFileSync(join(INFRA, "app-entities.json"), "utf8")) as {
  cosmos: { containers: { name: string; partitionKey: string }[] };
  serviceBus: { queues: Record<string, string | number | boolean>[] };
};
const sources = readSources();
const where = (r: SettingRead) =>
  r.file.startsWith("const ") ? r.file : relative(REPO, r.file).split("\\").join("/");

// What the function app gets: the app-specific settings main.bicep passes, the Durable backend's
// connection (the Durable Task Scheduler's; Azure Storage uses AzureWebJobsStorage) and the
// identity-based settings function.bicep adds. Values are as compiled: literals or expressions.
type Settings = Record<string, unknown>;
const appSettings = arm.moduleParams("api").appSettings as Settings;
const identitySettings = fn.variables!.identitySettings as Settings;
const durableSettingNames = Object.values(durableBackends)
  .map((b) => b.connectionStringName)
  .filter(Boolean);
const provisioned: Settings = {
  ...appSettings,
  ...Object.fromEntries(durableSettingNames.map((n) => [n, "(durableSettings)"])),
  ...identitySettings,
};
const names = Object.keys(provisioned);

/** Settings the code reads that must NOT exist in Azure, and why. */
const LOCAL_ONLY: Record<string, string> = {
  COSMOS_ALLOW_SELF_SIGNED:
    "accepts a self-signed certificate from a loopback emulator only; Azure endpoints have real certificates",
  FUNCTIONS_WORKER_RUNTIME:
    "Flex takes the runtime from functionAppConfig.runtime and rejects this setting",
  OTEL_EXPORTER_OTLP_ENDPOINT:
    "the local host's OTLP receiver or a developer's collector; in Azure telemetry goes to Application Insights",
  OTEL_METRIC_EXPORT_INTERVAL:
    "the local host exports metrics every second for its tests; the Azure Monitor exporter keeps its own interval",
  LOCAL_TRACE_RECEIVER_URL:
    "the local host's OTLP receiver the operator API reads traces from; in Azure the API links to Application Insights",
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
      expect(provisioned[`${c}__clientId`]).toBe("[parameters('identityClientId')]");
    }
    expect(provisioned.AZURE_CLIENT_ID).toBe("[parameters('identityClientId')]");
    expect(provisioned.ServiceBusConnection__fullyQualifiedNamespace).toBe(
      "[reference('serviceBus').outputs.fullyQualifiedNamespace.value]",
    );
    expect(provisioned.CosmosDBConnection__accountEndpoint).toBe(
      "[reference('cosmos').outputs.endpoint.value]",
    );
    expect(provisioned.AzureWebJobsStorage__accountName).toBe("[parameters('storageAccountName')]");
  });

  it("the Durable Task Scheduler connection uses the identity: host.json names that setting", () => {
    expect(durableSettingNames).toEqual(["DURABLE_TASK_SCHEDULER_CONNECTION_STRING"]);
    const raw = arm.moduleParams("api").durableSettings as string;
    expect(raw).toContain("Authentication=ManagedIdentity;ClientID={1}");
    expect(raw).toContain("reference('identity').outputs.clientId.value");
  });

  it("Application Insights authenticates with the identity (Entra ID)", () => {
    expect(provisioned.APPLICATIONINSIGHTS_AUTHENTICATION_STRING).toBe(
      "[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]",
    );
    expect(provisioned.APPLICATIONINSIGHTS_CONNECTION_STRING).toBe(
      "[reference('monitoring').outputs.connectionString.value]",
    );
    // The operator API's trace link (transaction search) names the resource.
    expect(provisioned.APPLICATIONINSIGHTS_RESOURCE_ID).toBe(
      "[reference('monitoring').outputs.applicationInsightsId.value]",
    );
  });

  it("token validation: the tenant's Entra ID v2 authority and the API's client id", () => {
    expect(provisioned.AUTH_AUTHORITY).toBe("[variables('authAuthority')]");
    expect(arm.template.variables!.authAuthority).toBe(
      "[format('{0}{1}/v2.0', environment().authentication.loginEndpoint, tenant().tenantId)]",
    );
    expect(provisioned.AUTH_AUDIENCE).toBe("[parameters('apiClientId')]");
  });

  it("the console signs in on the API's app registration with its delegated console scope", () => {
    expect(provisioned.CONSOLE_CLIENT_ID).toBe("[parameters('apiClientId')]");
    expect(provisioned.CONSOLE_SCOPE).toBe(
      "[format('openid profile api://{0}/Orders.Console', parameters('apiClientId'))]",
    );
  });

  it("sets the app's own settings from parameters whose defaults match the code's", () => {
    expect(provisioned.COSMOS_DATABASE_NAME).toBe("[parameters('cosmosDatabaseName')]");
    expect(provisioned.TASKHUB_NAME).toBe("[parameters('taskHubName')]");
    expect(provisioned.APPROVAL_THRESHOLD_MINOR).toBe(
      "[string(parameters('approvalThresholdMinor'))]",
    );
    expect(provisioned.APPROVAL_TIMEOUT).toBe("[parameters('approvalTimeout')]");
    const config = readFileSync(join(SRC, "config.ts"), "utf8");
    const codeDefault = (name: string) =>
      new RegExp(`${name}:\\s*"([^"]*)"`).exec(config)?.[1] ??
      `(no default for ${name} in src/config.ts)`;
    expect(String(mainParams.cosmosDatabaseName.defaultValue)).toBe(
      codeDefault("COSMOS_DATABASE_NAME"),
    );
    expect(String(mainParams.approvalThresholdMinor.defaultValue)).toBe(
      codeDefault("APPROVAL_THRESHOLD_MINOR"),
    );
    expect(String(mainParams.approvalTimeout.defaultValue)).toBe(codeDefault("APPROVAL_TIMEOUT"));
    // The Azure Storage provider's task hub rule: 3-45 letters and digits, starting with a letter.
    expect(String(mainParams.taskHubName.defaultValue)).toMatch(/^[A-Za-z][A-Za-z0-9]{2,44}$/);
  });

  it("provisions no setting Flex Consumption rejects, no local-only setting, and no secret", () => {
    for (const n of [...FLEX_UNSUPPORTED, ...Object.keys(LOCAL_ONLY)])
      expect(names).not.toContain(n);
    for (const [name, value] of Object.entries(provisioned)) {
      expect({ name, value: String(value) }).not.toEqual({
        name,
        value: expect.stringMatching(/AccountKey|SharedAccessKey|listKeys|password|secret/i),
      });
    }
  });
});

describe("every identity connection has its data roles", () => {
  const assignments = arm.ofType("Microsoft.Authorization/roleAssignments");
  const scoped = (type: string) => assignments.filter((a) => String(a.scope).includes(`'${type}'`));
  const rbac = arm.moduleTemplate("rbac");
  // connection prefix -> how its access is granted
  const grants: Record<string, () => void> = {
    AzureWebJobsStorage: () => {
      const [a] = scoped("Microsoft.Storage/storageAccounts");
      expect(a.copy?.count).toBe("[length(variables('storageAssignments'))]");
      expect(rbac.variables!.storageRoles).toHaveLength(3);
    },
    ServiceBusConnection: () => {
      const [a] = scoped("Microsoft.ServiceBus/namespaces");
      expect(a.copy?.count).toBe("[length(variables('serviceBusAssignments'))]");
    },
    CosmosDBConnection: () => {
      const ra = arm.one("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments");
      expect(at(ra, "properties", "principalId")).toBe(
        "[parameters('dataContributors')[copyIndex()]]",
      );
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

  it("the Durable Task Scheduler connection has Durable Task Data Contributor on its task hub", () => {
    expect(scoped("Microsoft.DurableTask/schedulers/taskHubs")).toHaveLength(2);
  });

  it("telemetry over Entra ID has Monitoring Metrics Publisher", () => {
    expect(scoped("Microsoft.Insights/components")).toHaveLength(1);
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
    const queue = arm.one("Microsoft.ServiceBus/namespaces/queues");
    expect(queue.copy?.count).toBe("[length(parameters('queues'))]");
    const props = queue.properties as Record<string, string>;
    for (const key of Object.keys(infraQueues.get("orders-inbound")!).filter((k) => k !== "name")) {
      expect(props[key]).toMatch(
        new RegExp(
          `^\\[(tryGet\\()?parameters\\('queues'\\)\\[copyIndex\\(\\)\\](\\.${key}|, '${key}'\\))\\]$`,
        ),
      );
    }
    // main.bicep loads app-entities.json at compile time: the compiled queues are its literal copy.
    expect(arm.moduleParams("serviceBus").queues).toBe("[variables('entities').serviceBus.queues]");
    expect(at(arm.template.variables, "$fxv#0")).toEqual(entities);
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
    const c = arm.one("Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers");
    expect(c.copy?.count).toBe("[length(parameters('containers'))]");
    expect(at(c, "properties", "resource", "id")).toBe(
      "[parameters('containers')[copyIndex()].name]",
    );
    expect(at(c, "properties", "resource", "partitionKey", "paths")).toEqual([
      "[parameters('containers')[copyIndex()].partitionKey]",
    ]);
    const params = arm.moduleParams("cosmos");
    expect(params.containers).toBe("[variables('entities').cosmos.containers]");
    expect(params.databaseName).toBe("[parameters('cosmosDatabaseName')]");
  });
});
