import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { bicepFiles, parseBicep, readBicep, rel, syntaxErrors } from "./bicep";

const files = bicepFiles();

describe("Bicep syntax (tree-sitter-bicep; no Bicep compiler is reachable here)", () => {
  it("finds the entry point and every module it references", () => {
    expect(files.map(rel)).toContain("infra/main.bicep");
    const referenced = files
      .flatMap((f) => readBicep(f).modules.map((m) => ({ from: f, path: m.path })))
      .filter((m) => !m.path.startsWith("br/") && !m.path.startsWith("br:"));
    expect(referenced.length).toBeGreaterThan(0);
    for (const m of referenced) {
      const target = resolve(dirname(m.from), m.path);
      expect(files).toContain(target);
    }
  });

  it.each(files.map((f) => [rel(f), f]))("%s parses without errors", (_name, file) => {
    expect(syntaxErrors(readFileSync(file, "utf8"))).toEqual([]);
  });

  it("the check catches a broken file (unclosed object, dangling assignment, bad token)", () => {
    const good = readFileSync(
      files.find((f) => f.endsWith("main.bicep"))!,
      "utf8",
    );
    expect(parseBicep(good).rootNode.hasError).toBe(false);
    const lastBrace = good.lastIndexOf("}");
    const broken = [
      good.slice(0, lastBrace) + good.slice(lastBrace + 1), // an object never closed
      `${good}\nparam dangling string =\n`,
      good.replace("targetScope = 'subscription'", "targetScope = = 'subscription'"),
    ];
    for (const b of broken) {
      expect(parseBicep(b).rootNode.hasError).toBe(true);
      expect(syntaxErrors(b).length).toBeGreaterThan(0);
    }
  });
});
