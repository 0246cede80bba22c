import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import {
  at,
  Expr,
  exprText,
  INFRA,
  readAllBicep,
  rel,
  Ternary,
  type BicepFile,
  type Obj,
  type Resource,
  type Value,
} from "./bicep";

const files = readAllBicep();
const byName = (name: string): BicepFile => {
  const f = files.find((x) => rel(x.file) === `infra/${name}`);
  if (!f) throw new Error(`infra/${name} not found`);
  return f;
};
const main = byName("main.bicep");
const declared = files.flatMap((f) => f.resources).filter((r) => !r.existing);
const one = (type: string): Resource => {
  const found = declared.filter((r) => r.type === type);
  expect(found).toHaveLength(1);
  return found[0];
};
const decorator = (d: { decorators: { name: string; args: Value[] }[] }, name: string) =>
  d.decorators.find((x) => x.name === name)?.args;

// Reviewed API versions. A new resource type or version must be added here on purpose.
const API_VERSIONS: Record<string, string> = {
  "Microsoft.Resources/resourceGroups": "2024-03-01",
  "Microsoft.ManagedIdentity/userAssignedIdentities": "2023-01-31",
  "Microsoft.Storage/storageAccounts": "2023-05-01",
  "Microsoft.Storage/storageAccounts/blobServices": "2023-05-01",
  "Microsoft.Storage/storageAccounts/blobServices/containers": "2023-05-01",
  "Microsoft.Storage/storageAccounts/queueServices": "2023-05-01",
  "Microsoft.Storage/storageAccounts/tableServices": "2023-05-01",
  "Microsoft.Web/serverfarms": "2024-04-01",
  "Microsoft.Web/sites": "2024-04-01",
  "Microsoft.Web/sites/config": "2024-04-01",
  "Microsoft.Web/sites/basicPublishingCredentialsPolicies": "2024-04-01",
  "Microsoft.DocumentDB/databaseAccounts": "2024-11-15",
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases": "2024-11-15",
  "Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers": "2024-11-15",
  "Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments": "2024-11-15",
  "Microsoft.ServiceBus/namespaces": "2024-01-01",
  "Microsoft.ServiceBus/namespaces/queues": "2024-01-01",
  "Microsoft.OperationalInsights/workspaces": "2023-09-01",
  "Microsoft.Insights/components": "2020-02-02",
  "Microsoft.Authorization/roleAssignments": "2022-04-01",
  "Microsoft.Network/virtualNetworks": "2024-05-01",
  "Microsoft.Network/privateEndpoints": "2024-05-01",
  "Microsoft.Network/privateEndpoints/privateDnsZoneGroups": "2024-05-01",
  "Microsoft.Network/privateDnsZones": "2024-06-01",
  "Microsoft.Network/privateDnsZones/virtualNetworkLinks": "2024-06-01",
};

// Built-in Azure role definition ids (Azure RBAC built-in roles reference).
const ROLE = {
  storageBlobDataOwner: "b7e6dc6d-f1e8-4753-8033-0f276bb0955b",
  storageQueueDataContributor: "974c5e8b-45b9-4653-ba55-5f855dd0fb88",
  storageTableDataContributor: "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3",
  serviceBusDataReceiver: "4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0",
  serviceBusDataSender: "69a216fc-b8fb-44d8-bc22-1f3c2cd27a39",
  serviceBusDataOwner: "090c5cfd-751d-490a-894a-3ce6f1109419",
  monitoringMetricsPublisher: "3913510d-42f4-4e42-8a64-420c390055eb",
};
const COSMOS_DATA_CONTRIBUTOR = "00000000-0000-0000-0000-000000000002";
const BROAD_ROLES = [
  "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", // Owner
  "b24988ac-6180-42a0-ab88-20f7382dd24c", // Contributor
  "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9", // User Access Administrator
  "17d1049b-9a84-46fb-8f53-869881c3d3ab", // Storage Account Contributor (grants listKeys)
];

function infraTextFiles(dir = INFRA): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? infraTextFiles(p) : [p];
  });
}

describe("resource types and API versions", () => {
  it("declares every expected resource type, each at its reviewed API version", () => {
    for (const r of declared) {
      expect({ type: r.type, apiVersion: r.apiVersion, in: rel(r.file) }).toEqual({
        type: r.type,
        apiVersion: API_VERSIONS[r.type] ?? "(unreviewed type)",
        in: rel(r.file),
      });
    }
    expect([...new Set(declared.map((r) => r.type))].sort()).toEqual(
      Object.keys(API_VERSIONS).sort(),
    );
  });

  it("references existing resources at the same API versions", () => {
    for (const r of files.flatMap((f) => f.resources).filter((x) => x.existing)) {
      expect(`${r.type}@${r.apiVersion}`).toBe(`${r.type}@${API_VERSIONS[r.type]}`);
    }
  });

  it("deploys at subscription scope into one resource group", () => {
    expect(main.targetScope).toBe("subscription");
    expect(main.resources.map((r) => r.type)).toEqual(["Microsoft.Resources/resourceGroups"]);
    for (const m of main.modules) expect(exprText(m.body.scope)).toBe("rg");
  });
});

describe("Flex Consumption function app", () => {
  const plan = one("Microsoft.Web/serverfarms");
  const site = one("Microsoft.Web/sites");
  const fac = at(site.body, "properties", "functionAppConfig") as Obj;
  const fn = byName("app/function.bicep");

  it("runs on an FC1 Linux plan", () => {
    expect(plan.body.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
    expect(at(plan.body, "properties", "reserved")).toBe(true);
    expect(site.body.kind).toBe("functionapp,linux");
    expect(exprText(at(site.body, "properties", "serverFarmId"))).toBe("plan.id");
    expect(at(site.body, "properties", "httpsOnly")).toBe(true);
  });

  it("runs Node 22", () => {
    expect(fac.runtime).toEqual({ name: "node", version: "22" });
  });

  it("reads its package from the deployment container with the user-assigned identity", () => {
    expect(at(fac, "deployment", "storage", "type")).toBe("blobContainer");
    expect(at(fac, "deployment", "storage", "authentication")).toEqual({
      type: "UserAssignedIdentity",
      userAssignedIdentityResourceId: new Expr("identityId"),
    });
    expect(at(site.body, "identity", "type")).toBe("UserAssigned");
    const api = main.modules.find((m) => m.name === "api")!;
    expect(exprText(at(api.body, "params", "deploymentContainerUrl"))).toContain(
      "${deploymentContainerName}",
    );
    expect(exprText(at(api.body, "params", "identityId"))).toBe("identity.outputs.id");
  });

  it("takes instance memory and maximum instances from parameters with allowed values", () => {
    const sc = fac.scaleAndConcurrency as Obj;
    expect(exprText(sc.instanceMemoryMB)).toBe("instanceMemoryMB");
    expect(exprText(sc.maximumInstanceCount)).toBe("maximumInstanceCount");
    for (const f of [main, fn]) {
      expect(decorator(f.params.get("instanceMemoryMB")!, "allowed")).toEqual([[512, 2048, 4096]]);
      expect(decorator(f.params.get("maximumInstanceCount")!, "minValue")).toEqual([40]);
      expect(decorator(f.params.get("maximumInstanceCount")!, "maxValue")).toEqual([1000]);
    }
    expect(main.params.get("instanceMemoryMB")!.default).toBe(2048);
    expect(main.params.get("maximumInstanceCount")!.default).toBe(100);
  });

  it("keeps the durable group always ready (parameter, default 1)", () => {
    const alwaysReady = at(fac, "scaleAndConcurrency", "alwaysReady");
    expect(alwaysReady).toBeInstanceOf(Ternary);
    const t = alwaysReady as Ternary;
    expect(t.condition).toBe("durableAlwaysReadyInstances > 0");
    expect(t.consequence).toEqual([
      { name: "durable", instanceCount: new Expr("durableAlwaysReadyInstances") },
    ]);
    expect(t.alternative).toEqual([]);
    expect(main.params.get("durableAlwaysReadyInstances")!.default).toBe(1);
    const api = main.modules.find((m) => m.name === "api")!;
    expect(exprText(at(api.body, "params", "durableAlwaysReadyInstances"))).toBe(
      "durableAlwaysReadyInstances",
    );
  });

  it("is tagged with the azd service name from azure.yaml", () => {
    expect(exprText(site.body.tags)).toContain("'azd-service-name': serviceName");
    const api = main.modules.find((m) => m.name === "api")!;
    expect(at(api.body, "params", "serviceName")).toBe("api");
    expect(readFileSync(join(INFRA, "..", "azure.yaml"), "utf8")).toMatch(/^ {2}api:$/m);
  });

  it("turns off publishing passwords (FTP and SCM basic auth)", () => {
    const policies = declared.filter(
      (r) => r.type === "Microsoft.Web/sites/basicPublishingCredentialsPolicies",
    );
    expect(policies.map((p) => [p.body.name, at(p.body, "properties", "allow")]).sort()).toEqual([
      ["ftp", false],
      ["scm", false],
    ]);
  });
});

describe("storage", () => {
  const storage = one("Microsoft.Storage/storageAccounts");
  const props = storage.body.properties as Obj;

  it("allows no shared keys, no public blobs, TLS 1.2+ and HTTPS only", () => {
    expect(props.allowSharedKeyAccess).toBe(false);
    expect(props.allowBlobPublicAccess).toBe(false);
    expect(props.minimumTlsVersion).toBe("TLS1_2");
    expect(props.supportsHttpsTrafficOnly).toBe(true);
    expect(props.defaultToOAuthAuthentication).toBe(true);
  });

  it("has blob, queue and table services and a private deployment container", () => {
    one("Microsoft.Storage/storageAccounts/blobServices");
    one("Microsoft.Storage/storageAccounts/queueServices");
    one("Microsoft.Storage/storageAccounts/tableServices");
    const container = one("Microsoft.Storage/storageAccounts/blobServices/containers");
    expect(exprText(container.body.name)).toBe("deploymentContainerName");
    expect(at(container.body, "properties", "publicAccess")).toBe("None");
  });
});

describe("local auth is disabled everywhere it can be", () => {
  it("Cosmos DB: serverless, keys off, TLS 1.2", () => {
    const cosmos = one("Microsoft.DocumentDB/databaseAccounts");
    const p = cosmos.body.properties as Obj;
    expect(p.disableLocalAuth).toBe(true);
    expect(p.disableKeyBasedMetadataWriteAccess).toBe(true);
    expect(p.capabilities).toEqual([{ name: "EnableServerless" }]);
    expect(p.minimalTlsVersion).toBe("Tls12");
  });

  it("Service Bus: SAS off, TLS 1.2; Standard by default and Premium when the VNet is on", () => {
    const sb = one("Microsoft.ServiceBus/namespaces");
    expect(at(sb.body, "properties", "disableLocalAuth")).toBe(true);
    expect(at(sb.body, "properties", "minimumTlsVersion")).toBe("1.2");
    expect(main.params.get("serviceBusSku")!.default).toBe("Standard");
    const sku = main.vars.get("effectiveServiceBusSku") as Ternary;
    expect([sku.condition, sku.consequence, sku.alternative]).toEqual([
      "vnetEnabled",
      "Premium",
      new Expr("serviceBusSku"),
    ]);
  });

  it("Application Insights: local auth off, workspace-based", () => {
    const ai = one("Microsoft.Insights/components");
    expect(at(ai.body, "properties", "DisableLocalAuth")).toBe(true);
    expect(exprText(at(ai.body, "properties", "WorkspaceResourceId"))).toBe("logAnalytics.id");
    one("Microsoft.OperationalInsights/workspaces");
  });
});

describe("no secrets", () => {
  const SECRET_PATTERNS = [
    /listKeys\s*\(/i,
    /listConnectionStrings\s*\(/i,
    /list(Account)?Sas\s*\(/i,
    /SharedAccessKey/i,
    /AccountKey\s*=/i,
    /primaryKey|secondaryKey|primaryMasterKey/i,
    /primaryConnectionString|secondaryConnectionString/i,
    /DefaultEndpointsProtocol=/i,
    /@secure\(\)/,
  ];
  const findSecrets = (text: string) => SECRET_PATTERNS.filter((p) => p.test(text));

  it("no key listing, account keys or secret-bearing connection strings anywhere in infra/", () => {
    const hits = infraTextFiles().flatMap((f) =>
      findSecrets(readFileSync(f, "utf8")).map((p) => `${rel(f)}: ${p}`),
    );
    expect(hits).toEqual([]);
  });

  it("the scan catches the usual ways keys leak into Bicep", () => {
    for (const leak of [
      "value: storage.listKeys().keys[0].value",
      "value: 'Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b'",
      "value: 'AccountEndpoint=https://x:443/;AccountKey=abc=='",
      "value: cosmos.listConnectionStrings().connectionStrings[0].connectionString",
      "value: 'DefaultEndpointsProtocol=https;AccountName=x;AccountKey=y'",
    ]) {
      expect(findSecrets(leak).length).toBeGreaterThan(0);
    }
  });

  it("the only connection string is Application Insights' (an address, not a credential)", () => {
    const refs = infraTextFiles()
      .filter((f) => f.endsWith(".bicep"))
      .flatMap((f) => readFileSync(f, "utf8").match(/[\w.]*\.ConnectionString\b/gi) ?? []);
    expect(new Set(refs)).toEqual(
      new Set([
        "applicationInsights.properties.ConnectionString",
        "monitoring.outputs.connectionString",
      ]),
    );
    const monitoring = byName("app/monitoring.bicep");
    expect(exprText(monitoring.outputs.get("connectionString")!.value)).toBe(
      "applicationInsights.properties.ConnectionString",
    );
  });
});

describe("role assignments (least privilege, one resource each)", () => {
  const rbac = byName("app/rbac.bicep");
  const roles = rbac.vars.get("roles") as Record<string, string>;
  const assignments = rbac.resources.filter(
    (r) => r.type === "Microsoft.Authorization/roleAssignments",
  );

  it("uses the built-in role ids the Functions docs list", () => {
    expect(roles).toEqual(ROLE);
    const all = infraTextFiles()
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    for (const broad of BROAD_ROLES) expect(all).not.toContain(broad);
  });

  it("storage: Blob Data Owner, Queue and Table Data Contributor (host + Durable provider)", () => {
    expect(rbac.vars.get("storageRoles")).toEqual([
      new Expr("roles.storageBlobDataOwner"),
      new Expr("roles.storageQueueDataContributor"),
      new Expr("roles.storageTableDataContributor"),
    ]);
  });

  it("Service Bus: Data Receiver + Data Sender; Owner only when opted in", () => {
    const sb = exprText(rbac.vars.get("serviceBusRoles"));
    expect(sb).toMatch(/\[\s*roles\.serviceBusDataReceiver\s+roles\.serviceBusDataSender\s*\]/);
    expect(sb).toContain("serviceBusOwnerForScaling ? [roles.serviceBusDataOwner] : []");
    expect(main.params.get("serviceBusOwnerForScaling")!.default).toBe(false);
  });

  it("every assignment is scoped to its resource, typed, and named deterministically", () => {
    expect(assignments.map((a) => exprText(a.body.scope)).sort()).toEqual([
      "applicationInsights",
      "serviceBus",
      "storage",
    ]);
    for (const a of assignments) {
      expect(exprText(a.body.name)).toMatch(/^guid\(/);
      expect(at(a.body, "properties", "principalType")).toBeDefined();
      expect(exprText(at(a.body, "properties", "roleDefinitionId")).replace(/\s+/g, "")).toMatch(
        /^subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions',(a\.roleId|roles\.\w+)\)$/,
      );
    }
    const telemetry = assignments.find((a) => exprText(a.body.scope) === "applicationInsights")!;
    expect(exprText(at(telemetry.body, "properties", "roleDefinitionId"))).toContain(
      "roles.monitoringMetricsPublisher",
    );
  });

  it("the app identity and, when given, the deploying user get the data roles", () => {
    const principals = exprText(rbac.vars.get("principals"));
    expect(principals).toMatch(/id: appPrincipalId\s+type: 'ServicePrincipal'/);
    expect(principals).toMatch(/empty\(userPrincipalId\)/);
    const params = main.modules.find((m) => m.name === "rbac")!.body.params as Obj;
    expect(exprText(params.appPrincipalId)).toBe("identity.outputs.principalId");
    expect(exprText(params.userPrincipalId)).toBe("principalId");
    // The app starts only after its roles exist.
    const api = main.modules.find((m) => m.name === "api")!;
    expect(api.body.dependsOn).toEqual([new Expr("rbac")]);
  });

  it("Cosmos DB: Built-in Data Contributor (SQL RBAC) for the identity and the user", () => {
    const cosmos = byName("app/cosmos.bicep");
    expect(cosmos.vars.get("dataContributorRoleId")).toBe(COSMOS_DATA_CONTRIBUTOR);
    const ra = one("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments");
    expect(ra.loop?.collection).toBe("dataContributors");
    expect(exprText(at(ra.body, "properties", "roleDefinitionId"))).toContain(
      "sqlRoleDefinitions/${dataContributorRoleId}",
    );
    const params = main.modules.find((m) => m.name === "cosmos")!.body.params as Obj;
    const contributors = exprText(params.dataContributors);
    expect(contributors).toContain("identity.outputs.principalId");
    expect(contributors).toContain("empty(principalId) ? [] : [principalId]");
  });
});

describe("optional VNet", () => {
  const network = byName("app/network.bicep");

  it("is off by default and deployed only when enabled", () => {
    expect(main.params.get("vnetEnabled")!.default).toBe(false);
    expect(main.modules.find((m) => m.name === "network")!.condition).toBe("vnetEnabled");
    const api = main.modules.find((m) => m.name === "api")!;
    expect(exprText(at(api.body, "params", "subnetId"))).toBe("network.?outputs.appSubnetId ?? ''");
  });

  it("delegates the app subnet to Microsoft.App/environments (Flex VNet integration)", () => {
    const vnet = one("Microsoft.Network/virtualNetworks");
    const subnets = at(vnet.body, "properties", "subnets") as Obj[];
    const app = subnets.find((s) => s.name === "app")!;
    expect(at(app, "properties", "delegations", 0, "properties", "serviceName")).toBe(
      "Microsoft.App/environments",
    );
  });

  it("has private endpoints for blob, queue, table, Cosmos DB and Service Bus", () => {
    const endpoints = network.vars.get("endpoints") as Obj[];
    expect(endpoints.map((e) => [e.groupId, e.target])).toEqual([
      ["blob", "storage"],
      ["queue", "storage"],
      ["table", "storage"],
      ["Sql", "cosmos"],
      ["namespace", "servicebus"],
    ]);
    const pe = one("Microsoft.Network/privateEndpoints");
    expect(pe.loop?.collection).toBe("endpoints");
    one("Microsoft.Network/privateEndpoints/privateDnsZoneGroups");
  });

  it("closes public network access on the data services when enabled", () => {
    for (const type of [
      "Microsoft.Storage/storageAccounts",
      "Microsoft.DocumentDB/databaseAccounts",
      "Microsoft.ServiceBus/namespaces",
    ]) {
      const p = at(one(type).body, "properties", "publicNetworkAccess") as Ternary;
      expect([p.condition, p.consequence, p.alternative]).toEqual([
        "vnetEnabled",
        "Disabled",
        "Enabled",
      ]);
    }
  });
});

describe("outputs and parameters", () => {
  it("outputs what azd and local development need", () => {
    for (const name of [
      "AZURE_LOCATION",
      "AZURE_TENANT_ID",
      "AZURE_RESOURCE_GROUP",
      "AZURE_FUNCTION_APP_NAME",
      "SERVICE_API_NAME",
      "SERVICE_API_URI",
      "COSMOS_ENDPOINT",
      "SERVICE_BUS_FULLY_QUALIFIED_NAMESPACE",
    ]) {
      expect(main.outputs.has(name)).toBe(true);
    }
    expect(exprText(main.outputs.get("AZURE_TENANT_ID")!.value)).toBe("tenant().tenantId");
  });

  it("main.parameters.json binds every parameter without a default, and only real ones", () => {
    const file = JSON.parse(readFileSync(join(INFRA, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: string }>;
    };
    const bound = Object.keys(file.parameters);
    for (const p of bound) expect(main.params.has(p)).toBe(true);
    for (const [name, p] of main.params) if (p.default === undefined) expect(bound).toContain(name);
    expect(file.parameters.environmentName.value).toBe("${AZURE_ENV_NAME}");
    expect(file.parameters.location.value).toBe("${AZURE_LOCATION}");
    expect(file.parameters.principalId.value).toBe("${AZURE_PRINCIPAL_ID}");
  });
});
