// azd preprovision hooks (azure.yaml): register-providers.{sh,ps1} and entra-app.{sh,ps1}, and
// the Entra app manifest infra/entra/api-app.json both entra-app scripts apply. The posix scripts
// run under `sh` with a fake `az` and `azd` on PATH that log their argv and answer canned output;
// nothing here reaches Azure or Microsoft Graph.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { REPO } from "./compiler";

const SCRIPTS = join(REPO, "infra", "scripts");
const MANIFEST = join(REPO, "infra", "entra", "api-app.json");
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CREATED_APP = "0f6c3c1e-5d7a-4b8e-9a41-2f3b6c7d8e90";
const EXISTING_APP = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

type Hook = { shell: string; run: string };
type Hooks = Record<string, { posix: Hook; windows: Hook }[]>;
const azureYaml = parse(readFileSync(join(REPO, "azure.yaml"), "utf8")) as {
  hooks?: Hooks;
  services: Record<string, unknown>;
};
const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as {
  appRoles: {
    id: string;
    value: string;
    allowedMemberTypes: string[];
    displayName: string;
    description: string;
    isEnabled: boolean;
  }[];
  api: {
    requestedAccessTokenVersion: number;
    oauth2PermissionScopes: Record<string, unknown>[];
  };
};

const temps: string[] = [];
afterAll(() => temps.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("azure.yaml preprovision hooks", () => {
  it("azure.yaml is valid against azd's schema, and the check rejects a bad root hook", () => {
    const schema = JSON.parse(
      readFileSync(join(REPO, "test", "infra", "schemas", "azure.yaml.schema.json"), "utf8"),
    ) as object;
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    for (const id of new Set(
      JSON.stringify(schema).match(/https:\/\/[^"]+\/extensions\/[^"]+\.json/g),
    ))
      ajv.addSchema({ $id: id }, id);
    const validate = ajv.compile(schema);
    expect(validate(azureYaml)).toBe(true);
    expect(validate.errors ?? []).toEqual([]);
    expect(
      validate({ ...azureYaml, hooks: { preprovision: [{ posix: { shell: "bash", run: "x" } }] } }),
    ).toBe(false);
    expect(validate({ ...azureYaml, hooks: { beforeprovision: { run: "x" } } })).toBe(false);
  });

  it("declares both scripts for posix (sh) and windows (pwsh), providers first", () => {
    const pre = azureYaml.hooks!.preprovision;
    expect(pre.map((h) => [h.posix, h.windows])).toEqual(
      ["register-providers", "entra-app"].map((s) => [
        { shell: "sh", run: `infra/scripts/${s}.sh` },
        { shell: "pwsh", run: `infra/scripts/${s}.ps1` },
      ]),
    );
    for (const h of pre)
      for (const os of [h.posix, h.windows])
        expect(readdirSync(SCRIPTS)).toContain(os.run.split("/").pop());
  });

  it("runs entra-app again after provisioning (the deployed console's redirect URI), both shells", () => {
    expect(azureYaml.hooks!.postprovision.map((h) => [h.posix, h.windows])).toEqual([
      [
        { shell: "sh", run: "infra/scripts/entra-app.sh" },
        { shell: "pwsh", run: "infra/scripts/entra-app.ps1" },
      ],
    ]);
    // pwsh is not installed here: the twin is checked by reading it.
    for (const f of ["entra-app.sh", "entra-app.ps1"]) {
      const text = readFileSync(join(SCRIPTS, f), "utf8");
      expect(text).toContain("http://localhost:7071/api/console/");
      expect(text).toContain("/api/console/");
      expect(text).toMatch(/spa\.redirectUris/);
      expect(text).toContain("SERVICE_API_URI");
    }
  });

  it("every .sh passes `sh -n`", () => {
    const sh = readdirSync(SCRIPTS).filter((f) => f.endsWith(".sh"));
    expect(sh.sort()).toEqual(["entra-app.sh", "register-providers.sh"]);
    for (const f of sh) {
      const r = spawnSync("sh", ["-n", join(SCRIPTS, f)], { encoding: "utf8" });
      expect({ f, status: r.status, stderr: r.stderr }).toEqual({ f, status: 0, stderr: "" });
    }
  });

  it("main.parameters.json feeds AUTH_API_CLIENT_ID to main.bicep's apiClientId", () => {
    const params = readFileSync(join(REPO, "infra", "main.parameters.json"), "utf8");
    expect(JSON.parse(params).parameters.apiClientId).toEqual({ value: "${AUTH_API_CLIENT_ID}" });
    expect(readFileSync(join(REPO, "infra", "main.bicep"), "utf8")).toMatch(
      /^param apiClientId string/m,
    );
  });
});

describe("infra/entra/api-app.json (the API's app roles and scope)", () => {
  it("has exactly Orders.Submit (applications), Orders.Approve and Orders.Operate (users)", () => {
    expect(
      manifest.appRoles.map((r) => ({ value: r.value, allowedMemberTypes: r.allowedMemberTypes })),
    ).toEqual([
      { value: "Orders.Submit", allowedMemberTypes: ["Application"] },
      { value: "Orders.Approve", allowedMemberTypes: ["User"] },
      { value: "Orders.Operate", allowedMemberTypes: ["User"] },
    ]);
    for (const r of manifest.appRoles) {
      expect(r.isEnabled).toBe(true);
      expect(r.displayName).not.toBe("");
      expect(r.description).not.toBe("");
    }
  });

  it("has the delegated scopes Orders.ReadWrite and Orders.Console with admin and user consent text", () => {
    expect(manifest.api.oauth2PermissionScopes.map((s) => s.value)).toEqual([
      "Orders.ReadWrite",
      "Orders.Console",
    ]);
    for (const scope of manifest.api.oauth2PermissionScopes) {
      expect(scope).toMatchObject({ type: "User", isEnabled: true });
      for (const k of [
        "adminConsentDisplayName",
        "adminConsentDescription",
        "userConsentDisplayName",
        "userConsentDescription",
      ])
        expect(typeof scope[k] === "string" && (scope[k] as string).length > 0).toBe(true);
    }
  });

  it("asks for v2 access tokens", () => {
    expect(manifest.api.requestedAccessTokenVersion).toBe(2);
  });

  it("role and scope ids are fixed, unique GUIDs", () => {
    const ids = [
      ...manifest.appRoles.map((r) => r.id),
      ...manifest.api.oauth2PermissionScopes.map((s) => s.id as string),
    ];
    expect(ids).toHaveLength(5);
    for (const id of ids) expect(id).toMatch(GUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("is a Graph application PATCH body: only appRoles and api, no secrets or identifierUris", () => {
    expect(Object.keys(manifest).sort()).toEqual(["api", "appRoles"]);
    expect(JSON.stringify(manifest)).not.toMatch(/password|secret|keyCredential|identifierUris/i);
  });

  it("both entra-app scripts apply this one file (so sh and pwsh cannot drift)", () => {
    // pwsh is not installed on the build machine: the .ps1 is checked by reading it.
    const sh = readFileSync(join(SCRIPTS, "entra-app.sh"), "utf8");
    const ps1 = readFileSync(join(SCRIPTS, "entra-app.ps1"), "utf8");
    expect(sh).toContain('manifest="$here/../entra/api-app.json"');
    expect(sh).toContain('--body "@$manifest"');
    expect(ps1).toContain("Join-Path $PSScriptRoot '..' 'entra' 'api-app.json'");
    expect(ps1).toContain('--body "@$manifest"');
    for (const text of [sh, ps1]) {
      expect(text).toContain("order-processing-api-");
      expect(text).toContain("azd env set AUTH_API_CLIENT_ID");
      expect(text).toMatch(/ad sp create --id/);
      expect(text).toContain("api://");
      // No client secret, ever, and no token is fetched or printed.
      expect(text).not.toMatch(/credential reset|password|get-access-token|passwordCredentials/i);
      // No role or scope is spelled out in the script: they come from the manifest.
      for (const r of manifest.appRoles) expect(text).not.toContain(r.id);
    }
    // PowerShell names are case-insensitive: a function called Az would shadow the az CLI.
    for (const f of ["entra-app.ps1", "register-providers.ps1"])
      expect(readFileSync(join(SCRIPTS, f), "utf8")).not.toMatch(/^\s*function\s+az\b/im);
    const ps1Providers = readFileSync(join(SCRIPTS, "register-providers.ps1"), "utf8");
    for (const ns of ["Microsoft.App", "Microsoft.DurableTask"])
      expect(ps1Providers).toContain(`'${ns}'`);
    expect(ps1Providers).toContain("--query registrationState -o tsv");
    expect(ps1Providers).toContain("--wait");
  });
});

/** A temp dir with fake `az` and `azd` that append their argv to calls.log. */
function fakeTools() {
  const dir = mkdtempSync(join(tmpdir(), "azd-hooks-"));
  temps.push(dir);
  const log = join(dir, "calls.log");
  writeFileSync(log, "");
  const tool = (name: string, body: string) => {
    writeFileSync(
      join(dir, name),
      `#!/bin/sh\nprintf '%s\\n' "${name} $*" >> "$FAKE_LOG"\n${body}\n`,
    );
    chmodSync(join(dir, name), 0o755);
  };
  tool(
    "az",
    `case "$*" in
  "provider show -n Microsoft.App "*) echo "\${FAKE_STATE_APP:-NotRegistered}" ;;
  "provider show -n Microsoft.DurableTask "*) echo "\${FAKE_STATE_DTS:-NotRegistered}" ;;
  "provider register "*) ;;
  "account show --subscription "*) echo "\${FAKE_SUB_TENANT:-tenant-1}" ;;
  "account show "*) echo "tenant-1" ;;
  "ad app list "*) [ -n "\${FAKE_EXISTING:-}" ] && printf '%s\\n' "$FAKE_EXISTING" ; exit 0 ;;
  "ad app create "*) printf '${CREATED_APP}\\tobj-created\\n' ;;
  "cloud show "*) echo "https://graph.microsoft.com/" ;;
  "rest "*) ;;
  "ad app show --id "*" --query spa.redirectUris -o tsv") [ -n "\${FAKE_NO_RIGHTS:-}" ] && exit 1; printf '%s\\n' \${FAKE_SPA_URIS:-} ;;
  "ad app show --id "*" --query id -o tsv") [ -n "\${FAKE_NO_RIGHTS:-}" ] && exit 1; echo obj-existing ;;
  "ad app update "*) ;;
  "ad sp show "*) [ -n "\${FAKE_SP_EXISTS:-}" ] && echo sp-1 || { echo "not found" >&2; exit 3; } ;;
  "ad sp create "*) echo sp-1 ;;
  *) echo "fake az: unexpected $*" >&2; exit 2 ;;
esac`,
  );
  tool("azd", `case "$*" in "env set "*) ;; *) echo "fake azd: unexpected $*" >&2; exit 2 ;; esac`);
  return { dir, calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean), log };
}

function runHook(script: string, env: Record<string, string>) {
  const tools = fakeTools();
  const base: NodeJS.ProcessEnv = {
    PATH: `${tools.dir}:${process.env.PATH}`,
    HOME: tools.dir,
    FAKE_LOG: tools.log,
    ENTRA_RETRY_SLEEP: "0",
  };
  const r = spawnSync("sh", [join(SCRIPTS, script)], {
    encoding: "utf8",
    env: { ...base, ...env },
    cwd: tools.dir, // azd may run a hook from the script's folder or the project: neither matters
  });
  return { ...r, calls: tools.calls() };
}

describe("register-providers.sh (fake az)", () => {
  const registers = (calls: string[]) =>
    calls.filter((c) => c.startsWith("az provider register")).map((c) => c.split(" ")[4]);

  it("default backend, no VNet: registers only Microsoft.DurableTask", () => {
    const r = runHook("register-providers.sh", { AZURE_SUBSCRIPTION_ID: "sub-1" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(registers(r.calls)).toEqual(["Microsoft.DurableTask"]);
    expect(r.calls).toContain(
      "az provider register --namespace Microsoft.DurableTask --subscription sub-1 --wait -o none",
    );
    expect(r.calls.some((c) => c.includes("Microsoft.App"))).toBe(false);
    expect(r.stdout).toMatch(/registering Microsoft\.DurableTask/);
  });

  it("VNET_ENABLED=true: also Microsoft.App", () => {
    const r = runHook("register-providers.sh", {
      VNET_ENABLED: "true",
      DURABLE_BACKEND: "durableTaskScheduler",
    });
    expect(r.status).toBe(0);
    expect(registers(r.calls)).toEqual(["Microsoft.App", "Microsoft.DurableTask"]);
    expect(r.calls).toContain("az provider register --namespace Microsoft.App --wait -o none");
  });

  it("azureStorage backend, VNet off: registers nothing and asks about nothing", () => {
    const r = runHook("register-providers.sh", {
      VNET_ENABLED: "false",
      DURABLE_BACKEND: "azureStorage",
    });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toBe("");
  });

  it("skips quietly what is already Registered", () => {
    const r = runHook("register-providers.sh", {
      VNET_ENABLED: "true",
      FAKE_STATE_APP: "Registered",
      FAKE_STATE_DTS: "Registered",
    });
    expect(r.status).toBe(0);
    expect(registers(r.calls)).toEqual([]);
    expect(r.calls).toEqual([
      "az provider show -n Microsoft.App --query registrationState -o tsv",
      "az provider show -n Microsoft.DurableTask --query registrationState -o tsv",
    ]);
    expect(r.stdout).toBe("");
  });
});

const spaBody = (uris: string[]) => JSON.stringify({ spa: { redirectUris: uris } });

describe("entra-app.sh (fake az and azd)", () => {
  const env = { AZURE_ENV_NAME: "orders-dev", AZURE_SUBSCRIPTION_ID: "sub-1" };
  const DEPLOYED = "https://func-orders-abc.azurewebsites.net";

  it("AUTH_API_CLIENT_ID set: reuses it and calls neither az nor azd", () => {
    const r = runHook("entra-app.sh", { ...env, AUTH_API_CLIENT_ID: EXISTING_APP });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls).toEqual([]);
    expect(r.stdout).toContain(`reusing that app registration, no directory changes`);
  });

  it("AUTH_API_CLIENT_ID that is not a GUID: fails before touching anything", () => {
    const r = runHook("entra-app.sh", { ...env, AUTH_API_CLIENT_ID: "api://orders" });
    expect(r.status).toBe(1);
    expect(r.calls).toEqual([]);
    expect(r.stderr).toMatch(/must be an application \(client\) id/);
  });

  it("not set, no app yet: creates it, applies the manifest, URI, service principal, azd env set", () => {
    const r = runHook("entra-app.sh", env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const manifestArg = `@${SCRIPTS}/../entra/api-app.json`;
    expect(r.calls).toEqual([
      "az account show --subscription sub-1 --query tenantId -o tsv",
      "az account show --query tenantId -o tsv",
      "az ad app list --filter displayName eq 'order-processing-api-orders-dev' --query [].[appId,id] -o tsv",
      "az ad app create --display-name order-processing-api-orders-dev --sign-in-audience AzureADMyOrg --query [appId,id] -o tsv",
      "az cloud show --query endpoints.microsoftGraphResourceId -o tsv",
      `az rest --method PATCH --uri https://graph.microsoft.com/v1.0/applications/obj-created --headers Content-Type=application/json --body ${manifestArg} -o none`,
      `az ad app update --id ${CREATED_APP} --identifier-uris api://${CREATED_APP} -o none`,
      "az ad app show --id obj-created --query spa.redirectUris -o tsv",
      `az rest --method PATCH --uri https://graph.microsoft.com/v1.0/applications/obj-created --headers Content-Type=application/json --body ${spaBody(["http://localhost:7071/api/console/"])} -o none`,
      `az ad sp show --id ${CREATED_APP} --query id -o tsv`,
      `az ad sp create --id ${CREATED_APP} --query id -o tsv`,
      `azd env set AUTH_API_CLIENT_ID ${CREATED_APP}`,
    ]);
    expect(readFileSync(manifestArg.slice(1), "utf8")).toBe(readFileSync(MANIFEST, "utf8"));
    expect(r.stdout).toContain(`created app registration order-processing-api-orders-dev`);
    expect(r.stdout).toContain("created service principal");
  });

  it("not set, app already exists (a rerun): reuses it by name, no create, same manifest", () => {
    const r = runHook("entra-app.sh", {
      ...env,
      FAKE_EXISTING: `${EXISTING_APP}\tobj-existing`,
      FAKE_SP_EXISTS: "1",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls.some((c) => c.startsWith("az ad app create"))).toBe(false);
    expect(r.calls.some((c) => c.startsWith("az ad sp create"))).toBe(false);
    expect(r.calls.some((c) => c.includes("/v1.0/applications/obj-existing "))).toBe(true);
    expect(r.calls).toContain(
      `az ad app update --id ${EXISTING_APP} --identifier-uris api://${EXISTING_APP} -o none`,
    );
    expect(r.calls.at(-1)).toBe(`azd env set AUTH_API_CLIENT_ID ${EXISTING_APP}`);
    expect(r.stdout).toContain("service principal exists");
  });

  it("a rerun after provisioning adds the deployed console's redirect URI to those already there", () => {
    const r = runHook("entra-app.sh", {
      ...env,
      SERVICE_API_URI: DEPLOYED,
      FAKE_EXISTING: `${EXISTING_APP}\tobj-existing`,
      FAKE_SP_EXISTS: "1",
      FAKE_SPA_URIS: "https://other.example/cb",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.calls).toContain(
      `az rest --method PATCH --uri https://graph.microsoft.com/v1.0/applications/obj-existing --headers Content-Type=application/json --body ${spaBody(
        [
          "http://localhost:7071/api/console/",
          `${DEPLOYED}/api/console/`,
          "https://other.example/cb",
        ],
      )} -o none`,
    );
  });

  it("AUTH_API_CLIENT_ID set and the app provisioned: adds only a missing console URI, nothing else", () => {
    const missing = runHook("entra-app.sh", {
      ...env,
      AUTH_API_CLIENT_ID: EXISTING_APP,
      SERVICE_API_URI: `${DEPLOYED}/`,
    });
    expect(missing.status).toBe(0);
    expect(missing.calls.filter((c) => c.startsWith("az rest"))).toEqual([
      `az rest --method PATCH --uri https://graph.microsoft.com/v1.0/applications/obj-existing --headers Content-Type=application/json --body ${spaBody(
        ["http://localhost:7071/api/console/", `${DEPLOYED}/api/console/`],
      )} -o none`,
    ]);
    expect(missing.calls.some((c) => /ad app (create|update)|ad sp|azd/.test(c))).toBe(false);

    const present = runHook("entra-app.sh", {
      ...env,
      AUTH_API_CLIENT_ID: EXISTING_APP,
      SERVICE_API_URI: DEPLOYED,
      FAKE_SPA_URIS: `${DEPLOYED}/api/console/`,
    });
    expect(present.status).toBe(0);
    expect(present.calls).toEqual([
      `az ad app show --id ${EXISTING_APP} --query spa.redirectUris -o tsv`,
    ]);
    expect(present.stdout).toContain("is registered, no directory changes");

    // Without directory rights: a warning naming the URI, not a failed provision.
    const denied = runHook("entra-app.sh", {
      ...env,
      AUTH_API_CLIENT_ID: EXISTING_APP,
      SERVICE_API_URI: DEPLOYED,
      FAKE_NO_RIGHTS: "1",
    });
    expect(denied.status).toBe(0);
    expect(denied.stdout).toContain(`warning: could not add the console redirect URI`);
    expect(denied.stdout).toContain(`${DEPLOYED}/api/console/`);
  });

  it("a SERVICE_API_URI that is not an https origin is refused before any call", () => {
    const r = runHook("entra-app.sh", { ...env, SERVICE_API_URI: 'https://x/"evil' });
    expect(r.status).toBe(1);
    expect(r.calls).toEqual([]);
  });

  it("two apps with the name: fails instead of guessing", () => {
    const r = runHook("entra-app.sh", {
      ...env,
      FAKE_EXISTING: `${EXISTING_APP}\tobj-1\n${CREATED_APP}\tobj-2`,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/2 app registrations are named order-processing-api-orders-dev/);
    expect(r.calls.some((c) => c.startsWith("azd"))).toBe(false);
  });

  it("the Azure CLI in another tenant than the subscription: fails before creating", () => {
    const r = runHook("entra-app.sh", { ...env, FAKE_SUB_TENANT: "tenant-2" });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/az login --tenant tenant-2/);
    expect(r.calls.some((c) => c.startsWith("az ad"))).toBe(false);
  });

  it("without AZURE_ENV_NAME (not run by azd): fails clearly", () => {
    const r = runHook("entra-app.sh", {});
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/AZURE_ENV_NAME is not set/);
    expect(r.calls).toEqual([]);
  });
});
