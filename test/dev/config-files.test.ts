// The developer-loop configuration: .vscode/*.json and .devcontainer/devcontainer.json are JSONC
// (parsed with json5), valid against the schemas in test/dev/schemas (written here: the
// official ones are not on npm, see each schema's $comment), and consistent with the repo:
// the same extensions everywhere, the attach port is the host's default --inspect port, the
// background tasks recognise the host's ready line, and breakpoints in TS map through source maps.
import fs from "node:fs";
import path from "node:path";
import Ajv from "ajv";
import JSON5 from "json5";
import { parseInspect } from "../../local-host/src/worker/inspect";

const ROOT = path.resolve(__dirname, "..", "..");
const read = (file: string): Record<string, unknown> =>
  JSON5.parse(fs.readFileSync(path.join(ROOT, file), "utf8")) as Record<string, unknown>;
const schema = (name: string) => read(`test/dev/schemas/${name}.schema.json`);

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = {
  extensions: ajv.compile(schema("extensions")),
  launch: ajv.compile(schema("launch")),
  tasks: ajv.compile(schema("tasks")),
  devcontainer: ajv.compile(schema("devcontainer")),
};
const files = {
  extensions: ".vscode/extensions.json",
  launch: ".vscode/launch.json",
  tasks: ".vscode/tasks.json",
  devcontainer: ".devcontainer/devcontainer.json",
} as const;

interface LaunchConfig {
  name: string;
  type: string;
  request: string;
  port?: number;
  address?: string;
  sourceMaps?: boolean;
  outFiles?: string[];
  restart?: boolean;
  preLaunchTask?: string;
}
interface Task {
  label: string;
  type: string;
  script?: string;
  command?: string;
  isBackground?: boolean;
  problemMatcher?: { background?: { beginsPattern: string; endsPattern: string } };
}

const EXTENSIONS = [
  "ms-azuretools.vscode-azurefunctions",
  "ms-azuretools.vscode-bicep",
  "dbaeumer.vscode-eslint",
  "esbenp.prettier-vscode",
  "Orta.vscode-jest",
];

describe.each(Object.keys(files) as (keyof typeof files)[])("%s", (kind) => {
  it("parses as JSONC and matches its schema", () => {
    const validate = validators[kind];
    const ok = validate(read(files[kind]));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });
});

it("the schemas reject broken copies", () => {
  const launch = read(files.launch) as { configurations: Record<string, unknown>[] };
  delete launch.configurations[0].request;
  expect(validators.launch(launch)).toBe(false);
  const tasks = read(files.tasks) as { tasks: Record<string, unknown>[] };
  const start = tasks.tasks.find((t) => t.isBackground) as {
    problemMatcher: { background: Record<string, unknown> };
  };
  // A misspelt property (this one was caught here) is not silently ignored.
  start.problemMatcher.background.activesBegins = true;
  expect(validators.tasks(tasks)).toBe(false);
  const dc = read(files.devcontainer);
  delete dc.image;
  expect(validators.devcontainer(dc)).toBe(false);
  expect(validators.devcontainer({ ...read(files.devcontainer), forwardPorts: ["x"] })).toBe(false);
  expect(validators.extensions({ recommendations: ["not an id"] })).toBe(false);
});

it("recommends the same extensions in VS Code and in the dev container", () => {
  const recommended = (read(files.extensions) as { recommendations: string[] }).recommendations;
  expect([...recommended].sort()).toEqual([...EXTENSIONS].sort());
  const dc = read(files.devcontainer) as {
    customizations: { vscode: { extensions: string[] } };
  };
  expect([...dc.customizations.vscode.extensions].sort()).toEqual([...recommended].sort());
});

it("the dev container has Node 22, azd, Azure CLI, Core Tools, .NET 10 and restores the repo", () => {
  const dc = read(files.devcontainer) as {
    image: string;
    features: Record<string, { version?: string }>;
    forwardPorts: number[];
    postCreateCommand: string;
  };
  expect(dc.image).toMatch(/^mcr\.microsoft\.com\/devcontainers\/(typescript|javascript)-node:22/);
  const feature = (prefix: string) =>
    Object.entries(dc.features).find(([id]) => id.startsWith(prefix))?.[1];
  expect(feature("ghcr.io/azure/azure-dev/azd")).toBeDefined();
  expect(feature("ghcr.io/devcontainers/features/azure-cli")).toBeDefined();
  expect(
    Object.keys(dc.features).some((id) => /azure-functions-core-tools/.test(id)) ||
      /azure-functions-core-tools@4/.test(dc.postCreateCommand),
  ).toBe(true);
  expect(feature("ghcr.io/devcontainers/features/dotnet")?.version).toMatch(/^10(\.|$)/);
  expect(dc.forwardPorts).toContain(7071);
  expect(dc.postCreateCommand).toBe("npm ci && dotnet restore infra/tools/bicep.csproj");
  expect(fs.existsSync(path.join(ROOT, "infra/tools/bicep.csproj"))).toBe(true);
});

it("attaches to the worker on the host's default --inspect port with source maps", () => {
  const { configurations } = read(files.launch) as { configurations: LaunchConfig[] };
  const tasks = (read(files.tasks) as { tasks: Task[] }).tasks;
  const attach = configurations.find((c) => c.name === "Attach to worker");
  expect(attach).toMatchObject({
    type: "node",
    request: "attach",
    port: parseInspect(true).port,
    sourceMaps: true,
    outFiles: ["${workspaceFolder}/dist/**/*.js"],
    restart: true,
  });
  expect(attach?.address ?? "127.0.0.1").toBe(parseInspect(true).host);
  // The message the host prints names this configuration.
  const process = fs.readFileSync(path.join(ROOT, "local-host/src/worker/process.ts"), "utf8");
  expect(process).toContain(`(VS Code: "${attach!.name}")`);
  for (const c of configurations) {
    if (c.preLaunchTask) expect(tasks.map((t) => t.label)).toContain(c.preLaunchTask);
  }
  // Breakpoints in .ts files resolve through the emitted source maps.
  const build = read("tsconfig.build.json") as { extends?: string; compilerOptions?: object };
  const base = read("tsconfig.json") as { compilerOptions: { sourceMap?: boolean } };
  expect(
    (build.compilerOptions as { sourceMap?: boolean }).sourceMap ?? base.compilerOptions.sourceMap,
  ).toBe(true);
});

it("has build, test, start and dev tasks; the background ones end on the host's ready line", () => {
  const tasks = (read(files.tasks) as { tasks: Task[] }).tasks;
  const scripts = (read("package.json") as { scripts: Record<string, string> }).scripts;
  const byLabel = new Map(tasks.map((t) => [t.label, t]));
  expect(byLabel.get("build")?.script).toBe("build");
  expect(byLabel.get("test")?.script).toBe("test");
  expect(byLabel.get("start")?.command).toMatch(/^npm start\b/);
  expect(scripts.dev).toMatch(/dev-cli\.js/);
  const host = fs.readFileSync(path.join(ROOT, "local-host/src/host.ts"), "utf8");
  expect(host).toContain("print(`Host ready: ${baseUrl}`)");
  const background = tasks.filter((t) => t.isBackground);
  expect(background.map((t) => t.label)).toEqual(expect.arrayContaining(["start"]));
  for (const t of background) {
    const bg = t.problemMatcher?.background;
    expect(bg).toBeDefined();
    expect("[12:00:00.000] Host ready: http://localhost:7071").toMatch(new RegExp(bg!.endsPattern));
    expect("Functions:").not.toMatch(new RegExp(bg!.endsPattern));
    // npm's banner for the script the task runs first.
    const first = t.command?.includes("npm run dev") ? "build" : "prestart";
    expect(`> order-processing-durable@0.1.0 ${first}`).toMatch(new RegExp(bg!.beginsPattern));
  }
});
