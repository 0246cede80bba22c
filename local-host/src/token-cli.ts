// `npm run token -- <options>`: prints one access token from the running host's development
// issuer, alone on the last line of standard output, e.g. TOKEN=$(npm run -s token -- --customer c-1).
import path from "node:path";
import { Command, InvalidArgumentError } from "commander";
import { issuerOf, mintToken, tokenFor, type TokenRequest } from "./token";

const csv = (value: string): string[] =>
  value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

const integer = (value: string): number => {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError("must be a whole number of seconds");
  return Number(value);
};

async function main(): Promise<void> {
  const program = new Command()
    .name("token")
    .description(
      "Mints an access token for the local API from the development issuer of the running host.",
    )
    .option("--customer <id>", "a customer (delegated, scope Orders.ReadWrite, oid = id)")
    .option("--app <clientId>", "an application (app-only; use with --roles Orders.Submit)")
    .option("--user <id>", "a person (oid = id; use with --name and --roles)")
    .option("--name <display name>", "the person's display name (name claim)")
    .option(
      "--roles <roles>",
      "app roles, comma separated (Orders.Submit, Orders.Approve, Orders.Operate)",
      csv,
    )
    .option("--scopes <scopes>", "delegated scopes, comma separated", csv)
    .option("--expires-in <seconds>", "lifetime in seconds; negative: already expired", integer)
    .option("--audience <aud>", "the aud claim (default: the host's AUTH_AUDIENCE)")
    .option("--data-dir <dir>", "the host's DATA_DIR (env DATA_DIR; default .data)")
    .option("--port <port>", "the host's PORT, checked against its DATA_DIR (env PORT)", integer)
    .parse();
  const o = program.opts<{
    customer?: string;
    app?: string;
    user?: string;
    name?: string;
    roles?: string[];
    scopes?: string[];
    expiresIn?: number;
    audience?: string;
    dataDir?: string;
    port?: number;
  }>();
  const kinds = [o.customer, o.app, o.user].filter((k) => k !== undefined);
  if (kinds.length !== 1) program.error("give exactly one of --customer, --app or --user");
  const extra: TokenRequest = {};
  if (o.name) extra.name = o.name;
  if (o.audience !== undefined) extra.audience = o.audience;
  if (o.expiresIn !== undefined) extra.expiresIn = o.expiresIn;
  if (o.scopes) extra.scopes = o.scopes;
  const request =
    o.customer !== undefined
      ? tokenFor.customer(o.customer, { ...(o.roles ? { roles: o.roles } : {}), ...extra })
      : o.app !== undefined
        ? tokenFor.app(o.app, o.roles ?? [], extra)
        : tokenFor.user(o.user!, o.name ?? o.user!, o.roles ?? [], extra);
  const envPort =
    process.env.PORT && /^\d+$/.test(process.env.PORT) ? Number(process.env.PORT) : undefined;
  const dataDir = path.resolve(o.dataDir ?? process.env.DATA_DIR ?? ".data");
  const issuer = issuerOf(dataDir, o.port ?? envPort);
  process.stdout.write(`${await mintToken(issuer, request)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`token: ${(err as Error).message}\n`);
  process.exit(1);
});
