import net from "node:net";
import path from "node:path";
import { startEmulators } from "../../src/emulators";
import { choosePort } from "../../src/emulators/ports";
import { cosmosClient } from "./cosmos-client";

const provision = path.join(__dirname, "fixtures", "cosmos.json");

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve(server));
  });
}

function close(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Azurite (and the issuer) with `azuriteLast`, and the log lines they write. */
async function azuriteOnlyLast() {
  const lines: string[] = [];
  const emulators = await startEmulators({
    ports: "free",
    which: { serviceBus: false, cosmos: false },
    azuriteLast: true,
    log: (level, message) => lines.push(`${level}: ${message}`),
  });
  return { emulators, lines };
}

describe("startEmulators", () => {
  it("starts Azurite and Cosmos on free ports and reports their endpoints", async () => {
    const emulators = await startEmulators({
      ports: "free",
      cosmosProvision: provision,
      which: { serviceBus: false },
    });
    try {
      const { blob, queue, table, cosmos } = emulators.ports;
      expect(new Set([blob, queue, table, cosmos]).size).toBe(4);
      expect(emulators.ports.serviceBus).toBeUndefined();
      expect(emulators.storageConnectionString).toContain(
        `QueueEndpoint=http://127.0.0.1:${queue}/devstoreaccount1;`,
      );
      expect(emulators.cosmos?.endpoint).toBe(`https://localhost:${cosmos}/`);
      const c = cosmosClient(emulators.cosmos!.connectionString);
      try {
        const { resource } = await c.client.database("shop").container("orders").read();
        expect(resource?.id).toBe("orders");
      } finally {
        c.dispose();
      }
      // Every emulator answers on its port.
      const azuriteReply = await fetch(`http://127.0.0.1:${blob}/devstoreaccount1?comp=list`);
      expect(azuriteReply.headers.get("server")).toMatch(/Azurite-Blob/);
    } finally {
      await emulators.close();
    }
    // Closed: the ports are released.
    await close(await listen(emulators.ports.cosmos));
  });

  it("azuriteLast: Azurite's ports and connection string come at once, it listens just after, and close waits for it", async () => {
    const { emulators, lines } = await azuriteOnlyLast();
    const { blob, queue, table } = emulators.ports;
    try {
      expect(new Set([blob, queue, table]).size).toBe(3);
      expect(emulators.storageConnectionString).toContain(
        `BlobEndpoint=http://127.0.0.1:${blob}/devstoreaccount1;`,
      );
      for (let i = 0; i < 200 && !lines.some((l) => l.startsWith("info: Azurite listening")); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(lines).toContain(`info: Azurite listening on 127.0.0.1:${blob}-${table}`);
      const reply = await fetch(`http://127.0.0.1:${blob}/devstoreaccount1?comp=list`);
      expect(reply.headers.get("server")).toMatch(/Azurite-Blob/);
    } finally {
      await emulators.close();
    }

    // Closed before Azurite got up: close waits for it to start, then stops it, without errors.
    const { emulators: early, lines: earlyLines } = await azuriteOnlyLast();
    await early.close();
    expect(earlyLines).toContain(
      `info: Azurite listening on 127.0.0.1:${early.ports.blob}-${early.ports.table}`,
    );
    expect(earlyLines.filter((l) => l.startsWith("error"))).toEqual([]);
  });

  it("falls back to a free port, with a warning naming the emulator, when a standard port is taken", async () => {
    let holder: net.Server | undefined;
    try {
      holder = await listen(8081);
    } catch {
      // Already taken by someone else: the fallback is exercised all the same.
    }
    const warnings: string[] = [];
    const emulators = await startEmulators({
      ports: "standard",
      which: { azurite: false, serviceBus: false },
      log: (level, message) => {
        if (level === "warn") warnings.push(message);
      },
    });
    try {
      expect(emulators.ports.cosmos).not.toBe(8081);
      expect(emulators.ports.cosmos).toBeGreaterThan(0);
      expect(warnings).toEqual([expect.stringMatching(/Cosmos DB.*8081/)]);
      expect(emulators.cosmos?.connectionString).toContain(`localhost:${emulators.ports.cosmos}/`);
    } finally {
      await emulators.close();
      if (holder) await close(holder);
    }
  });

  it("uses the standard port when it is free", async () => {
    const probe = await listen(0);
    const port = (probe.address() as net.AddressInfo).port;
    await close(probe);
    const warnings: string[] = [];
    expect(await choosePort("standard", port, "127.0.0.1", "X", (m) => warnings.push(m))).toBe(
      port,
    );
    expect(await choosePort("free", port, "127.0.0.1", "X", (m) => warnings.push(m))).toBe(0);
    const holder = await listen(port);
    try {
      expect(await choosePort("standard", port, "127.0.0.1", "X", (m) => warnings.push(m))).toBe(0);
    } finally {
      await close(holder);
    }
    expect(warnings).toEqual([
      `X: standard port ${port} is taken on 127.0.0.1; using a free port instead`,
    ]);
  });

  it("rejects a malformed provisioning file with a clear error", async () => {
    const bad = path.join(__dirname, "fixtures", "cosmos-bad.json");
    await expect(
      startEmulators({ ports: "free", cosmosProvision: bad, which: { serviceBus: false } }),
    ).rejects.toThrow(/Invalid Cosmos provisioning file .*cosmos-bad\.json[\s\S]*partitionKey/);
  });
});
