// Assertions on the ARM template the real Bicep compiler writes from infra/main.bicep: resource
// types and API versions, identities, role assignments, network options and the dependencies that
// matter. Values that depend on a parameter are ARM expressions; the tests compare them as the
// compiler wrote them, and per-option values live in literal tables (infra/app/durable-backends.bicep).
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { at, Compiled, type Located } from "./arm";
import { INFRA, type ArmParameter } from "./compiler";

const arm = new Compiled();
const params = arm.template.parameters as Record<string, ArmParameter>;
const inModule = (symbol: string) => arm.resources.filter((r) => r.modules[0] === symbol);
const props = (r: Located) => r.properties as Record<string, unknown>;

// Reviewed API versions, all known to the pinned compiler (it warns on any it does not know, and
// the compile fails on any warning). A new type or version is added here on purpose.
const API_VERSIONS: Record<string, string> = {
  "Microsoft.Resources/resourceGroups": "2024-03-01",
  "Microsoft.Resources/deployments": "2025-04-01",
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
  "Microsoft.Insights/actionGroups": "2023-01-01",
  "Microsoft.Insights/scheduledQueryRules": "2023-12-01",
  "Microsoft.Authorization/roleAssignments": "2022-04-01",
  "Microsoft.DurableTask/schedulers": "2026-02-01",
  "Microsoft.DurableTask/schedulers/taskHubs": "2026-02-01",
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
const DURABLE_TASK_DATA_CONTRIBUTOR = "0ad04412-c4d5-4796-b79c-f76d14c8d402";
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
    if (name === "obj" || name === "bin") return [];
    return statSync(p).isDirectory() ? infraTextFiles(p) : [p];
  });
}

describe("resource types and API versions (compiled template)", () => {
  it("declares every expected resource type, each at its reviewed API version", () => {
    const declared = arm.resources.filter((r) => !r.existing);
    for (const r of declared) {
      expect(`${r.type}@${r.apiVersion}`).toBe(`${r.type}@${API_VERSIONS[r.type] ?? "unreviewed"}`);
    }
    expect([...new Set(declared.map((r) => r.type))].sort()).toEqual(
      Object.keys(API_VERSIONS).sort(),
    );
  });

  it("deploys at subscription scope into one resource group, every module inside it", () => {
    expect(arm.template.$schema).toContain("subscriptionDeploymentTemplate.json");
    const top = arm.resources.filter((r) => r.modules.length === 0);
    expect(
      top.filter((r) => r.type !== "Microsoft.Resources/deployments").map((r) => r.type),
    ).toEqual(["Microsoft.Resources/resourceGroups"]);
    for (const m of top.filter((r) => r.type === "Microsoft.Resources/deployments")) {
      expect({ module: m.symbol, resourceGroup: m.resourceGroup }).toEqual({
        module: m.symbol,
        resourceGroup: expect.stringContaining("rg-{0}"),
      });
      expect(m.dependsOn).toContain("rg");
    }
  });
});

describe("Flex Consumption function app", () => {
  const plan = arm.one("Microsoft.Web/serverfarms");
  const site = arm.one("Microsoft.Web/sites");
  const fac = at(site, "properties", "functionAppConfig") as Record<string, unknown>;
  const fn = arm.moduleTemplate("api").parameters as Record<string, ArmParameter>;

  it("runs on an FC1 Linux plan, HTTPS only", () => {
    expect(plan.sku).toEqual({ name: "FC1", tier: "FlexConsumption" });
    expect(at(plan, "properties", "reserved")).toBe(true);
    expect(site.kind).toBe("functionapp,linux");
    expect(at(site, "properties", "serverFarmId")).toBe(
      "[resourceId('Microsoft.Web/serverfarms', parameters('planName'))]",
    );
    expect(at(site, "properties", "httpsOnly")).toBe(true);
    expect(at(site, "properties", "siteConfig", "minTlsVersion")).toBe("1.2");
  });

  it("runs Node 22", () => {
    expect(fac.runtime).toEqual({ name: "node", version: "22" });
  });

  it("reads its package from the deployment container with the user-assigned identity", () => {
    expect(at(fac, "deployment", "storage")).toEqual({
      type: "blobContainer",
      value: "[parameters('deploymentContainerUrl')]",
      authentication: {
        type: "UserAssignedIdentity",
        userAssignedIdentityResourceId: "[parameters('identityId')]",
      },
    });
    expect(at(site, "identity", "type")).toBe("UserAssigned");
    const p = arm.moduleParams("api");
    expect(p.deploymentContainerUrl).toBe(
      "[format('{0}{1}', reference('storage').outputs.blobEndpoint.value, variables('deploymentContainerName'))]",
    );
    expect(p.identityId).toBe("[reference('identity').outputs.id.value]");
  });

  it("takes instance memory and maximum instances from parameters with allowed values", () => {
    expect(at(fac, "scaleAndConcurrency", "instanceMemoryMB")).toBe(
      "[parameters('instanceMemoryMB')]",
    );
    for (const p of [params, fn]) {
      expect(p.instanceMemoryMB.allowedValues).toEqual([512, 2048, 4096]);
      expect([p.maximumInstanceCount.minValue, p.maximumInstanceCount.maxValue]).toEqual([
        40, 1000,
      ]);
    }
    expect(params.instanceMemoryMB.defaultValue).toBe(2048);
    expect(params.maximumInstanceCount.defaultValue).toBe(100);
  });

  it("keeps the durable group always ready (parameter, default 1; 0 turns it off)", () => {
    expect(at(fac, "scaleAndConcurrency", "alwaysReady")).toBe(
      "[if(greater(parameters('durableAlwaysReadyInstances'), 0), createArray(createObject('name', 'durable', 'instanceCount', parameters('durableAlwaysReadyInstances'))), createArray())]",
    );
    expect(params.durableAlwaysReadyInstances.defaultValue).toBe(1);
  });

  it("is tagged with the azd service name from azure.yaml", () => {
    expect(site.tags).toBe(
      "[union(parameters('tags'), createObject('azd-service-name', parameters('serviceName')))]",
    );
    expect(arm.moduleParams("api").serviceName).toBe("api");
    expect(readFileSync(join(INFRA, "..", "azure.yaml"), "utf8")).toMatch(/^ {2}api:$/m);
  });

  it("turns off publishing passwords (FTP and SCM basic auth)", () => {
    const policies = arm.ofType("Microsoft.Web/sites/basicPublishingCredentialsPolicies");
    expect(policies.map((p) => [p.name, at(p, "properties", "allow")]).sort()).toEqual([
      ["[format('{0}/{1}', parameters('name'), 'ftp')]", false],
      ["[format('{0}/{1}', parameters('name'), 'scm')]", false],
    ]);
  });

  it("starts only after its data roles exist", () => {
    expect(arm.module("api").dependsOn).toEqual(
      expect.arrayContaining(["rbac", "durableScheduler"]),
    );
  });
});

describe("storage", () => {
  const storage = props(arm.one("Microsoft.Storage/storageAccounts"));

  it("allows no shared keys, no public blobs, TLS 1.2+ and HTTPS only", () => {
    expect(storage).toMatchObject({
      allowSharedKeyAccess: false,
      allowBlobPublicAccess: false,
      minimumTlsVersion: "TLS1_2",
      supportsHttpsTrafficOnly: true,
      defaultToOAuthAuthentication: true,
    });
  });

  it("has blob, queue and table services and a private deployment container", () => {
    arm.one("Microsoft.Storage/storageAccounts/queueServices");
    arm.one("Microsoft.Storage/storageAccounts/tableServices");
    const container = arm.one("Microsoft.Storage/storageAccounts/blobServices/containers");
    expect(container.name).toContain("parameters('deploymentContainerName')");
    expect(at(container, "properties", "publicAccess")).toBe("None");
  });
});

describe("local auth is disabled everywhere it can be", () => {
  it("Cosmos DB: serverless, keys off, TLS 1.2", () => {
    expect(props(arm.one("Microsoft.DocumentDB/databaseAccounts"))).toMatchObject({
      disableLocalAuth: true,
      disableKeyBasedMetadataWriteAccess: true,
      capabilities: [{ name: "EnableServerless" }],
      minimalTlsVersion: "Tls12",
    });
  });

  it("Service Bus: SAS off, TLS 1.2; Standard by default and Premium when the VNet is on", () => {
    expect(props(arm.one("Microsoft.ServiceBus/namespaces"))).toMatchObject({
      disableLocalAuth: true,
      minimumTlsVersion: "1.2",
    });
    expect(params.serviceBusSku.defaultValue).toBe("Standard");
    expect(arm.template.variables!.effectiveServiceBusSku).toBe(
      "[if(parameters('vnetEnabled'), 'Premium', parameters('serviceBusSku'))]",
    );
  });

  it("Application Insights: local auth off, workspace-based", () => {
    const ai = arm.one("Microsoft.Insights/components");
    expect(at(ai, "properties", "DisableLocalAuth")).toBe(true);
    expect(at(ai, "properties", "WorkspaceResourceId")).toBe(
      "[resourceId('Microsoft.OperationalInsights/workspaces', parameters('logAnalyticsName'))]",
    );
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

  it("no key listing, account keys or secret-bearing connection strings in infra/ or the compiled template", () => {
    const hits = infraTextFiles().flatMap((f) =>
      findSecrets(readFileSync(f, "utf8")).map((p) => `${f}: ${p}`),
    );
    expect(hits).toEqual([]);
    expect(findSecrets(JSON.stringify(arm.template))).toEqual([]);
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

  it("no output carries a secret: the only connection strings are addresses", () => {
    const outputs = JSON.stringify(arm.template.outputs);
    expect(outputs).not.toMatch(/list\w*\(/i);
    const monitoring = arm.moduleTemplate("monitoring").outputs!;
    expect(monitoring.connectionString.value).toBe(
      "[reference('applicationInsights').ConnectionString]",
    );
  });
});

describe("role assignments (least privilege, one resource each)", () => {
  const assignments = arm.ofType("Microsoft.Authorization/roleAssignments");
  const rbac = arm.moduleTemplate("rbac");

  it("uses the built-in role ids the Functions and Durable docs list, never a broad role", () => {
    expect(rbac.variables!.roles).toEqual(ROLE);
    const all = JSON.stringify(arm.template);
    for (const broad of BROAD_ROLES) expect(all).not.toContain(broad);
    expect(all).toContain(DURABLE_TASK_DATA_CONTRIBUTOR);
  });

  it("storage: Blob Data Owner, Queue and Table Data Contributor (host + Durable provider)", () => {
    expect(rbac.variables!.storageRoles).toEqual([
      "[variables('roles').storageBlobDataOwner]",
      "[variables('roles').storageQueueDataContributor]",
      "[variables('roles').storageTableDataContributor]",
    ]);
  });

  it("Service Bus: Data Receiver + Data Sender; Owner only when opted in", () => {
    expect(rbac.variables!.serviceBusRoles).toBe(
      "[concat(createArray(variables('roles').serviceBusDataReceiver, variables('roles').serviceBusDataSender), if(parameters('serviceBusOwnerForScaling'), createArray(variables('roles').serviceBusDataOwner), createArray()))]",
    );
    expect(params.serviceBusOwnerForScaling.defaultValue).toBe(false);
  });

  it("every assignment is scoped to its one resource, typed, and named deterministically", () => {
    expect(assignments.map((a) => a.scope).sort()).toEqual([
      "[resourceId('Microsoft.DurableTask/schedulers/taskHubs', parameters('name'), parameters('taskHubName'))]",
      "[resourceId('Microsoft.DurableTask/schedulers/taskHubs', parameters('name'), parameters('taskHubName'))]",
      "[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]",
      "[resourceId('Microsoft.ServiceBus/namespaces', parameters('serviceBusNamespaceName'))]",
      "[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]",
    ]);
    for (const a of assignments) {
      expect(a.name).toMatch(/^\[guid\(/);
      expect(at(a, "properties", "principalType")).toBeDefined();
      expect(at(a, "properties", "roleDefinitionId")).toMatch(
        /^\[subscriptionResourceId\('Microsoft.Authorization\/roleDefinitions', /,
      );
    }
  });

  it("the app identity and, when given, the deploying user get the data roles", () => {
    expect(rbac.variables!.principals).toBe(
      "[concat(createArray(createObject('id', parameters('appPrincipalId'), 'type', 'ServicePrincipal')), if(empty(parameters('userPrincipalId')), createArray(), createArray(createObject('id', parameters('userPrincipalId'), 'type', parameters('userPrincipalType')))))]",
    );
    const p = arm.moduleParams("rbac");
    expect(p.appPrincipalId).toBe("[reference('identity').outputs.principalId.value]");
    expect(p.userPrincipalId).toBe("[parameters('principalId')]");
    // It looks the resources up by name, so it must wait for them.
    expect(arm.module("rbac").dependsOn).toEqual(
      expect.arrayContaining(["storage", "serviceBus", "monitoring"]),
    );
  });

  it("Cosmos DB: Built-in Data Contributor (SQL RBAC), one at a time, after the containers", () => {
    const cosmos = arm.moduleTemplate("cosmos");
    expect(cosmos.variables!.dataContributorRoleId).toBe(COSMOS_DATA_CONTRIBUTOR);
    const ra = arm.one("Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments");
    expect(ra.copy).toEqual({
      name: "dataContributorAssignments",
      count: "[length(parameters('dataContributors'))]",
      mode: "serial",
      batchSize: 1,
    });
    expect(ra.dependsOn).toContain("sqlContainers");
    expect(at(ra, "properties", "roleDefinitionId")).toContain("sqlRoleDefinitions/{1}");
    expect(arm.moduleParams("cosmos").dataContributors).toBe(
      "[concat(createArray(reference('identity').outputs.principalId.value), if(empty(parameters('principalId')), createArray(), createArray(parameters('principalId'))))]",
    );
  });
});

describe("Durable backend", () => {
  const backends = arm.template.variables!.durableBackends as Record<
    string,
    { storageProviderType: string; connectionStringName: string }
  >;

  it("defaults to the Durable Task Scheduler; Azure Storage is the alternative", () => {
    expect(params.durableBackend.defaultValue).toBe("durableTaskScheduler");
    expect(params.durableBackend.allowedValues).toEqual(["durableTaskScheduler", "azureStorage"]);
    expect(Object.keys(backends).sort()).toEqual(["azureStorage", "durableTaskScheduler"]);
    expect(arm.template.variables!.durable).toBe(
      "[variables('durableBackends')[parameters('durableBackend')]]",
    );
  });

  it("each backend names the host.json provider the package gets (a literal per backend)", () => {
    expect(backends).toEqual({
      durableTaskScheduler: {
        storageProviderType: "azureManaged",
        connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
      },
      azureStorage: { storageProviderType: "AzureStorage", connectionStringName: "" },
    });
    expect(arm.template.outputs!.DURABLE_STORAGE_PROVIDER.value).toBe(
      "[variables('durable').storageProviderType]",
    );
  });

  it("the scheduler module is deployed only for the scheduler backend", () => {
    expect(arm.template.variables!.useDurableScheduler).toBe(
      "[equals(parameters('durableBackend'), 'durableTaskScheduler')]",
    );
    expect(arm.module("durableScheduler").condition).toBe("[variables('useDurableScheduler')]");
  });

  it("scheduler: Consumption SKU by default, an explicit IP allow-list, one task hub named by TASKHUB_NAME", () => {
    const scheduler = arm.one("Microsoft.DurableTask/schedulers");
    expect(props(scheduler)).toEqual({
      sku: { name: "[parameters('skuName')]" },
      ipAllowlist: "[parameters('ipAllowlist')]",
      publicNetworkAccess: "Enabled",
    });
    expect(params.durableSchedulerSku.defaultValue).toBe("Consumption");
    expect(params.durableSchedulerIpAllowlist.defaultValue).toEqual(["0.0.0.0/0"]);
    const p = arm.moduleParams("durableScheduler");
    expect(p.skuName).toBe("[parameters('durableSchedulerSku')]");
    expect(p.ipAllowlist).toBe("[parameters('durableSchedulerIpAllowlist')]");
    expect(p.taskHubName).toBe("[parameters('taskHubName')]");
    const inner = arm.moduleTemplate("durableScheduler").parameters!;
    expect(inner.ipAllowlist.minLength).toBe(1); // an empty list would deny everyone
    expect(arm.one("Microsoft.DurableTask/schedulers/taskHubs").name).toBe(
      "[format('{0}/{1}', parameters('name'), parameters('taskHubName'))]",
    );
  });

  it("Durable Task Data Contributor on the task hub for the app and, when given, the deploying user", () => {
    const [app, user] = inModule("durableScheduler").filter(
      (r) => r.type === "Microsoft.Authorization/roleAssignments",
    );
    for (const a of [app, user]) {
      expect(at(a, "properties", "roleDefinitionId")).toBe(
        "[subscriptionResourceId('Microsoft.Authorization/roleDefinitions', variables('durableTaskDataContributor'))]",
      );
    }
    expect(arm.moduleTemplate("durableScheduler").variables!.durableTaskDataContributor).toBe(
      DURABLE_TASK_DATA_CONTRIBUTOR,
    );
    expect(at(app, "properties", "principalId")).toBe("[parameters('appPrincipalId')]");
    expect(at(app, "properties", "principalType")).toBe("ServicePrincipal");
    expect(user.condition).toBe("[not(empty(parameters('userPrincipalId')))]");
    expect(at(user, "properties", "principalType")).toBe("[parameters('userPrincipalType')]");
    const p = arm.moduleParams("durableScheduler");
    expect(p.appPrincipalId).toBe("[reference('identity').outputs.principalId.value]");
    expect(p.userPrincipalId).toBe("[parameters('principalId')]");
  });

  it("the app connects to the scheduler with its managed identity (no keys)", () => {
    // The whole parameter is one expression: the setting for the scheduler, nothing for Azure Storage.
    const raw = arm.moduleParams("api").durableSettings as string;
    expect(raw).toMatch(/createObject\('value', createObject\(\)\)\)\]$/);
    expect(raw).toContain("if(variables('useDurableScheduler')");
    expect(raw).toContain("variables('durable').connectionStringName");
    expect(raw).toContain(
      "format('Endpoint={0};Authentication=ManagedIdentity;ClientID={1}', coalesce(tryGet(if(variables('useDurableScheduler'), reference('durableScheduler'), null()), 'outputs', 'endpoint', 'value'), ''), reference('identity').outputs.clientId.value)",
    );
    expect(at(arm.one("Microsoft.Web/sites/config"), "properties")).toBe(
      "[union(parameters('appSettings'), parameters('durableSettings'), variables('identitySettings'))]",
    );
  });
});

describe("optional VNet", () => {
  const network = arm.moduleTemplate("network");

  it("is off by default and deployed only when enabled", () => {
    expect(params.vnetEnabled.defaultValue).toBe(false);
    expect(arm.module("network").condition).toBe("[parameters('vnetEnabled')]");
    expect(arm.moduleParams("api").subnetId).toBe(
      "[coalesce(tryGet(if(parameters('vnetEnabled'), reference('network'), null()), 'outputs', 'appSubnetId', 'value'), '')]",
    );
  });

  it("delegates the app subnet to Microsoft.App/environments (Flex VNet integration)", () => {
    const vnet = arm.one("Microsoft.Network/virtualNetworks");
    const subnets = at(vnet, "properties", "subnets") as { name: string }[];
    expect(
      at(
        subnets.find((s) => s.name === "app"),
        "properties",
        "delegations",
        0,
      ),
    ).toEqual({
      name: "flex-consumption",
      properties: { serviceName: "Microsoft.App/environments" },
    });
  });

  it("has private endpoints for blob, queue, table, Cosmos DB and Service Bus", () => {
    const endpoints = network.variables!.endpoints as Record<string, string>[];
    expect(endpoints.map((e) => [e.groupId, e.targetType])).toEqual([
      ["blob", "Microsoft.Storage/storageAccounts"],
      ["queue", "Microsoft.Storage/storageAccounts"],
      ["table", "Microsoft.Storage/storageAccounts"],
      ["Sql", "Microsoft.DocumentDB/databaseAccounts"],
      ["namespace", "Microsoft.ServiceBus/namespaces"],
    ]);
    const pe = arm.one("Microsoft.Network/privateEndpoints");
    expect(pe.copy?.count).toBe("[length(variables('endpoints'))]");
    arm.one("Microsoft.Network/privateEndpoints/privateDnsZoneGroups");
  });

  it("names private DNS zones for the cloud it deploys to, never hard-coded to public Azure", () => {
    const zones = (network.variables!.endpoints as Record<string, string>[]).map((e) => e.zone);
    expect(zones).toEqual([
      "[format('privatelink.blob.{0}', environment().suffixes.storage)]",
      "[format('privatelink.queue.{0}', environment().suffixes.storage)]",
      "[format('privatelink.table.{0}', environment().suffixes.storage)]",
      "[format('privatelink.{0}', variables('cosmosSuffix'))]",
      "[format('privatelink.{0}', variables('serviceBusSuffix'))]",
    ]);
    expect(JSON.stringify([network.variables, network.resources])).not.toMatch(
      /windows\.net|azure\.com|azure\.us|chinacloudapi/,
    );
    const p = arm.moduleParams("network");
    expect(p.cosmosEndpoint).toBe("[reference('cosmos').outputs.endpoint.value]");
    expect(p.serviceBusHost).toBe(
      "[reference('serviceBus').outputs.fullyQualifiedNamespace.value]",
    );
  });

  it("closes public network access on the data services when enabled", () => {
    for (const type of [
      "Microsoft.Storage/storageAccounts",
      "Microsoft.DocumentDB/databaseAccounts",
      "Microsoft.ServiceBus/namespaces",
    ]) {
      expect(at(arm.one(type), "properties", "publicNetworkAccess")).toBe(
        "[if(parameters('vnetEnabled'), 'Disabled', 'Enabled')]",
      );
    }
  });
});

describe("outputs and parameters", () => {
  it("outputs what azd, the package script and local development need", () => {
    for (const name of [
      "AZURE_LOCATION",
      "AZURE_TENANT_ID",
      "AZURE_RESOURCE_GROUP",
      "AZURE_FUNCTION_APP_NAME",
      "SERVICE_API_NAME",
      "SERVICE_API_URI",
      "COSMOS_ENDPOINT",
      "SERVICE_BUS_FULLY_QUALIFIED_NAMESPACE",
      "TASKHUB_NAME",
      "DURABLE_BACKEND",
      "DURABLE_STORAGE_PROVIDER",
      "DURABLE_TASK_SCHEDULER_ENDPOINT",
      "AUTH_AUTHORITY",
      "AUTH_AUDIENCE",
    ]) {
      expect(Object.keys(arm.template.outputs!)).toContain(name);
    }
    expect(arm.template.outputs!.AZURE_TENANT_ID.value).toBe("[tenant().tenantId]");
  });

  it("main.parameters.json binds every parameter without a default, and only real ones", () => {
    const file = JSON.parse(readFileSync(join(INFRA, "main.parameters.json"), "utf8")) as {
      parameters: Record<string, { value: string }>;
    };
    const bound = Object.keys(file.parameters);
    for (const p of bound) expect(Object.keys(params)).toContain(p);
    for (const [name, p] of Object.entries(params))
      if (!("defaultValue" in p)) expect(bound).toContain(name);
    expect(file.parameters.environmentName.value).toBe("${AZURE_ENV_NAME}");
    expect(file.parameters.location.value).toBe("${AZURE_LOCATION}");
    expect(file.parameters.principalId.value).toBe("${AZURE_PRINCIPAL_ID}");
    expect(file.parameters.durableBackend.value).toBe("${DURABLE_BACKEND=durableTaskScheduler}");
    expect(file.parameters.apiClientId.value).toBe("${AUTH_API_CLIENT_ID}");
  });
});
