// Validates API responses against openapi.yaml: the status must be documented for the
// operation, the media type must match, the body must satisfy the schema (JSON Schema 2020-12,
// closed objects, so an undocumented field such as a payment token fails) and required headers
// must be present and valid.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import Ajv2020, { type ValidateFunction } from "ajv/dist/2020";
import addFormats from "ajv-formats";
import { parse } from "yaml";

const BASE = "https://orders.local/openapi.json";

type Json = Record<string, unknown>;

export interface ResponseLike {
  method: string;
  /** Route template as registered, e.g. "orders/{orderId}". */
  route: string;
  status: number;
  headers: Record<string, string>;
  text: string;
  json: unknown;
}

export class OpenApi {
  readonly doc: Json;
  readonly #ajv: Ajv2020;
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(file = join(__dirname, "..", "..", "..", "openapi.yaml")) {
    const text = readFileSync(file, "utf8").replaceAll("#/components/schemas/", `${BASE}#/$defs/`);
    this.doc = parse(text) as Json;
    this.#ajv = new Ajv2020({
      allErrors: true,
      strict: true,
      // `oneOf: [{ required: [pointer] }, ...]` names properties declared by the parent schema.
      strictRequired: false,
    });
    addFormats(this.#ajv);
    const components = this.doc.components as Json;
    this.#ajv.addSchema({ $id: BASE, $defs: components.schemas as Json });
  }

  #resolve<T>(value: T): T {
    const ref = (value as { $ref?: string }).$ref;
    if (!ref) return value;
    const path = ref.replace(/^#\//, "").split("/");
    return path.reduce<unknown>((node, key) => (node as Json)[key], this.doc) as T;
  }

  #schema(key: string, schema: unknown): ValidateFunction {
    let fn = this.#compiled.get(key);
    if (!fn) {
      fn = this.#ajv.compile(schema as Json);
      this.#compiled.set(key, fn);
    }
    return fn;
  }

  /** Every documented (path, method, status). */
  operations(): { path: string; method: string; statuses: string[] }[] {
    const out: { path: string; method: string; statuses: string[] }[] = [];
    for (const [path, item] of Object.entries(this.doc.paths as Json)) {
      for (const [method, op] of Object.entries(item as Json)) {
        if (method === "parameters") continue;
        out.push({ path, method, statuses: Object.keys((op as Json).responses as Json) });
      }
    }
    return out;
  }

  /** Problems found; empty when the response conforms. */
  check(res: ResponseLike): string[] {
    const where = `${res.method} /${res.route} → ${res.status}`;
    const item = (this.doc.paths as Json)[`/${res.route}`] as Json | undefined;
    const op = item?.[res.method.toLowerCase()] as Json | undefined;
    if (!op) return [`${where}: operation not in openapi.yaml`];
    const declared = (op.responses as Json)[String(res.status)];
    if (!declared) return [`${where}: status not documented`];
    const response = this.#resolve(declared as Json);
    const problems: string[] = [];
    for (const [name, h] of Object.entries((response.headers as Json) ?? {})) {
      const header = this.#resolve(h as Json);
      const value = res.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`${where}: missing header ${name}`);
        continue;
      }
      const validate = this.#schema(`${where} header ${name}`, header.schema);
      if (!validate(value))
        problems.push(`${where}: header ${name}=${value} ${this.#ajv.errorsText(validate.errors)}`);
    }
    const content = response.content as Json | undefined;
    if (!content) return problems;
    const type = (res.headers["content-type"] ?? "").split(";")[0].trim();
    const media = content[type] as Json | undefined;
    if (!media) return [...problems, `${where}: content type '${type}' not documented`];
    const validate = this.#schema(`${where} ${type}`, media.schema);
    if (!validate(res.json)) {
      problems.push(
        `${where}: body ${this.#ajv.errorsText(validate.errors)} in ${res.text.slice(0, 500)}`,
      );
    }
    return problems;
  }
}
