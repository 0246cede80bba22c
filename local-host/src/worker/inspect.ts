// `--inspect[=[host:]port]` for the worker: parses the option, waits for the port to be free
// before a (re)start and finds the inspector's WebSocket URL to print.
import http from "node:http";
import net from "node:net";

export interface InspectAddress {
  host: string;
  port: number;
}

/** `true` / "" → 127.0.0.1:9229; "9230" → 127.0.0.1:9230; "127.0.0.1:9230" → as given. */
export function parseInspect(value: string | true): InspectAddress {
  const text = value === true ? "" : value.trim();
  const match = /^(?:(.+):)?(\d*)$/.exec(text);
  const port = match && match[2] !== "" ? Number(match[2]) : 9229;
  const host = match?.[1] ?? "127.0.0.1";
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`--inspect: not a [host:]port: '${text}'.`);
  if (!["127.0.0.1", "localhost"].includes(host))
    throw new Error(`--inspect: the inspector binds 127.0.0.1 only, not '${host}'.`);
  return { host: "127.0.0.1", port };
}

export function inspectExecArgv(address: InspectAddress): string[] {
  return [`--inspect=${address.host}:${address.port}`];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves once nothing listens on the port any more (a dying worker releases it). */
export async function waitForPortFree(address: InspectAddress, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const free = await new Promise<boolean>((resolve) => {
      const server = net.createServer();
      server.once("error", () => resolve(false));
      server.listen(address.port, address.host, () => server.close(() => resolve(true)));
    });
    if (free || Date.now() > deadline) return;
    await sleep(50);
  }
}

function getJson(url: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on("error", reject);
    req.setTimeout(1000, () => req.destroy(new Error("timeout")));
  });
}

/** The worker's `webSocketDebuggerUrl` from `/json/list`, once the inspector answers. */
export async function debuggerUrl(
  address: InspectAddress,
  timeoutMs = 10000,
): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const list = (await getJson(`http://${address.host}:${address.port}/json/list`)) as {
        webSocketDebuggerUrl?: string;
      }[];
      const url = list.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
      if (url) return url;
    } catch {
      // Not listening yet.
    }
    await sleep(50);
  }
  return undefined;
}
