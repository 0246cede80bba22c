// The app's Durable functions as the engine sees them (orchestrators, activities, entities by
// lower-cased name) and the decoding of what an invocation returns.
import type { FunctionInfo } from "../contracts";
import type { RpcTypedData } from "../worker/functionsCore";

export type FunctionKind = "orchestration" | "activity" | "entity";

export interface Registered {
  name: string;
  binding: string;
  kind: FunctionKind;
}

const TRIGGERS: Record<string, FunctionKind> = {
  orchestrationTrigger: "orchestration",
  activityTrigger: "activity",
  entityTrigger: "entity",
};

export class FunctionRegistry {
  readonly #byName = new Map<string, Registered>();

  constructor(functions: FunctionInfo[]) {
    for (const fn of functions) {
      for (const [binding, info] of Object.entries(fn.bindings)) {
        const kind = TRIGGERS[String(info.type ?? "")];
        if (kind && info.direction !== "out") {
          this.#byName.set(fn.name.toLowerCase(), { name: fn.name, binding, kind });
        }
      }
    }
  }

  get(name: string): Registered | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  /** The function if it is of `kind`. */
  ofKind(name: string, kind: FunctionKind): Registered | undefined {
    const fn = this.get(name);
    return fn?.kind === kind ? fn : undefined;
  }
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Decodes a function's return value without re-parsing plain strings. */
export function decodeReturn(data: RpcTypedData | null | undefined): unknown {
  if (!data) return undefined;
  if (data.json !== undefined && data.json !== null) return JSON.parse(data.json);
  if (data.string !== undefined && data.string !== null) return data.string;
  if (data.int !== undefined && data.int !== null) return Number(data.int);
  if (data.double !== undefined && data.double !== null) return Number(data.double);
  if (data.bytes) return Buffer.from(data.bytes).toString("base64");
  return undefined;
}

export function parseJsonText(text: string | null | undefined): unknown {
  if (text === null || text === undefined || text === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
