// `--inspect[=port]`: the worker's inspector answers on the printed address, a restarted worker
// keeps the port, and it goes away with the host.
import net from "node:net";
import path from "node:path";
import { parseInspect } from "../../src/worker/inspect";
import { ensureBuilt, startHost, type StartedHost } from "../support/host";

const appDir = path.join(__dirname, "..", "fixtures", "http-app");
const args = [
  "--servicebus-config",
  path.join(appDir, "servicebus-config.json"),
  "--cosmos-config",
  path.join(appDir, "cosmos.json"),
];
let host: StartedHost | undefined;

beforeAll(() => ensureBuilt(), 120000);
afterEach(async () => {
  await host?.kill();
  host = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitFor<T>(fn: () => T | undefined, timeoutMs = 15000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

const debuggerLines = (logs: string) =>
  [...logs.matchAll(/Debugger: attach to (ws:\/\/[^\s]+) \(VS Code: "Attach to worker"\)/g)].map(
    (m) => m[1],
  );

it("starts the worker with the inspector on the given port and prints where to attach", async () => {
  const port = await freePort();
  host = await startHost({ appDir, args: [...args, `--inspect=${port}`] });
  const url = await waitFor(() => debuggerLines(host!.logs())[0]);
  expect(url).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${port}/[0-9a-f-]+$`));

  const version = (await (await fetch(`http://127.0.0.1:${port}/json/version`)).json()) as Record<
    string,
    string
  >;
  expect(version.Browser).toMatch(/^node\.js\//);
  expect(version["Protocol-Version"]).toBeDefined();
  // It is the worker's inspector (the app answers from that process), not the host's.
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
  }[];
  expect(list.map((t) => t.webSocketDebuggerUrl)).toContain(url);

  // A crashed worker comes back on the same port once the old one released it.
  const workerPid = (await (await fetch(`${host.baseUrl}/api/pid`)).json()) as { pid: number };
  await fetch(`${host.baseUrl}/api/crash`, { method: "POST" }).catch(() => undefined);
  const second = await waitFor(() => debuggerLines(host!.logs())[1], 30000);
  expect(second).toMatch(new RegExp(`^ws://127\\.0\\.0\\.1:${port}/`));
  expect(second).not.toBe(url);
  const after = (await (await fetch(`${host.baseUrl}/api/pid`)).json()) as { pid: number };
  expect(after.pid).not.toBe(workerPid.pid);
  expect((await fetch(`http://127.0.0.1:${port}/json/version`)).status).toBe(200);

  await host.stop();
  host = undefined;
  await expect(fetch(`http://127.0.0.1:${port}/json/version`)).rejects.toThrow();
}, 90000);

it("refuses an inspector address other than loopback", async () => {
  await expect(startHost({ appDir, args: [...args, "--inspect=0.0.0.0:9229"] })).rejects.toThrow(
    /binds 127\.0\.0\.1 only/,
  );
}, 30000);

describe("parseInspect", () => {
  it.each([
    [true, 9229],
    ["", 9229],
    ["9230", 9230],
    ["127.0.0.1:9231", 9231],
    ["localhost:9232", 9232],
  ] as const)("%p → 127.0.0.1:%p", (value, port) => {
    expect(parseInspect(value)).toEqual({ host: "127.0.0.1", port });
  });
  it.each(["0.0.0.0:9229", "[::]:9229", "example.com:9229", "0", "70000", "abc"])(
    "refuses %p",
    (value) => {
      expect(() => parseInspect(value)).toThrow(/--inspect/);
    },
  );
});
