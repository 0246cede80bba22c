// Proves the determinism rules for orchestrators fire on each forbidden construct and stay quiet
// on the real orchestrator, through ESLint's API with the project's own config.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";

const root = path.resolve(__dirname, "../..");
const orchestratorFile = path.join(root, "src/orchestrators/processOrder.ts");
const probeFile = path.join(root, "src/orchestrators/__probe__.ts");

// ESLint loads eslint.config.mjs with a dynamic import, which jest's module sandbox refuses, so
// the ESLint API (`new ESLint()` + `lintText`) runs in a plain Node child, once per call.
const LINT_SCRIPT = `
const { ESLint } = require("eslint");
const cases = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
(async () => {
  const eslint = new ESLint({ cwd: process.cwd() });
  const out = [];
  for (const c of cases) {
    const [result] = await eslint.lintText(c.code, { filePath: c.filePath });
    out.push(result.messages.map((m) => m.ruleId + ": " + m.message));
  }
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

function lint(cases: { code: string; filePath: string }[]): string[][] {
  const stdout = execFileSync(process.execPath, ["-e", LINT_SCRIPT], {
    cwd: root,
    input: JSON.stringify(cases),
    encoding: "utf8",
  });
  return JSON.parse(stdout) as string[][];
}

const FORBIDDEN: [name: string, code: string, rule: string][] = [
  ["Date.now()", "export const t = Date.now();\n", "no-restricted-properties"],
  ["new Date()", "export const t = new Date();\n", "no-restricted-syntax"],
  ["Date()", "export const t = Date();\n", "no-restricted-syntax"],
  ["Math.random", "export const r = Math.random();\n", "no-restricted-properties"],
  ["global crypto", "export const id = crypto.randomUUID();\n", "no-restricted-globals"],
  [
    "node:crypto",
    'import { randomUUID } from "node:crypto";\nexport const id = randomUUID();\n',
    "no-restricted-imports",
  ],
  ["process.env", "export const v = process.env.APPROVAL_TIMEOUT;\n", "no-restricted-"],
  [
    "fs import",
    'import fs from "node:fs";\nexport const x = fs.existsSync("a");\n',
    "no-restricted-imports",
  ],
  ["bare builtin", 'import { get } from "http";\nexport const x = get;\n', "no-restricted-imports"],
  [
    "@azure/cosmos",
    'import { CosmosClient } from "@azure/cosmos";\nexport const c = CosmosClient;\n',
    "no-restricted-imports",
  ],
  [
    "adapters",
    'import { getServices } from "../adapters/services";\nexport const s = getServices;\n',
    "no-restricted-imports",
  ],
  [
    "async function",
    "export async function f(): Promise<number> {\n  return 1;\n}\n",
    "no-restricted-syntax",
  ],
  ["async arrow", "export const f = async (): Promise<number> => 1;\n", "no-restricted-syntax"],
  ["setTimeout", "setTimeout(() => undefined, 1);\n", "no-restricted-globals"],
];

const outside = path.join(root, "src/activities/__probe__.ts");
const ALLOWED_ELSEWHERE = "export const t = Date.now() + Math.random();\n";
const DURABLE_CLOCK =
  "export function deadline(now: Date, ms: number): Date {\n  return new Date(now.getTime() + ms);\n}\n";

let results: Map<string, string[]>;

// One child process lints every case (starting ESLint costs ~2 s).
beforeAll(() => {
  const cases = [
    ...FORBIDDEN.map(([name, code]) => ({ name, code, filePath: probeFile })),
    { name: "outside", code: ALLOWED_ELSEWHERE, filePath: outside },
    { name: "real", code: readFileSync(orchestratorFile, "utf8"), filePath: orchestratorFile },
    { name: "clock", code: DURABLE_CLOCK, filePath: probeFile },
  ];
  const messages = lint(cases);
  results = new Map(cases.map((c, i) => [c.name, messages[i]!]));
}, 60_000);

describe("orchestrator determinism lint", () => {
  it.each(FORBIDDEN)("flags %s", (name, _code, rule) => {
    const messages = results.get(name)!;
    expect(messages.some((m) => m.startsWith(rule))).toBe(true);
  });

  it("allows the same code outside src/orchestrators", () => {
    expect(results.get("outside")).toEqual([]);
  });

  it("the real orchestrator is clean", () => {
    expect(results.get("real")).toEqual([]);
  });

  it("allows the durable clock and a dated timer", () => {
    expect(results.get("clock")).toEqual([]);
  });
});
