// `npm run emulators`: only the emulators, on the standard ports, persistent under DATA_DIR, for
// people who run `func start` with the same local.settings.json.
import fs from "node:fs";
import path from "node:path";
import { Command } from "commander";
import { startEmulators } from "./emulators";
import { projectRoot, timestampLog } from "./host";

async function main(): Promise<void> {
  const root = projectRoot();
  const opts = new Command()
    .name("emulators")
    .description(
      "Starts Azurite, the Cosmos DB emulator, the Service Bus emulator and the development token issuer.",
    )
    .option("--data-dir <dir>", "persistence root (env DATA_DIR; default .data/)")
    .option("--free-ports", "use free ports instead of 10000-10002, 8081 and 5672")
    .option(
      "--cosmos-config <file>",
      "Cosmos provisioning file",
      path.join(root, "local-host", "config", "cosmos.json"),
    )
    .option(
      "--servicebus-config <file>",
      "Service Bus entities",
      path.join(root, "servicebus-emulator", "config", "Config.json"),
    )
    .parse()
    .opts<{
      dataDir?: string;
      freePorts?: boolean;
      cosmosConfig: string;
      servicebusConfig: string;
    }>();
  const dataDir = path.resolve(opts.dataDir ?? process.env.DATA_DIR ?? ".data");
  const log = timestampLog();
  const running = await startEmulators({
    dataDir: path.join(dataDir, "emulators"),
    ports: opts.freePorts ? "free" : "standard",
    cosmosProvision: fs.existsSync(opts.cosmosConfig) ? opts.cosmosConfig : undefined,
    serviceBusConfig: fs.existsSync(opts.servicebusConfig) ? opts.servicebusConfig : undefined,
    ...(process.env.AUTH_AUDIENCE ? { issuerAudience: process.env.AUTH_AUDIENCE } : {}),
    log: (level, message) => log(level, message),
  });
  const values: Record<string, string> = {};
  if (running.storageConnectionString) values.AzureWebJobsStorage = running.storageConnectionString;
  if (running.cosmos) {
    values.CosmosDBConnection = running.cosmos.connectionString;
    values.COSMOS_ALLOW_SELF_SIGNED = "true";
  }
  if (running.serviceBusConnectionString)
    values.ServiceBusConnection = running.serviceBusConnectionString;
  if (running.issuer) {
    values.AUTH_AUTHORITY = running.issuer.url;
    values.AUTH_AUDIENCE = running.issuer.audience;
  }
  // `npm run token` finds the issuer here (as it finds the local host's endpoints.json).
  fs.writeFileSync(
    path.join(dataDir, "endpoints.json"),
    JSON.stringify({ issuer: running.issuer, emulatorPorts: running.ports }, null, 2) + "\n",
  );
  process.stdout.write(
    `Emulators running (state in ${path.join(dataDir, "emulators")}); ports: ${JSON.stringify(running.ports)}\n\n` +
      `local.settings.json "Values" for func start:\n${JSON.stringify(values, null, 2)}\n\nCtrl+C stops them.\n`,
  );
  let stopping = false;
  const stop = () => {
    if (stopping) process.exit(130);
    stopping = true;
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log("error", (err as Error).message);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`emulators: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
