#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { startServiceBusEmulator } from "./index";

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new InvalidArgumentError("must be 0..65535");
  return n;
}

async function main(): Promise<void> {
  const program = new Command()
    .name("servicebus-emulator")
    .description("Azure Service Bus emulator (AMQP 1.0) for @azure/service-bus, without Docker")
    .option("-p, --port <port>", "port to listen on (0 = any free port)", parsePort, 5672)
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .requiredOption("-c, --config <file>", "Config.json in the format of Microsoft's emulator")
    .option("-d, --data-dir <dir>", "keep messages durably in this directory (default: in memory)")
    .option("-v, --verbose", "log debug messages")
    .parse();
  const opts = program.opts<{
    port: number;
    host: string;
    config: string;
    dataDir?: string;
    verbose?: boolean;
  }>();
  const emulator = await startServiceBusEmulator({
    port: opts.port,
    host: opts.host,
    config: opts.config,
    dataDir: opts.dataDir,
    log: (level, message) => {
      if (level !== "debug" || opts.verbose)
        process.stderr.write(`[servicebus-emulator] ${level}: ${message}\n`);
    },
  });
  process.stdout.write(`${emulator.connectionString}\n`);
  const stop = (signal: string): void => {
    process.stderr.write(`[servicebus-emulator] ${signal}: shutting down\n`);
    emulator.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`[servicebus-emulator] error while closing: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once("SIGINT", () => stop("SIGINT"));
  process.once("SIGTERM", () => stop("SIGTERM"));
}

main().catch((err: unknown) => {
  process.stderr.write(`[servicebus-emulator] ${(err as Error).message ?? String(err)}\n`);
  process.exit(1);
});
