/**
 * Command line of `npm run bench -- [name...] [--quick] [--no-write] [--minutes N] [--instances N] [--in-flight K] [--key=value]`.
 * Options belong to the benchmark that reads them, not to the name list.
 */

export interface BenchArgs {
  /** Benchmarks named on the command line (empty: the default set). */
  names: string[];
  /** Shorter levels and runs: the default set in under a minute. */
  quick: boolean;
  /** Write no results JSON (a trial run). */
  write: boolean;
  /** Options with a value: `--minutes 5` or `--key=value`. */
  values: Record<string, string>;
  /** Other `--flags`, for the benchmark that reads them. */
  flags: string[];
}

/** Options whose value is the next argument. */
const WITH_VALUE = new Set(["--minutes", "--instances", "--in-flight"]);

export function parseArgs(argv: readonly string[]): BenchArgs {
  const out: BenchArgs = { names: [], quick: false, write: true, values: {}, flags: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 2) {
      out.values[a.slice(2, eq)] = a.slice(eq + 1);
    } else if (WITH_VALUE.has(a)) {
      const v = argv[i + 1];
      if (v === undefined || v.startsWith("--")) throw new Error(`${a} needs a value`);
      out.values[a.slice(2)] = v;
      i++;
    } else if (a === "--quick") {
      out.quick = true;
    } else if (a === "--no-write") {
      out.write = false;
    } else if (a.startsWith("--")) {
      out.flags.push(a.slice(2));
    } else {
      out.names.push(a);
    }
  }
  return out;
}
