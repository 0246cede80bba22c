import {
  ConfigError,
  readCosmosConnection,
  readServiceBusConnection,
  readSettings,
} from "../../src/config";
import { parseIsoDuration } from "../../src/domain/duration";

describe("parseIsoDuration", () => {
  it.each([
    ["PT24H", 86_400_000],
    ["PT2S", 2_000],
    ["PT0.5S", 500],
    ["P1DT2H30M", 95_400_000],
    ["P1W", 604_800_000],
    ["PT90M", 5_400_000],
  ])("%s = %d ms", (text, ms) => expect(parseIsoDuration(text)).toBe(ms));

  it.each(["", "P", "PT", "24H", "P1Y", "P1M", "PT-1S", "P1DT", "PT1H2"])("rejects %p", (text) =>
    expect(() => parseIsoDuration(text)).toThrow(RangeError),
  );
});

describe("readSettings", () => {
  it("applies the documented defaults", () => {
    expect(readSettings({})).toEqual({
      cosmosDatabaseName: "orders",
      taskHubName: undefined,
      approvalThresholdMinor: 100000,
      approvalTimeout: "PT24H",
      approvalTimeoutMs: 86_400_000,
    });
  });

  it("reads every setting", () => {
    expect(
      readSettings({
        COSMOS_DATABASE_NAME: "db2",
        TASKHUB_NAME: "hub",
        APPROVAL_THRESHOLD_MINOR: "5000",
        APPROVAL_TIMEOUT: "PT2S",
      }),
    ).toMatchObject({
      cosmosDatabaseName: "db2",
      taskHubName: "hub",
      approvalThresholdMinor: 5000,
      approvalTimeoutMs: 2000,
    });
  });

  it.each([
    ["APPROVAL_THRESHOLD_MINOR", "12.5"],
    ["APPROVAL_THRESHOLD_MINOR", "-1"],
    ["APPROVAL_THRESHOLD_MINOR", "1e3"],
    ["APPROVAL_THRESHOLD_MINOR", "99999999999999999999"],
    ["APPROVAL_TIMEOUT", "24h"],
    ["APPROVAL_TIMEOUT", "PT0S"],
    ["COSMOS_DATABASE_NAME", "a/b"],
  ])("names %s when it is %p", (setting, value) => {
    expect(() => readSettings({ [setting]: value })).toThrow(
      expect.objectContaining({ name: "ConfigError", setting }),
    );
  });
});

describe("connections", () => {
  const key =
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

  it("parses a Cosmos connection string and the self-signed switch", () => {
    expect(
      readCosmosConnection({
        CosmosDBConnection: `AccountEndpoint=https://localhost:8081/;AccountKey=${key};`,
        COSMOS_ALLOW_SELF_SIGNED: "true",
      }),
    ).toEqual({ kind: "key", endpoint: "https://localhost:8081/", key, allowSelfSigned: true });
  });

  it("uses an identity with CosmosDBConnection__accountEndpoint", () => {
    expect(
      readCosmosConnection({
        CosmosDBConnection__accountEndpoint: "https://acct.documents.azure.com:443/",
        CosmosDBConnection__credential: "managedidentity",
        CosmosDBConnection__clientId: "00000000-0000-0000-0000-000000000001",
      }),
    ).toEqual({
      kind: "identity",
      endpoint: "https://acct.documents.azure.com:443/",
      allowSelfSigned: false,
      credential: "managedidentity",
      clientId: "00000000-0000-0000-0000-000000000001",
    });
  });

  it("explains a missing or malformed Cosmos setting without echoing the key", () => {
    expect(() => readCosmosConnection({})).toThrow(/CosmosDBConnection.*not set/);
    let message = "";
    try {
      readCosmosConnection({ CosmosDBConnection: `AccountKey=${key}` });
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toMatch(/AccountEndpoint/);
    expect(message).not.toContain(key);
  });

  it("reads Service Bus as a connection string or a namespace", () => {
    const cs =
      "Endpoint=sb://localhost;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;";
    expect(readServiceBusConnection({ ServiceBusConnection: cs })).toEqual({
      kind: "connectionString",
      connectionString: cs,
    });
    expect(
      readServiceBusConnection({
        ServiceBusConnection__fullyQualifiedNamespace: "ns.servicebus.windows.net",
      }),
    ).toEqual({ kind: "identity", fullyQualifiedNamespace: "ns.servicebus.windows.net" });
    expect(() => readServiceBusConnection({})).toThrow(/ServiceBusConnection.*not set/);
    expect(() => readServiceBusConnection({ ServiceBusConnection: "nonsense" })).toThrow(
      ConfigError,
    );
    expect(() =>
      readServiceBusConnection({ ServiceBusConnection__fullyQualifiedNamespace: "sb://x/" }),
    ).toThrow(/fullyQualifiedNamespace/);
  });
});
