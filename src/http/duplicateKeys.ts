// A JSON text with a repeated key in one object is ambiguous: JSON.parse keeps the last value,
// other parsers the first, so a client (or a proxy, or an auditor) and this server could read two
// different orders from the same bytes. RFC 8259 says names SHOULD be unique; the API requires it.
import { parse, type AnyNode } from "@humanwhocodes/momoa";

const escapeToken = (t: string) => t.replace(/~/g, "~0").replace(/\//g, "~1");

/** JSON pointer of the first member whose key repeats an earlier one in its object, if any. */
export function firstDuplicateKey(json: string): string | undefined {
  const visit = (node: AnyNode, pointer: string): string | undefined => {
    if (node.type === "Object") {
      const seen = new Set<string>();
      for (const member of node.members) {
        const key = member.name.type === "String" ? member.name.value : member.name.name;
        const at = `${pointer}/${escapeToken(key)}`;
        if (seen.has(key)) return at;
        seen.add(key);
        const inner = visit(member.value, at);
        if (inner !== undefined) return inner;
      }
    } else if (node.type === "Array") {
      for (const [i, element] of node.elements.entries()) {
        const inner = visit(element.value, `${pointer}/${i}`);
        if (inner !== undefined) return inner;
      }
    }
    return undefined;
  };
  return visit(parse(json).body, "");
}
