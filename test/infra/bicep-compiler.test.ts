// The real Bicep compiler: every file builds and lints clean under the committed bicepconfig.json,
// the pinned compiler is the one CI uses, and the checks bite on a broken file.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import JSON5 from "json5";
import {
  bicep,
  bicepFiles,
  bicepVersion,
  findBicep,
  MIN_BICEP_VERSION,
  PINNED_BICEP_VERSION,
  REPO,
} from "./compiler";

const files = bicepFiles();
const config = JSON5.parse(readFileSync(join(REPO, "bicepconfig.json"), "utf8")) as {
  analyzers: { core: { enabled: boolean; rules: Record<string, { level: string }> } };
};
const semver = (v: string) => v.split(".").map(Number);
const atLeast = (v: string, min: string) => {
  const [a, b] = [semver(v), semver(min)];
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
};

describe("Bicep compiler", () => {
  it("is the version infra/tools/bicep.csproj pins, and at least the templates' minimum", () => {
    const csproj = readFileSync(join(REPO, "infra", "tools", "bicep.csproj"), "utf8");
    expect(csproj).toContain(
      `<PackageDownload Include="Azure.Bicep.CommandLine.linux-x64" Version="[${PINNED_BICEP_VERSION}]" />`,
    );
    expect(atLeast(bicepVersion(), MIN_BICEP_VERSION)).toBe(true);
  });

  it("README and docs/deploy.md state the minimum Bicep version", () => {
    for (const doc of ["README.md", "docs/deploy.md"]) {
      expect({ doc, text: readFileSync(join(REPO, doc), "utf8") }).toEqual({
        doc,
        text: expect.stringContaining(`Bicep ${MIN_BICEP_VERSION} or later`),
      });
    }
  });

  it("with nothing installed and no dotnet, fails with one line saying how to get it", () => {
    const home = mkdtempSync(join(tmpdir(), "no-bicep-"));
    try {
      expect(() => findBicep({ env: { PATH: home, NUGET_PACKAGES: home }, home })).toThrow(
        /^Bicep CLI not found: install the \.NET SDK and run `dotnet restore infra\/tools\/bicep\.csproj`, or set BICEP_PATH to a bicep binary$/,
      );
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("finds the infra files: main.bicep and every module", () => {
    expect(files).toContain("infra/main.bicep");
    expect(files.length).toBeGreaterThanOrEqual(10);
  });

  // One compiler run builds every file and one lints every file (--pattern): a process per file
  // cost ~1.2 s each. Each file's result is then read from the output and its own diagnostics.
  const onlyFor = (file: string, diagnostics: string) =>
    diagnostics
      .split("\n")
      .filter((line) => line.startsWith(`${file}(`))
      .join("\n");
  let outDir = "";
  let built: ReturnType<typeof bicep> | undefined;
  let linted: ReturnType<typeof bicep> | undefined;
  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), "bicep-build-"));
    built = bicep(["build", "--pattern", "infra/**/*.bicep", "--outdir", outDir]);
    linted = bicep(["lint", "--pattern", "infra/**/*.bicep"]);
  });
  afterAll(() => rmSync(outDir, { recursive: true, force: true }));

  it("builds and lints the whole set with exit code 0 and no diagnostics", () => {
    expect({ status: built?.status, diagnostics: built?.diagnostics }).toEqual({
      status: 0,
      diagnostics: "",
    });
    expect({ status: linted?.status, diagnostics: linted?.diagnostics }).toEqual({
      status: 0,
      diagnostics: "",
    });
  });

  it.each(files)("%s builds with no errors or warnings", (file) => {
    expect({ file, diagnostics: onlyFor(file, built?.diagnostics ?? "") }).toEqual({
      file,
      diagnostics: "",
    });
    const out = join(outDir, file.replace(/^infra\//, "").replace(/\.bicep$/, ".json"));
    expect(JSON.parse(readFileSync(out, "utf8")).$schema).toMatch(/[dD]eploymentTemplate\.json#$/);
  });

  it.each(files)("%s lints clean", (file) => {
    expect({ file, diagnostics: onlyFor(file, linted?.diagnostics ?? "") }).toEqual({
      file,
      diagnostics: "",
    });
  });
});

describe("bicepconfig.json", () => {
  const rules = config.analyzers.core.rules;

  it("enables the linter with every rule named and at error level, except the ones left off on purpose", () => {
    expect(config.analyzers.core.enabled).toBe(true);
    const off = Object.entries(rules)
      .filter(([, r]) => r.level === "off")
      .map(([n]) => n)
      .sort();
    // Only the rules whose verdict changes with today's date (docs/deploy.md: bumping API versions).
    expect(off).toEqual(["use-recent-api-versions", "use-recent-module-versions"]);
    for (const [name, r] of Object.entries(rules))
      if (!off.includes(name)) expect({ name, level: r.level }).toEqual({ name, level: "error" });
    expect(Object.keys(rules).length).toBeGreaterThanOrEqual(35);
  });

  it("the lint bites: an unused parameter, a hard-coded location and an untyped object fail", () => {
    const dir = mkdtempSync(join(tmpdir(), "bicep-lint-"));
    try {
      cpSync(join(REPO, "bicepconfig.json"), join(dir, "bicepconfig.json"));
      writeFileSync(
        join(dir, "bad.bicep"),
        [
          "param unused string",
          "param settings object",
          "resource id 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {",
          "  name: 'x'",
          "  location: 'westeurope'",
          "  tags: settings",
          "}",
          "",
        ].join("\n"),
      );
      const r = bicep(["lint", join(dir, "bad.bicep")]);
      expect(r.status).not.toBe(0);
      for (const rule of ["no-unused-params", "no-hardcoded-location", "use-user-defined-types"])
        expect(r.diagnostics).toContain(`Error ${rule}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("the build bites: an unknown property and an unknown API version are errors here", () => {
    const dir = mkdtempSync(join(tmpdir(), "bicep-build-"));
    try {
      cpSync(join(REPO, "bicepconfig.json"), join(dir, "bicepconfig.json"));
      writeFileSync(
        join(dir, "bad.bicep"),
        [
          "param location string",
          "resource s 'Microsoft.DurableTask/schedulers@2019-01-01' = {",
          "  name: 'dts-test'",
          "  location: location",
          "  properties: { sku: { name: 'Consumption' }, ipAllowlist: ['0.0.0.0/0'], nope: 1 }",
          "}",
          "",
        ].join("\n"),
      );
      const r = bicep(["build", join(dir, "bad.bicep"), "--stdout"]);
      // A type the compiler does not know is a warning (BCP081); the infra tests fail on any.
      expect(r.diagnostics).toMatch(/BCP081/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
