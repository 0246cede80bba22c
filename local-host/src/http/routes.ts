// ASP.NET Core-style route templates as the Functions host uses them: literal segments,
// `{name}`, `{name?}`, `{name=default}`, catch-all `{*rest}` / `{**rest}`, inline constraints
// `{id:int}`, `{x:min(1)}`, `{s:regex(^a+$)}`, matched case-insensitively. Candidate routes are
// tried in the host's precedence order (literals before constrained parameters before plain
// parameters before catch-alls).

export class RouteTemplateError extends Error {
  override name = "RouteTemplateError";
}

type Constraint = (value: string) => boolean;

interface Param {
  name: string;
  optional: boolean;
  catchAll: boolean;
  defaultValue?: string;
  constraints: Constraint[];
}

type Part = { literal: string } | { param: Param };

interface Segment {
  parts: Part[];
}

export interface CompiledRoute {
  template: string;
  segments: Segment[];
  /** Per-segment precedence digits: lower sorts first. */
  precedence: number[];
}

const num = (v: string): number => Number(v);
function constraintOf(spec: string, template: string): Constraint {
  const m = /^([a-zA-Z]+)(?:\((.*)\))?$/s.exec(spec);
  if (!m) throw new RouteTemplateError(`Route '${template}': bad constraint '${spec}'.`);
  const [, name, arg = ""] = m;
  const args = arg.split(",").map((a) => a.trim());
  switch (name.toLowerCase()) {
    case "int":
      return (v) => /^-?\d+$/.test(v) && Math.abs(num(v)) <= 2147483648;
    case "long":
      return (v) => /^-?\d+$/.test(v);
    case "bool":
      return (v) => /^(true|false)$/i.test(v);
    case "guid":
      return (v) =>
        /^[{(]?[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}[})]?$/i.test(v);
    case "decimal":
    case "double":
    case "float":
      return (v) => /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v);
    case "datetime":
      return (v) => !Number.isNaN(Date.parse(v));
    case "alpha":
      return (v) => /^[a-z]+$/i.test(v);
    case "min":
      return (v) => /^-?\d+$/.test(v) && num(v) >= num(args[0]);
    case "max":
      return (v) => /^-?\d+$/.test(v) && num(v) <= num(args[0]);
    case "range":
      return (v) => /^-?\d+$/.test(v) && num(v) >= num(args[0]) && num(v) <= num(args[1]);
    case "minlength":
      return (v) => v.length >= num(args[0]);
    case "maxlength":
      return (v) => v.length <= num(args[0]);
    case "length":
      return args.length === 1
        ? (v) => v.length === num(args[0])
        : (v) => v.length >= num(args[0]) && v.length <= num(args[1]);
    case "regex": {
      const re = new RegExp(arg, "i");
      return (v) => re.test(v);
    }
    case "required":
      return (v) => v.length > 0;
    default:
      throw new RouteTemplateError(`Route '${template}': unknown constraint '${name}'.`);
  }
}

/** Splits `name:c1:c2(x:y)` on colons that are not inside parentheses. */
function splitConstraints(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of body) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === ":" && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function parseParam(body: string, template: string): Param {
  let catchAll = false;
  if (body.startsWith("**")) {
    catchAll = true;
    body = body.slice(2);
  } else if (body.startsWith("*")) {
    catchAll = true;
    body = body.slice(1);
  }
  let defaultValue: string | undefined;
  // A default value follows '=' after the constraints (it cannot appear inside them).
  const eq = body.lastIndexOf("=");
  if (eq >= 0 && !body.slice(eq).includes(")")) {
    defaultValue = body.slice(eq + 1);
    body = body.slice(0, eq);
  }
  let optional = false;
  if (body.endsWith("?")) {
    optional = true;
    body = body.slice(0, -1);
  }
  const [name, ...specs] = splitConstraints(body);
  if (!/^[A-Za-z_][\w]*$/.test(name)) {
    throw new RouteTemplateError(`Route '${template}': bad parameter name '${name}'.`);
  }
  return {
    name,
    optional: optional || catchAll || defaultValue !== undefined,
    catchAll,
    defaultValue,
    constraints: specs.map((s) => constraintOf(s, template)),
  };
}

function parseSegment(text: string, template: string): Segment {
  const parts: Part[] = [];
  let i = 0;
  let literal = "";
  while (i < text.length) {
    const ch = text[i];
    if (ch === "{" && text[i + 1] === "{") {
      literal += "{";
      i += 2;
    } else if (ch === "}" && text[i + 1] === "}") {
      literal += "}";
      i += 2;
    } else if (ch === "{") {
      // Find the matching '}' allowing parentheses (regex constraints may contain braces).
      let depth = 0;
      let j = i + 1;
      for (; j < text.length; j++) {
        if (text[j] === "(") depth++;
        else if (text[j] === ")") depth--;
        else if (text[j] === "}" && depth === 0) break;
      }
      if (j >= text.length) throw new RouteTemplateError(`Route '${template}': unclosed '{'.`);
      if (literal) parts.push({ literal });
      literal = "";
      parts.push({ param: parseParam(text.slice(i + 1, j), template) });
      i = j + 1;
    } else if (ch === "}") {
      throw new RouteTemplateError(`Route '${template}': unmatched '}'.`);
    } else {
      literal += ch;
      i++;
    }
  }
  if (literal) parts.push({ literal });
  const params = parts.filter((p) => "param" in p).length;
  if (parts.length > 1 && params > 0) {
    for (const p of parts) {
      if ("param" in p && p.param.catchAll) {
        throw new RouteTemplateError(`Route '${template}': a catch-all must be a whole segment.`);
      }
    }
  }
  return { parts };
}

export function compileRoute(template: string): CompiledRoute {
  const trimmed = template.replace(/^~?\/+|\/+$/g, "");
  const texts = trimmed === "" ? [] : trimmed.split("/");
  const segments = texts.map((t) => {
    if (t === "") throw new RouteTemplateError(`Route '${template}': empty segment.`);
    return parseSegment(t, template);
  });
  const names = new Set<string>();
  segments.forEach((s, index) => {
    for (const p of s.parts) {
      if (!("param" in p)) continue;
      const key = p.param.name.toLowerCase();
      if (names.has(key)) {
        throw new RouteTemplateError(`Route '${template}': parameter '${p.param.name}' repeats.`);
      }
      names.add(key);
      if (p.param.catchAll && index !== segments.length - 1) {
        throw new RouteTemplateError(`Route '${template}': a catch-all must be the last segment.`);
      }
    }
  });
  const precedence = segments.map((s) => {
    if (s.parts.length > 1) return 2;
    const p = s.parts[0];
    if ("literal" in p) return 1;
    if (p.param.catchAll) return 5;
    if (p.param.constraints.length > 0) return 3;
    return 4;
  });
  return { template, segments, precedence };
}

/** Orders routes as the host's router does: more specific templates first. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const n = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < n; i++) {
    // A missing segment (shorter template) sorts after an existing literal but before params.
    const pa = a.precedence[i] ?? 4.5;
    const pb = b.precedence[i] ?? 4.5;
    if (pa !== pb) return pa - pb;
  }
  return 0;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** Matches one complex or simple segment; returns the raw captures or undefined. */
function matchSegment(segment: Segment, text: string): Record<string, string> | undefined {
  const names: string[] = [];
  let re = "^";
  for (const part of segment.parts) {
    if ("literal" in part) re += escapeRe(part.literal);
    else {
      names.push(part.param.name);
      re += "(.+?)";
    }
  }
  const m = new RegExp(re + "$", "i").exec(text);
  if (!m) return undefined;
  const out: Record<string, string> = {};
  names.forEach((n, i) => (out[n] = decode(m[i + 1])));
  return out;
}

function satisfies(param: Param, value: string): boolean {
  return param.constraints.every((c) => c(value));
}

/** Matches a request path (no query, no leading slash needed) against a compiled route. */
export function matchRoute(route: CompiledRoute, path: string): Record<string, string> | undefined {
  const trimmed = path.replace(/^\/+|\/+$/g, "");
  const texts = trimmed === "" ? [] : trimmed.split("/");
  const params: Record<string, string> = {};
  const segs = route.segments;
  let i = 0;
  for (; i < segs.length; i++) {
    const seg = segs[i];
    const only = seg.parts.length === 1 ? seg.parts[0] : undefined;
    if (only && "param" in only && only.param.catchAll) {
      const rest = texts.slice(i).map(decode).join("/");
      if (rest !== "") {
        if (!satisfies(only.param, rest)) return undefined;
        params[only.param.name] = rest;
      } else if (only.param.defaultValue !== undefined) {
        params[only.param.name] = only.param.defaultValue;
      }
      return params;
    }
    const text = texts[i];
    if (text === undefined) {
      // Remaining segments must all be optional single parameters.
      for (const rest of segs.slice(i)) {
        const p = rest.parts.length === 1 ? rest.parts[0] : undefined;
        if (!p || !("param" in p) || !p.param.optional) return undefined;
        if (p.param.defaultValue !== undefined) params[p.param.name] = p.param.defaultValue;
      }
      return params;
    }
    const captured = matchSegment(seg, text);
    if (!captured) return undefined;
    for (const part of seg.parts) {
      if ("param" in part && !satisfies(part.param, captured[part.param.name])) return undefined;
    }
    Object.assign(params, captured);
  }
  return i === texts.length ? params : undefined;
}

/** Joins the route prefix and a function route as the host does. */
export function fullRoute(prefix: string, route: string): string {
  const r = route.replace(/^\/+/, "");
  return prefix ? (r ? `${prefix}/${r}` : prefix) : r;
}
