import net from "node:net";

/** Resolves true when `port` can be bound on `host` right now (it is released again at once). */
export function isPortFree(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once("error", () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Picks the port an emulator listens on: 0 (any free port) in "free" mode; the standard port in
 * "standard" mode when it is free, else 0 with a warning naming the emulator and the port.
 */
export async function choosePort(
  mode: "standard" | "free",
  standard: number,
  host: string,
  name: string,
  warn: (message: string) => void,
): Promise<number> {
  if (mode === "free") return 0;
  if (await isPortFree(standard, host)) return standard;
  warn(`${name}: standard port ${standard} is taken on ${host}; using a free port instead`);
  return 0;
}

/**
 * A concrete port for something that will listen later: `port` itself, or (0) one the system
 * hands out now and that is released again at once. Another process could take it in between;
 * the later listen then fails and says so.
 */
export function reservePort(port: number, host: string): Promise<number> {
  if (port !== 0) return Promise.resolve(port);
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ port: 0, host, exclusive: true }, () => {
      const { port: chosen } = server.address() as net.AddressInfo;
      server.close(() => resolve(chosen));
    });
  });
}
