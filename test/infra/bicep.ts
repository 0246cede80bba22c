// Reads Bicep with tree-sitter-bicep (no Bicep compiler is reachable here) and turns declarations
// into plain values the infra tests can assert on. Anything that is not a literal (a call, a
// reference, an interpolated string, a ternary) becomes an Expr holding its source text.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import type Parser from "tree-sitter";

export const REPO = resolve(__dirname, "..", "..");
export const INFRA = join(REPO, "infra");

export class Expr {
  constructor(readonly text: string) {}
}
/** `condition ? consequence : alternative`, with both branches read as values. */
export class Ternary extends Expr {
  constructor(
    text: string,
    readonly condition: string,
    readonly consequence: Value,
    readonly alternative: Value,
  ) {
    super(text);
  }
}
export type Value = string | number | boolean | null | Expr | Value[] | { [key: string]: Value };
export type Obj = { [key: string]: Value };

type Node = Parser.SyntaxNode;

/**
 * Loads tree-sitter so that it works in every jest test file of a worker. Node caches the native
 * addon per process, but jest re-evaluates tree-sitter's index.js per test file, and that file
 * patches the addon's prototypes (it reads `Tree.prototype.rootNode`, then replaces it with a
 * getter). The second evaluation would read the first one's getter and every tree's rootNode
 * would be undefined. So: snapshot the pristine prototypes once, restore them before each load.
 */
function loadTreeSitter(): typeof Parser {
  const treeSitterDir = dirname(require.resolve("tree-sitter/package.json"));
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the addon loader is CJS-only
  const nodeGypBuild = require(require.resolve("node-gyp-build", { paths: [treeSitterDir] })) as (
    dir: string,
  ) => Record<string | symbol, { prototype: object } | undefined>;
  const binding = nodeGypBuild(treeSitterDir);
  const classes = ["Tree", "Parser", "TreeCursor", "Query", "LookaheadIterator"];
  const key = Symbol.for("order-processing.test.tree-sitter.pristine");
  const saved = binding[key] as unknown as Map<string, PropertyDescriptorMap> | undefined;
  if (!saved) {
    const snapshot = new Map(
      classes.map((c) => [c, Object.getOwnPropertyDescriptors(binding[c]!.prototype)]),
    );
    Object.defineProperty(binding, key, { value: snapshot });
  } else {
    for (const c of classes) {
      const proto = binding[c]!.prototype as Record<string | symbol, unknown>;
      const pristine = saved.get(c)!;
      for (const k of Reflect.ownKeys(proto)) if (!(k in pristine)) delete proto[k];
      Object.defineProperties(proto, pristine);
    }
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load after the restore
  return require("tree-sitter") as typeof Parser;
}

const TreeSitter = loadTreeSitter();
const parser = new TreeSitter();
// eslint-disable-next-line @typescript-eslint/no-require-imports -- grammar addon, CJS-only
parser.setLanguage(require("tree-sitter-bicep") as Parser.Language);

export function parseBicep(source: string): Parser.Tree {
  return parser.parse(source);
}

/** Line:column and text of every ERROR or MISSING node; empty for a well-formed file. */
export function syntaxErrors(source: string): string[] {
  const errors: string[] = [];
  const visit = (n: Node): void => {
    if (n.type === "ERROR" || n.isMissing) {
      const at = `${n.startPosition.row + 1}:${n.startPosition.column + 1}`;
      errors.push(
        `${at} ${n.isMissing ? `missing ${n.type}` : `unexpected ${n.text.slice(0, 40)}`}`,
      );
    }
    n.children.forEach(visit);
  };
  const root = parseBicep(source).rootNode;
  visit(root);
  if (root.hasError && errors.length === 0) errors.push("parse error");
  return errors;
}

export function bicepFiles(dir = INFRA): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => {
      const p = join(dir, e.name);
      if (e.isDirectory()) return bicepFiles(p);
      return e.name.endsWith(".bicep") ? [p] : [];
    })
    .sort();
}

export const rel = (file: string): string => relative(REPO, file).split("\\").join("/");

function stringValue(n: Node): Value {
  if (n.namedChildren.some((c) => c.type === "interpolation")) return new Expr(n.text);
  let s = "";
  for (const c of n.namedChildren) {
    if (c.type === "string_content") s += c.text;
    else if (c.type === "escape_sequence") s += c.text === "\\n" ? "\n" : c.text.slice(1);
  }
  return s;
}

export function toValue(n: Node): Value {
  switch (n.type) {
    case "string":
      return stringValue(n);
    case "multiline_string":
      return n.text.replace(/^'''\r?\n?/, "").replace(/'''$/, "");
    case "number":
      return Number(n.text);
    case "boolean":
      return n.text === "true";
    case "null":
      return null;
    case "array":
      return n.namedChildren.map(toValue);
    case "object": {
      const o: Obj = {};
      for (const p of n.namedChildren.filter((c) => c.type === "object_property")) {
        const [key, value] = [p.namedChildren[0], p.namedChildren[p.namedChildren.length - 1]];
        const k = key.type === "string" ? stringValue(key) : key.text;
        o[k instanceof Expr ? k.text : String(k)] = toValue(value);
      }
      return o;
    }
    case "ternary_expression": {
      const [c, yes, no] = ["condition", "consequence", "alternative"].map((f) =>
        n.childForFieldName(f)!,
      );
      return new Ternary(n.text, c.text, toValue(yes), toValue(no));
    }
    case "parenthesized_expression":
      return n.namedChildren.length === 1 ? toValue(n.namedChildren[0]) : new Expr(n.text);
    case "unary_expression":
      return /^-\d/.test(n.text) ? Number(n.text) : new Expr(n.text);
    default:
      return new Expr(n.text);
  }
}

export interface Decorated {
  name: string;
  decorators: { name: string; args: Value[] }[];
}
export interface Param extends Decorated {
  type: string;
  default?: Value;
}
export interface Resource extends Decorated {
  file: string;
  type: string;
  apiVersion: string;
  existing: boolean;
  loop?: { collection: string; variables: string[] };
  condition?: string;
  body: Obj;
}
export interface Module extends Decorated {
  file: string;
  path: string;
  condition?: string;
  body: Obj;
}
export interface BicepFile {
  file: string;
  source: string;
  targetScope?: string;
  params: Map<string, Param>;
  vars: Map<string, Value>;
  outputs: Map<string, { type: string; value: Value }>;
  resources: Resource[];
  modules: Module[];
}

function decoratorsOf(n: Node): Decorated["decorators"] {
  const prev = n.previousNamedSibling;
  if (!prev || prev.type !== "decorators") return [];
  return prev.namedChildren.map((d) => {
    const call = d.namedChildren[0];
    if (call.type !== "call_expression") return { name: call.text, args: [] };
    const args = call.childForFieldName("arguments");
    return {
      name: call.childForFieldName("function")?.text ?? "",
      args: args ? args.namedChildren.map(toValue) : [],
    };
  });
}

/** Unwraps `= [for x in xs: body]` and `= if (cond) body` to the object body. */
function unwrapBody(n: Node): Pick<Resource, "loop" | "condition"> & { body: Obj } {
  let loop: Resource["loop"];
  let condition: string | undefined;
  let cur: Node = n;
  for (;;) {
    if (cur.type === "for_statement") {
      const params = cur.namedChildren.find((c) => c.type === "for_loop_parameters");
      const variables = params
        ? params.namedChildren.map((c) => c.text)
        : [cur.namedChildren[0].text];
      const body = cur.namedChildren[cur.namedChildren.length - 1];
      const collection = cur.namedChildren[cur.namedChildren.length - 2];
      loop = { collection: collection.text, variables };
      cur = body;
    } else if (cur.type === "if_statement") {
      condition = cur.namedChildren[0].text.replace(/^\(|\)$/g, "");
      cur = cur.namedChildren[cur.namedChildren.length - 1];
    } else break;
  }
  const body = cur.type === "object" ? (toValue(cur) as Obj) : {};
  return { loop, condition, body };
}

export function readBicep(file: string): BicepFile {
  const source = readFileSync(file, "utf8");
  const root = parseBicep(source).rootNode;
  const out: BicepFile = {
    file,
    source,
    params: new Map(),
    vars: new Map(),
    outputs: new Map(),
    resources: [],
    modules: [],
  };
  for (const n of root.namedChildren) {
    const name = n.namedChildren[0]?.text ?? "";
    const last = n.namedChildren[n.namedChildren.length - 1];
    switch (n.type) {
      case "target_scope_assignment":
        out.targetScope = String(toValue(n.namedChildren[0]));
        break;
      case "parameter_declaration": {
        const type = n.namedChildren[1]?.text ?? "";
        const hasDefault = n.children.some((c) => c.type === "=");
        out.params.set(name, {
          name,
          type,
          decorators: decoratorsOf(n),
          ...(hasDefault ? { default: toValue(last) } : {}),
        });
        break;
      }
      case "variable_declaration":
        out.vars.set(name, toValue(last));
        break;
      case "output_declaration":
        out.outputs.set(name, { type: n.namedChildren[1]?.text ?? "", value: toValue(last) });
        break;
      case "resource_declaration": {
        const typeRef = String(toValue(n.namedChildren[1]));
        const [type, apiVersion = ""] = typeRef.split("@");
        out.resources.push({
          file,
          name,
          type,
          apiVersion,
          existing: n.children.some((c) => c.type === "existing"),
          decorators: decoratorsOf(n),
          ...unwrapBody(last),
        });
        break;
      }
      case "module_declaration":
        out.modules.push({
          file,
          name,
          path: String(toValue(n.namedChildren[1])),
          decorators: decoratorsOf(n),
          ...unwrapBody(last),
        });
        break;
    }
  }
  return out;
}

export function readAllBicep(): BicepFile[] {
  return bicepFiles().map(readBicep);
}

/** Walks a value by property path; undefined when any step is missing. */
export function at(v: Value | undefined, ...path: (string | number)[]): Value | undefined {
  let cur: Value | undefined = v;
  for (const k of path) {
    if (cur === null || cur === undefined || cur instanceof Expr || typeof cur !== "object") {
      return undefined;
    }
    cur = Array.isArray(cur) ? cur[k as number] : (cur as Obj)[k as string];
  }
  return cur;
}

export const exprText = (v: Value | undefined): string =>
  v instanceof Expr ? v.text : JSON.stringify(v);
