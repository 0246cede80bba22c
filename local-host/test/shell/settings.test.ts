import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  applyHostJsonOverrides,
  durableRetentionMsOf,
  expandDeep,
  expandSettings,
  mergeEnvironment,
  readHostJson,
  readLocalSettings,
  resolveConnectionSetting,
  routePrefixOf,
  SettingsError,
  storageProviderOf,
} from "../../src/settings";
import {
  parseTimeSpan,
  serviceBusRegistrations,
  bodyAsTypedData,
} from "../../src/servicebus/trigger";

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "settings-"))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("settings", () => {
  it("merges local.settings.json under host-provided values under the real environment", () => {
    fs.writeFileSync(
      path.join(dir, "local.settings.json"),
      "\uFEFF" + JSON.stringify({ Values: { A: "file", B: "file", C: "file", N: 5 } }),
    );
    const env = mergeEnvironment({ A: "real" }, readLocalSettings(dir), { B: "host", C: "host" });
    expect(env).toMatchObject({ A: "real", B: "host", C: "host", N: "5" });
  });

  it("treats a missing file as empty and an invalid one as a clear error", () => {
    expect(readLocalSettings(dir)).toEqual({ values: {}, connectionStrings: {} });
    expect(readHostJson(dir)).toEqual({ version: "2.0" });
    fs.writeFileSync(path.join(dir, "host.json"), "{ nope");
    expect(() => readHostJson(dir)).toThrow(/host.json is not valid JSON/);
    fs.writeFileSync(path.join(dir, "local.settings.json"), JSON.stringify({ IsEncrypted: true }));
    expect(() => readLocalSettings(dir)).toThrow(/encrypted/);
  });

  it("expands %SETTING% and names a missing one", () => {
    expect(expandSettings("%HUB%-x", { HUB: "orders" }, "w")).toBe("orders-x");
    expect(expandDeep({ a: ["%X%"], b: 1 }, { X: "y" }, "w")).toEqual({ a: ["y"], b: 1 });
    expect(() => expandSettings("%MISSING%", {}, "host.json")).toThrow(
      "host.json: setting 'MISSING' (from '%MISSING%') is not defined.",
    );
  });

  it("reads the route prefix, defaulting to api", () => {
    expect(routePrefixOf({})).toBe("api");
    expect(routePrefixOf({ extensions: { http: { routePrefix: "" } } })).toBe("");
    expect(routePrefixOf({ extensions: { http: { routePrefix: "/v1/" } } })).toBe("v1");
  });

  it("reads LOCALHOST_DURABLE_RETENTION_HOURS (unset: keep until purged; bad: a clear error)", () => {
    expect(durableRetentionMsOf({})).toBeUndefined();
    expect(durableRetentionMsOf({ LOCALHOST_DURABLE_RETENTION_HOURS: " " })).toBeUndefined();
    expect(durableRetentionMsOf({ LOCALHOST_DURABLE_RETENTION_HOURS: "1.5" })).toBe(5_400_000);
    for (const bad of ["0", "-2", "a week"]) {
      expect(() => durableRetentionMsOf({ LOCALHOST_DURABLE_RETENTION_HOURS: bad })).toThrow(
        SettingsError,
      );
    }
  });

  it("resolves connection settings the way the extensions do", () => {
    expect(resolveConnectionSetting("Sb", { Sb: "a" })).toBe("a");
    expect(resolveConnectionSetting("Sb", { "ConnectionStrings:Sb": "b" })).toBe("b");
    expect(resolveConnectionSetting("Sb", { AzureWebJobsSb: "c" })).toBe("c");
    expect(resolveConnectionSetting("Sb", {})).toBeUndefined();
  });
});

describe("host.json setting overrides (AzureFunctionsJobHost__...)", () => {
  const hostJson = {
    version: "2.0",
    extensions: {
      http: { routePrefix: "api" },
      durableTask: {
        hubName: "%TASKHUB_NAME%",
        defaultVersion: "1.0",
        maxConcurrentActivityFunctions: 20,
      },
    },
  };

  it("replaces the value at the `__` path, matching keys in any case, without touching the input", () => {
    const out = applyHostJsonOverrides(hostJson, {
      AzureFunctionsJobHost__extensions__durableTask__defaultVersion: "2.0",
      AZUREFUNCTIONSJOBHOST__EXTENSIONS__HTTP__ROUTEPREFIX: "v1",
      azurefunctionsjobhost__extensions__durabletask__maxconcurrentactivityfunctions: "5",
      UNRELATED__extensions__http__routePrefix: "nope",
    });
    expect(out.extensions?.durableTask).toEqual({
      hubName: "%TASKHUB_NAME%",
      defaultVersion: "2.0",
      maxConcurrentActivityFunctions: "5",
    });
    expect(out.extensions?.http).toEqual({ routePrefix: "v1" });
    expect(hostJson.extensions.durableTask.defaultVersion).toBe("1.0");
  });

  it("creates missing sections and replaces a scalar with a section when the path goes deeper", () => {
    const out = applyHostJsonOverrides(hostJson, {
      AzureFunctionsJobHost__extensions__durableTask__versionMatchStrategy: "Strict",
      AzureFunctionsJobHost__extensions__serviceBus__prefetchCount: "0",
      AzureFunctionsJobHost__version__inner: "x",
      AzureFunctionsJobHost__extensions____broken: "ignored",
    });
    expect(out.extensions?.durableTask?.versionMatchStrategy).toBe("Strict");
    expect(out.extensions?.serviceBus).toEqual({ prefetchCount: "0" });
    expect(out.version).toEqual({ inner: "x" });
    expect(Object.keys(out.extensions ?? {})).not.toContain("");
  });

  it("takes overrides from local.settings.json Values as well as the environment (real env wins)", () => {
    fs.writeFileSync(
      path.join(dir, "local.settings.json"),
      JSON.stringify({
        Values: {
          AzureFunctionsJobHost__extensions__durableTask__defaultVersion: "3.0",
          AzureFunctionsJobHost__extensions__http__routePrefix: "file",
        },
      }),
    );
    const env = mergeEnvironment(
      { AzureFunctionsJobHost__extensions__http__routePrefix: "real" },
      readLocalSettings(dir),
    );
    const out = applyHostJsonOverrides(hostJson, env);
    expect(out.extensions?.durableTask?.defaultVersion).toBe("3.0");
    expect(routePrefixOf(out)).toBe("real");
  });
});

describe("Durable storage provider in host.json", () => {
  it("accepts the Durable Task Scheduler provider and names its connection setting", () => {
    expect(
      storageProviderOf({
        storageProvider: {
          type: "azureManaged",
          connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
        },
      }),
    ).toEqual({
      type: "azureManaged",
      connectionStringName: "DURABLE_TASK_SCHEDULER_CONNECTION_STRING",
    });
  });

  it("defaults to AzureStorage and refuses a storageProvider that is not an object", () => {
    expect(storageProviderOf(undefined)).toEqual({ type: "AzureStorage" });
    expect(storageProviderOf({ storageProvider: { type: "AzureStorage" } })).toEqual({
      type: "AzureStorage",
    });
    expect(() => storageProviderOf({ storageProvider: "azureManaged" })).toThrow(SettingsError);
  });
});

describe("Service Bus trigger settings", () => {
  it("parses host.json TimeSpans", () => {
    expect(parseTimeSpan("00:05:00", "x")).toBe(300000);
    expect(parseTimeSpan("1.00:00:01.5", "x")).toBe(86401500);
    expect(() => parseTimeSpan("5 minutes", "x")).toThrow(SettingsError);
  });

  it("expands queue names and reports functions in error instead of failing the host", () => {
    const { registrations, errors } = serviceBusRegistrations(
      [
        {
          name: "ok",
          bindings: {
            t: { type: "serviceBusTrigger", direction: "in", queueName: "%Q%", connection: "Sb" },
          },
        },
        {
          name: "bad",
          bindings: { t: { type: "serviceBusTrigger", direction: "in", queueName: "%NOPE%" } },
        },
        {
          name: "many",
          bindings: {
            t: { type: "serviceBusTrigger", direction: "in", queueName: "q", cardinality: "many" },
          },
        },
      ],
      { Q: "orders-inbound" },
    );
    expect(registrations).toEqual([
      expect.objectContaining({
        functionName: "ok",
        queueName: "orders-inbound",
        connection: "Sb",
        sessions: false,
      }),
    ]);
    expect(errors.map((e) => e.functionName)).toEqual(["bad", "many"]);
    expect(errors[1].message).toContain("cardinality 'many' is not supported");
  });

  it("hands bodies over as the extension does: UTF-8 as string, other bytes as bytes, values as JSON", () => {
    expect(bodyAsTypedData(Buffer.from('{"a":1}'))).toEqual({ string: '{"a":1}' });
    expect(bodyAsTypedData(Buffer.from([0xff, 0]))).toEqual({ bytes: Buffer.from([0xff, 0]) });
    expect(bodyAsTypedData({ a: 1 })).toEqual({ json: '{"a":1}' });
    expect(bodyAsTypedData("t")).toEqual({ string: "t" });
  });
});
