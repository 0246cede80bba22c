// The GitHub Actions workflow that `azd pipeline config` uses (.github/workflows/azure-dev.yml):
// valid against GitHub's workflow schema (action-validator, which embeds SchemaStore's
// github-workflow schema), OIDC-only, and wired as docs/deploy.md describes. What only GitHub and
// Azure can check (the federated credentials, the environment's rules, a real run) is listed in
// docs/deploy.md, "CI/CD with GitHub Actions".
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { validateWorkflow } from "@action-validator/core";
import { parse } from "yaml";

const REPO = resolve(__dirname, "..", "..");
const WORKFLOW_PATH = join(REPO, ".github", "workflows", "azure-dev.yml");
const source = readFileSync(WORKFLOW_PATH, "utf8");

type Step = { name?: string; uses?: string; run?: string; with?: Record<string, unknown> };
type Job = {
  if?: string;
  needs?: string | string[];
  "runs-on"?: string;
  "timeout-minutes"?: number;
  container?: string | { image: string };
  environment?: string | { name: string; url?: string };
  concurrency?: string | { group: string; "cancel-in-progress"?: boolean | string };
  permissions?: Record<string, string> | string;
  env?: Record<string, string>;
  steps: Step[];
};
type Workflow = {
  on: Record<string, { branches?: string[] } | null>;
  permissions?: Record<string, string> | string;
  concurrency?: { group: string; "cancel-in-progress"?: boolean | string };
  jobs: Record<string, Job>;
};
const workflow = parse(source) as Workflow;
const jobs = workflow.jobs;

const runs = (job: Job): string => job.steps.map((s) => s.run ?? "").join("\n");
const uses = (job: Job): string[] => job.steps.flatMap((s) => (s.uses ? [s.uses] : []));
const needsOf = (job: Job): string[] => [job.needs ?? []].flat();
const signsIn = (job: Job): boolean => /azd auth login/.test(runs(job));
const errorsOf = (text: string) => validateWorkflow(text).errors;

describe(".github/workflows/azure-dev.yml", () => {
  it("is where azd pipeline config looks for it", () => {
    expect(existsSync(WORKFLOW_PATH)).toBe(true);
  });

  it("is valid against GitHub's workflow schema", () => {
    expect(errorsOf(source)).toEqual([]);
  });

  it("the schema check rejects broken copies of the workflow", () => {
    const broken: Record<string, string> = {
      "misspelt job key": source.replace(
        "    runs-on: ubuntu-latest",
        "    runs_on: ubuntu-latest",
      ),
      "misspelt step key": source.replace(
        "      - name: Checkout\n        uses:",
        "      - name: Checkout\n        usse:",
      ),
      "bad permission level": source.replace("      id-token: write", "      id-token: writable"),
      "unknown trigger": source.replace("  pull_request:\n", "  pull-request:\n"),
      "YAML syntax error": source.replace("jobs:\n", "jobs:\n  : [\n"),
    };
    for (const [what, text] of Object.entries(broken)) {
      expect({ what, changed: text !== source }).toEqual({ what, changed: true });
      expect({ what, errors: errorsOf(text).length > 0 }).toEqual({ what, errors: true });
    }
  });

  it("runs on pull requests to main and on pushes to main", () => {
    expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
    expect(workflow.on.pull_request?.branches).toEqual(["main"]);
    expect(workflow.on.push?.branches).toEqual(["main"]);
  });

  describe("Azure sign-in is OIDC only", () => {
    it("references no secret (GITHUB_TOKEN is the only one allowed)", () => {
      const refs = [...source.matchAll(/secrets\.([A-Za-z0-9_]+)|secrets\[/g)].map((m) => m[0]);
      expect(refs.filter((r) => r !== "secrets.GITHUB_TOKEN")).toEqual([]);
      expect(source).not.toMatch(/client-secret|AZURE_CREDENTIALS|publish-profile|creds:/i);
    });

    it("grants contents: read by default and id-token: write only to the jobs that sign in", () => {
      expect(workflow.permissions).toEqual({ contents: "read" });
      const signingIn = Object.entries(jobs).filter(([, job]) => signsIn(job));
      expect(signingIn.map(([name]) => name).sort()).toEqual(["deploy", "preview"]);
      for (const [name, job] of Object.entries(jobs)) {
        const perms = job.permissions ?? workflow.permissions;
        const idToken = typeof perms === "object" ? perms["id-token"] : undefined;
        expect({ name, idToken }).toEqual({ name, idToken: signsIn(job) ? "write" : undefined });
      }
    });

    it("logs in with azd's GitHub federated-credential provider, ids from repository variables", () => {
      for (const name of ["preview", "deploy"]) {
        const job = jobs[name];
        const login = runs(job).replace(/\\\n\s*/g, " ");
        expect(login).toMatch(/azd auth login[^\n]*--federated-credential-provider "?github"?/);
        expect(login).toMatch(/--client-id "\$AZURE_CLIENT_ID"/);
        expect(login).toMatch(/--tenant-id "\$AZURE_TENANT_ID"/);
        for (const v of [
          "AZURE_CLIENT_ID",
          "AZURE_TENANT_ID",
          "AZURE_SUBSCRIPTION_ID",
          "AZURE_ENV_NAME",
          "AZURE_LOCATION",
        ]) {
          expect({ name, v, value: job.env?.[v] }).toEqual({
            name,
            v,
            value: `\${{ vars.${v} }}`,
          });
        }
        // The pipeline's principal is a service principal; main.parameters.json defaults to User.
        expect(job.env?.AZURE_PRINCIPAL_TYPE).toBe("ServicePrincipal");
        expect(uses(job)).toContain("Azure/setup-azd@v2");
        // The Azure CLI (azure.yaml's hooks use it) signs in with the same OIDC credential.
        const az = job.steps.find((s) => s.uses?.startsWith("azure/login@"));
        expect(az?.with).toEqual({
          "client-id": "${{ vars.AZURE_CLIENT_ID }}",
          "tenant-id": "${{ vars.AZURE_TENANT_ID }}",
          "subscription-id": "${{ vars.AZURE_SUBSCRIPTION_ID }}",
        });
        const provision = job.steps.findIndex((s) => /azd provision/.test(s.run ?? ""));
        expect(job.steps.indexOf(az!)).toBeLessThan(provision);
      }
    });

    it("maps every infra parameter without a default that azd does not set itself", () => {
      const params = readFileSync(join(REPO, "infra", "main.parameters.json"), "utf8");
      const required = [...params.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1]);
      const setByAzd = new Set(["AZURE_ENV_NAME", "AZURE_LOCATION", "AZURE_PRINCIPAL_ID"]);
      for (const name of ["preview", "deploy"]) {
        for (const v of required.filter((p) => !setByAzd.has(p))) {
          expect({ name, v, value: jobs[name].env?.[v] }).toEqual({
            name,
            v,
            value: `\${{ vars.${v} }}`,
          });
        }
      }
    });
  });

  describe("checks job (pull requests and main)", () => {
    const checks = jobs.checks;

    it("runs .ci/run, which does npm ci, lint, type-check, build and every test", () => {
      expect(runs(checks)).toMatch(/^bash \.ci\/run$/m);
      const ci = readFileSync(join(REPO, ".ci", "run"), "utf8");
      for (const step of [
        "npm ci",
        "npm run lint",
        "npm run typecheck",
        "npm run build",
        "npm test",
      ]) {
        expect({ step, inCi: ci.includes(step) }).toEqual({ step, inCi: true });
      }
    });

    it("has the .NET 10 SDK and restores the Bicep CLI before the tests", () => {
      const dotnet = checks.steps.find((s) => s.uses?.startsWith("actions/setup-dotnet@"));
      expect(String(dotnet?.with?.["dotnet-version"])).toMatch(/^10\./);
      const restore = checks.steps.findIndex((s) =>
        /dotnet restore infra\/tools\/bicep\.csproj/.test(s.run ?? ""),
      );
      const ci = checks.steps.findIndex((s) => /\.ci\/run/.test(s.run ?? ""));
      expect(restore).toBeGreaterThan(checks.steps.indexOf(dotnet!));
      expect(ci).toBeGreaterThan(restore);
    });

    it("runs in a Debian container with Chromium, whose path the tests read from CHROMIUM_PATH", () => {
      const image =
        typeof checks.container === "object" ? checks.container.image : checks.container;
      expect(image).toMatch(/^node:22-bookworm/);
      expect(runs(checks)).toMatch(/apt-get install -y[^\n]*\bchromium\b/);
      expect(checks.env?.CHROMIUM_PATH).toBe("/usr/bin/chromium");
    });
  });

  describe("preview job (pull requests)", () => {
    const preview = jobs.preview;

    it("runs only for pull requests from this repository (forks get no OIDC token)", () => {
      expect(preview.if).toMatch(/github\.event_name == 'pull_request'/);
      expect(preview.if).toMatch(
        /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/,
      );
    });

    it("previews the infrastructure change with azd provision --preview and changes nothing", () => {
      expect(runs(preview)).toMatch(/azd provision --preview --no-prompt/);
      expect(runs(preview)).not.toMatch(/azd (deploy|up|down)|azd provision --no-prompt/);
    });
  });

  describe("deploy job (pushes to main)", () => {
    const deploy = jobs.deploy;

    it("runs only on a push to main, after the checks pass", () => {
      expect(deploy.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
      expect(needsOf(deploy)).toEqual(["checks"]);
    });

    it("deploys behind the production GitHub environment", () => {
      const env =
        typeof deploy.environment === "object" ? deploy.environment.name : deploy.environment;
      expect(env).toBe("production");
    });

    it("provisions, then deploys, then smoke-checks the anonymous health endpoint", () => {
      const script = runs(deploy);
      const provision = script.indexOf("azd provision --no-prompt");
      const deployAt = script.indexOf("azd deploy --no-prompt");
      const health = script.indexOf("/api/health");
      expect(provision).toBeGreaterThan(-1);
      expect(deployAt).toBeGreaterThan(provision);
      expect(health).toBeGreaterThan(deployAt);
      expect(script).not.toMatch(/--preview/);
    });

    it("builds with Node 22, the function app's runtime", () => {
      const node = deploy.steps.find((s) => s.uses?.startsWith("actions/setup-node@"));
      expect(String(node?.with?.["node-version"])).toBe("22");
      expect(runs(deploy)).toMatch(/npm ci/);
    });
  });

  describe("runs", () => {
    it("never overlap on main (queued, not cancelled); a newer pull request push cancels", () => {
      expect(workflow.concurrency?.group).toMatch(/github\.ref/);
      expect(workflow.concurrency?.group).toMatch(/pull_request\.number/);
      expect(workflow.concurrency?.["cancel-in-progress"]).toBe(
        "${{ github.event_name == 'pull_request' }}",
      );
      const deploy = jobs.deploy.concurrency;
      expect(typeof deploy === "object" && deploy["cancel-in-progress"]).toBe(false);
    });

    it("use actions pinned to a major version or a commit (never a branch)", () => {
      const all = Object.values(jobs).flatMap(uses);
      expect(all.length).toBeGreaterThan(0);
      for (const u of all) {
        expect(u).toMatch(/^[\w.-]+\/[\w./-]+@(v\d+(\.\d+){0,2}|[0-9a-f]{40})$/);
      }
    });

    it("have time limits", () => {
      for (const [name, job] of Object.entries(jobs)) {
        expect({ name, limit: typeof job["timeout-minutes"] }).toEqual({
          name,
          limit: "number",
        });
      }
    });
  });

  it("points at a docs/deploy.md section that exists", () => {
    expect(source).toMatch(/docs\/deploy\.md, "CI\/CD with GitHub Actions"/);
    expect(readFileSync(join(REPO, "docs", "deploy.md"), "utf8")).toMatch(
      /^## CI\/CD with GitHub Actions$/m,
    );
  });
});
