import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2019 from "ajv/dist/2019";
import addFormats from "ajv-formats";
import { parse } from "yaml";
import { REPO } from "./compiler";

const schemaPath = join(REPO, "test", "infra", "schemas", "azure.yaml.schema.json");
const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as object;

function compile() {
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  addFormats(ajv);
  // The schema $refs azd extension schemas (AI agent/project hosts only) by URL; they are not
  // reachable offline and never apply to host: function, so they are registered as open schemas.
  const external = new Set(
    JSON.stringify(schema).match(/https:\/\/[^"]+\/extensions\/[^"]+\.json/g),
  );
  for (const id of external) ajv.addSchema({ $id: id }, id);
  return ajv.compile(schema);
}

const azureYaml = parse(readFileSync(join(REPO, "azure.yaml"), "utf8")) as {
  name: string;
  services: Record<string, Record<string, unknown>>;
};
const api = azureYaml.services.api;

describe("azure.yaml", () => {
  const validate = compile();

  it("is valid against azd's schema", () => {
    const ok = validate(azureYaml);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it("the schema check rejects invalid files", () => {
    expect(validate({ ...azureYaml, services: { api: { ...api, remoteBuild: "no" } } })).toBe(
      false,
    );
    expect(validate({ ...azureYaml, services: { api: { project: "." } } })).toBe(false); // host missing
    const badHook = { prepackage: { posix: { shell: "bash", run: "x" } } };
    expect(validate({ ...azureYaml, services: { api: { ...api, hooks: badHook } } })).toBe(false);
  });

  it("deploys the api service as a TypeScript function app from the repo root", () => {
    expect(api).toMatchObject({ project: ".", language: "ts", host: "function" });
  });

  it("sets remoteBuild explicitly (false: the package is built and staged locally)", () => {
    expect(api.remoteBuild).toBe(false);
  });

  it("ships the staged folder, which the prepackage hook fills on every OS", () => {
    expect(api.dist).toBe("dist/azd-package");
    const hook = (api.hooks as Record<string, Record<string, { shell: string; run: string }>>)
      .prepackage;
    for (const os of ["posix", "windows"]) {
      expect(hook[os].run).toBe("node infra/scripts/stage-package.mjs");
    }
    expect(hook.posix.shell).toBe("sh");
    expect(hook.windows.shell).toBe("pwsh");
  });
});
