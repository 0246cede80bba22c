// Reads what the app's code needs from its environment, with the TypeScript parser (not regexes),
// so the infra tests follow the code as it changes: setting names, binding connections, queue
// names and the Cosmos container list.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { REPO } from "./compiler";

export const SRC = join(REPO, "src");

function tsFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
  });
}

export interface SourceFile {
  path: string;
  ast: ts.SourceFile;
}

export function readSources(dir = SRC): SourceFile[] {
  return tsFiles(dir).map((path) => ({
    path,
    ast: ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.ES2022, true),
  }));
}

function visit(node: ts.Node, fn: (n: ts.Node) => void): void {
  fn(node);
  node.forEachChild((c) => visit(c, fn));
}

const unwrap = (e: ts.Expression): ts.Expression =>
  ts.isAsExpression(e) || ts.isSatisfiesExpression(e) || ts.isParenthesizedExpression(e)
    ? unwrap(e.expression)
    : e;

/** Top-level `const X = "..."` and `const X = { a: "...", ... }` across the sources. */
export function constants(sources: SourceFile[]): Map<string, string | Record<string, string>> {
  const out = new Map<string, string | Record<string, string>>();
  for (const { ast } of sources) {
    visit(ast, (n) => {
      if (!ts.isVariableDeclaration(n) || !ts.isIdentifier(n.name) || !n.initializer) return;
      const init = unwrap(n.initializer);
      if (ts.isStringLiteralLike(init)) out.set(n.name.text, init.text);
      else if (ts.isObjectLiteralExpression(init)) {
        const obj: Record<string, string> = {};
        for (const p of init.properties) {
          if (ts.isPropertyAssignment(p) && ts.isStringLiteralLike(unwrap(p.initializer))) {
            obj[p.name.getText()] = (unwrap(p.initializer) as ts.StringLiteralLike).text;
          }
        }
        out.set(n.name.text, obj);
      }
    });
  }
  return out;
}

/** A string literal, or a reference to a constant / constant object member, as its value. */
export function resolveString(
  e: ts.Expression,
  consts: Map<string, string | Record<string, string>>,
): string | undefined {
  const x = unwrap(e);
  if (ts.isStringLiteralLike(x)) return x.text;
  if (ts.isIdentifier(x)) {
    const v = consts.get(x.text);
    return typeof v === "string" ? v : undefined;
  }
  if (ts.isPropertyAccessExpression(x) && ts.isIdentifier(x.expression)) {
    const v = consts.get(x.expression.text);
    return typeof v === "object" ? v[x.name.text] : undefined;
  }
  return undefined;
}

const isEnvObject = (e: ts.Expression): boolean => {
  const x = unwrap(e);
  return (
    (ts.isIdentifier(x) && /^env$/i.test(x.text)) ||
    (ts.isPropertyAccessExpression(x) && x.getText() === "process.env")
  );
};

export interface SettingRead {
  name: string;
  file: string;
}

/**
 * Setting names the code reads: `process.env.X`, `process.env["X"]`, `env.X`, and calls that
 * pass the environment with a name, like `read(env, "X")` or `identityOptions(env, "X")`.
 * A template name such as `${prefix}__clientId` is reported as `*__clientId`.
 */
export function settingReads(sources: SourceFile[]): SettingRead[] {
  const consts = constants(sources);
  const reads: SettingRead[] = [];
  for (const { path, ast } of sources) {
    const add = (name: string) => reads.push({ name, file: path });
    visit(ast, (n) => {
      if (ts.isPropertyAccessExpression(n) && isEnvObject(n.expression)) add(n.name.text);
      if (ts.isElementAccessExpression(n) && isEnvObject(n.expression)) {
        const name = resolveString(n.argumentExpression, consts);
        if (name) add(name);
      }
      if (ts.isCallExpression(n) && n.arguments.some(isEnvObject)) {
        for (const a of n.arguments) {
          if (isEnvObject(a)) continue;
          const name = resolveString(a, consts);
          if (name !== undefined) add(name);
          else if (ts.isTemplateExpression(a)) add(`*${a.templateSpans.at(-1)!.literal.text}`);
        }
      }
    });
  }
  return reads;
}

/** Values of a named property (`connection: ...`, `queueName: ...`) in object literals. */
export function propertyValues(sources: SourceFile[], property: string): SettingRead[] {
  const consts = constants(sources);
  const out: SettingRead[] = [];
  for (const { path, ast } of sources) {
    visit(ast, (n) => {
      if (ts.isPropertyAssignment(n) && n.name.getText() === property) {
        const v = resolveString(n.initializer, consts);
        out.push({ name: v ?? `<unresolved: ${n.initializer.getText()}>`, file: path });
      }
    });
  }
  return out;
}

/** Queue names: `queueName` options, sender/receiver arguments, and constants named *QUEUE*. */
export function queueNames(sources: SourceFile[]): SettingRead[] {
  const consts = constants(sources);
  const out = propertyValues(sources, "queueName");
  for (const { path, ast } of sources) {
    visit(ast, (n) => {
      if (
        ts.isCallExpression(n) &&
        ts.isPropertyAccessExpression(n.expression) &&
        /^create(Sender|Receiver)$/.test(n.expression.name.text) &&
        n.arguments[0]
      ) {
        const v = resolveString(n.arguments[0], consts);
        out.push({ name: v ?? `<unresolved: ${n.arguments[0].getText()}>`, file: path });
      }
    });
  }
  for (const [name, value] of consts) {
    if (!/QUEUE/i.test(name)) continue;
    for (const v of typeof value === "string" ? [value] : Object.values(value)) {
      out.push({ name: v, file: `const ${name}` });
    }
  }
  return out;
}

/** The elements of an exported array constant of object literals with string fields. */
export function arrayConstant(file: string, name: string): Record<string, string>[] {
  const ast = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true);
  let found: Record<string, string>[] | undefined;
  visit(ast, (n) => {
    if (!ts.isVariableDeclaration(n) || n.name.getText() !== name || !n.initializer) return;
    const init = unwrap(n.initializer);
    if (!ts.isArrayLiteralExpression(init)) return;
    found = init.elements.map((el) => {
      const obj: Record<string, string> = {};
      const o = unwrap(el);
      if (!ts.isObjectLiteralExpression(o)) throw new Error(`${name}: element is not an object`);
      for (const p of o.properties) {
        if (ts.isPropertyAssignment(p) && ts.isStringLiteralLike(unwrap(p.initializer))) {
          obj[p.name.getText()] = (unwrap(p.initializer) as ts.StringLiteralLike).text;
        }
      }
      return obj;
    });
  });
  if (!found) throw new Error(`${name} (an array literal) not found in ${file}`);
  return found;
}
