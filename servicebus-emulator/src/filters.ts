import type { RuleFilter } from "./config";

/** What a subscription rule can look at: broker-known system properties and application properties. */
export interface FilterView {
  system: Record<string, unknown>; // keys as in SQL filters: MessageId, CorrelationId, Label, To, ...
  properties: Record<string, unknown>;
}

export type Predicate = (m: FilterView) => boolean;

const CORRELATION_TO_SYSTEM: Record<string, string> = {
  ContentType: "ContentType",
  CorrelationId: "CorrelationId",
  Label: "Label",
  MessageId: "MessageId",
  ReplyTo: "ReplyTo",
  ReplyToSessionId: "ReplyToSessionId",
  SessionId: "SessionId",
  To: "To",
};

/** Builds a predicate from a rule filter; throws a clear error for SQL outside the supported subset. */
export function compileFilter(filter: RuleFilter): Predicate {
  if (filter.kind === "correlation") {
    const system = Object.entries(filter.system).filter(([, v]) => v !== undefined);
    const props = Object.entries(filter.properties);
    return (m) =>
      system.every(([k, v]) => m.system[CORRELATION_TO_SYSTEM[k]] === v) &&
      props.every(([k, v]) => looseEquals(m.properties[k], v));
  }
  return compileSql(filter.expression);
}

function looseEquals(a: unknown, b: unknown): boolean {
  if (a instanceof Date) a = a.getTime();
  if (b instanceof Date) b = b.getTime();
  return a === b;
}

// --- A small SQL filter subset: comparisons, AND/OR/NOT, IS [NOT] NULL, [NOT] IN, [NOT] LIKE,
// EXISTS(prop), literals, sys./user. prefixes. Enough for typical routing rules.

type Token = { t: "id" | "str" | "num" | "op" | "kw" | "(" | ")" | ","; v: string };
const KEYWORDS = new Set([
  "AND",
  "OR",
  "NOT",
  "IS",
  "NULL",
  "IN",
  "LIKE",
  "TRUE",
  "FALSE",
  "EXISTS",
  "ESCAPE",
]);

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "'") {
      let s = "";
      i++;
      for (;;) {
        if (i >= src.length) throw new Error(`unterminated string in SQL filter: ${src}`);
        if (src[i] === "'" && src[i + 1] === "'") {
          s += "'";
          i += 2;
        } else if (src[i] === "'") {
          i++;
          break;
        } else s += src[i++];
      }
      out.push({ t: "str", v: s });
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(src[i + 1] ?? ""))) {
      const m = /^[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i))!;
      out.push({ t: "num", v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_[]/.test(c)) {
      const m = /^(?:\[[^\]]+\]|[A-Za-z_][\w]*)(?:\.(?:\[[^\]]+\]|[A-Za-z_][\w]*))*/.exec(
        src.slice(i),
      )!;
      const word = m[0];
      i += word.length;
      if (KEYWORDS.has(word.toUpperCase())) out.push({ t: "kw", v: word.toUpperCase() });
      else out.push({ t: "id", v: word.replace(/[[\]]/g, "") });
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ t: c, v: c });
      i++;
    } else {
      const m = /^(<>|!=|<=|>=|=|<|>)/.exec(src.slice(i));
      if (!m) throw new Error(`unsupported character '${c}' in SQL filter: ${src}`);
      out.push({ t: "op", v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

type Value = unknown;
type Expr = (m: FilterView) => Value;
const UNKNOWN = Symbol("unknown"); // SQL three-valued logic

const SYSTEM_NAMES = new Set(
  [
    "MessageId",
    "CorrelationId",
    "Label",
    "To",
    "ReplyTo",
    "ReplyToSessionId",
    "SessionId",
    "ContentType",
    "DeliveryCount",
    "SequenceNumber",
    "EnqueuedTimeUtc",
    "TimeToLive",
  ].map((s) => s.toLowerCase()),
);

function compileSql(src: string): Predicate {
  const toks = tokenize(src);
  let p = 0;
  const peek = (): Token | undefined => toks[p];
  const fail = (msg: string): never => {
    throw new Error(
      `SQL filter "${src}": ${msg} (the emulator supports a basic subset, see README)`,
    );
  };
  const accept = (t: Token["t"], v?: string): boolean => {
    const k = peek();
    if (k && k.t === t && (v === undefined || k.v === v)) {
      p++;
      return true;
    }
    return false;
  };
  const expect = (t: Token["t"], v?: string): void => {
    if (!accept(t, v)) fail(`expected ${v ?? t} at token ${p + 1}`);
  };

  const orExpr = (): Expr => {
    let left = andExpr();
    while (accept("kw", "OR")) {
      const l = left;
      const r = andExpr();
      left = (m) => {
        const a = l(m);
        const b = r(m);
        if (a === true || b === true) return true;
        if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
        return false;
      };
    }
    return left;
  };
  const andExpr = (): Expr => {
    let left = notExpr();
    while (accept("kw", "AND")) {
      const l = left;
      const r = notExpr();
      left = (m) => {
        const a = l(m);
        const b = r(m);
        if (a === false || b === false) return false;
        if (a === UNKNOWN || b === UNKNOWN) return UNKNOWN;
        return true;
      };
    }
    return left;
  };
  const notExpr = (): Expr => {
    if (accept("kw", "NOT")) {
      const inner = notExpr();
      return (m) => {
        const v = inner(m);
        return v === UNKNOWN ? UNKNOWN : !v;
      };
    }
    return predicate();
  };
  const predicate = (): Expr => {
    if (accept("kw", "EXISTS")) {
      expect("(");
      const id = peek();
      if (!id || id.t !== "id") return fail("EXISTS needs a property name");
      p++;
      expect(")");
      const get = property(id.v);
      return (m) => get(m) !== undefined;
    }
    const left = operand();
    if (accept("kw", "IS")) {
      const neg = accept("kw", "NOT");
      expect("kw", "NULL");
      return (m) => (left(m) === undefined || left(m) === null) !== neg;
    }
    const neg = accept("kw", "NOT");
    if (accept("kw", "IN")) {
      expect("(");
      const items: Expr[] = [operand()];
      while (accept(",")) items.push(operand());
      expect(")");
      return (m) => {
        const v = left(m);
        if (v === undefined || v === null) return UNKNOWN;
        return items.some((it) => compare(v, it(m)) === 0) !== neg;
      };
    }
    if (accept("kw", "LIKE")) {
      const pat = peek();
      if (!pat || pat.t !== "str") return fail("LIKE needs a string pattern");
      p++;
      const re = new RegExp(
        "^" +
          pat.v
            .split("")
            .map((ch) =>
              ch === "%" ? ".*" : ch === "_" ? "." : ch.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
            )
            .join("") +
          "$",
        "s",
      );
      return (m) => {
        const v = left(m);
        if (typeof v !== "string") return UNKNOWN;
        return re.test(v) !== neg;
      };
    }
    if (neg) return fail("expected IN or LIKE after NOT");
    const op = peek();
    if (op && op.t === "op") {
      p++;
      const right = operand();
      return (m) => {
        const c = compare(left(m), right(m));
        if (c === undefined) return UNKNOWN;
        switch (op.v) {
          case "=":
            return c === 0;
          case "<>":
          case "!=":
            return c !== 0;
          case "<":
            return c < 0;
          case ">":
            return c > 0;
          case "<=":
            return c <= 0;
          default:
            return c >= 0;
        }
      };
    }
    return left;
  };
  const operand = (): Expr => {
    const k = peek();
    if (!k) return fail("unexpected end");
    if (accept("(")) {
      const e = orExpr();
      expect(")");
      return e;
    }
    p++;
    if (k.t === "str") return () => k.v;
    if (k.t === "num") return () => Number(k.v);
    if (k.t === "kw" && (k.v === "TRUE" || k.v === "FALSE")) return () => k.v === "TRUE";
    if (k.t === "kw" && k.v === "NULL") return () => null;
    if (k.t === "id") return property(k.v);
    return fail(`unexpected '${k.v}'`);
  };
  const property = (name: string): Expr => {
    const lower = name.toLowerCase();
    if (lower.startsWith("sys.")) {
      const key = name.slice(4);
      return (m) => systemValue(m, key);
    }
    if (lower.startsWith("user.")) {
      const key = name.slice(5);
      return (m) => m.properties[key];
    }
    // Unqualified names are user properties, as in Service Bus.
    return (m) => m.properties[name];
  };

  const expr = orExpr();
  if (p !== toks.length) fail(`unexpected '${toks[p].v}'`);
  return (m) => expr(m) === true;
}

function systemValue(m: FilterView, key: string): unknown {
  if (!SYSTEM_NAMES.has(key.toLowerCase())) return undefined;
  const hit = Object.keys(m.system).find((k) => k.toLowerCase() === key.toLowerCase());
  return hit === undefined ? undefined : m.system[hit];
}

function compare(a: Value, b: Value): number | undefined {
  if (a === undefined || a === null || b === undefined || b === null) return undefined;
  if (a instanceof Date) a = a.getTime();
  if (b instanceof Date) b = b.getTime();
  if (typeof a === "number" && typeof b === "number") return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === "string" && typeof b === "string") return a === b ? 0 : a < b ? -1 : 1;
  if (typeof a === "boolean" && typeof b === "boolean") return a === b ? 0 : a ? 1 : -1;
  return undefined;
}
