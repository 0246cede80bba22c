// Reads the compiled ARM template: every resource with the chain of modules (nested deployments)
// it sits in, each module's parameters, and the values the compiler wrote. Values that depend on
// parameters stay ARM expressions ("[...]" strings); tests compare those as the compiler wrote
// them and never evaluate them.
import { compile, type ArmResource, type Template } from "./compiler";

export type Located = ArmResource & {
  /** Symbolic name in its template. */
  symbol: string;
  /** Module symbols from main.bicep down, e.g. ["api"]; [] for main's own resources. */
  modules: string[];
  /** The template that declares it. */
  template: Template;
};

const DEPLOYMENTS = "Microsoft.Resources/deployments";

function entries(t: Template): [string, ArmResource][] {
  return Array.isArray(t.resources)
    ? t.resources.map((r, i) => [String(i), r])
    : Object.entries(t.resources);
}

export function nestedTemplate(d: ArmResource): Template {
  const t = (d.properties as { template?: Template } | undefined)?.template;
  if (!t) throw new Error(`${d.name} is not a module deployment`);
  return t;
}

/** Every resource in a template and its modules, modules included. */
export function allResources(t: Template, modules: string[] = []): Located[] {
  return entries(t).flatMap(([symbol, r]) => {
    const here: Located = { ...r, symbol, modules, template: t };
    return r.type === DEPLOYMENTS && !r.existing
      ? [here, ...allResources(nestedTemplate(r), [...modules, symbol])]
      : [here];
  });
}

export class Compiled {
  readonly template: Template;
  readonly resources: Located[];
  constructor(file = "infra/main.bicep") {
    this.template = compile(file);
    this.resources = allResources(this.template);
  }

  /** Declared (not `existing`) resources of a type, modules excluded unless asked for. */
  ofType(type: string): Located[] {
    return this.resources.filter((r) => r.type === type && !r.existing);
  }

  /** The one declared resource of a type. */
  one(type: string): Located {
    const found = this.ofType(type);
    if (found.length !== 1) throw new Error(`${found.length} resources of type ${type}`);
    return found[0];
  }

  /** A module of main.bicep by its symbolic name. */
  module(symbol: string): Located {
    const m = this.resources.find(
      (r) => r.type === DEPLOYMENTS && r.modules.length === 0 && r.symbol === symbol,
    );
    if (!m) throw new Error(`no module ${symbol} in main.bicep`);
    return m;
  }

  /** The values main.bicep passes to a module's parameters. */
  moduleParams(symbol: string): Record<string, unknown> {
    const params = (this.module(symbol).properties as { parameters: Record<string, unknown> })
      .parameters;
    return Object.fromEntries(
      Object.entries(params).map(([k, v]) => [
        k,
        typeof v === "object" && v !== null && "value" in v ? (v as { value: unknown }).value : v,
      ]),
    );
  }

  moduleTemplate(symbol: string): Template {
    return nestedTemplate(this.module(symbol));
  }
}

/** Follows a path of keys and indexes through plain JSON. */
export function at(value: unknown, ...path: (string | number)[]): unknown {
  return path.reduce<unknown>(
    (v, k) => (v === null || v === undefined ? undefined : (v as Record<string, unknown>)[k]),
    value,
  );
}
