/** What the dispatcher hands every benchmark module. */
import type { BenchArgs } from "./args";

export interface BenchContext {
  args: BenchArgs;
  quick: boolean;
}
