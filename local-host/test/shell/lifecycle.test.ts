// Process lifecycle: graceful SIGTERM (drain, then every process exits), SIGKILL of every
// process, and a restart on the same DATA_DIR that finds its state again.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
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

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it("stops gracefully on SIGTERM: in-flight requests finish, then every process exits", async () => {
  host = await startHost({ appDir, args });
  const pids = host.pids();
  // Host, worker and the emulators process.
  expect(pids.length).toBeGreaterThanOrEqual(3);
  const endpoints = host.endpoints as { pids: { host: number; worker: number; emulators: number } };
  expect(pids).toEqual(expect.arrayContaining(Object.values(endpoints.pids)));
  const slow = fetch(`${host.baseUrl}/api/slow?ms=800`);
  await new Promise((r) => setTimeout(r, 200));
  const exitCode = new Promise<number | null>((resolve) => host!.process.once("exit", resolve));
  await host.stop();
  const res = await slow;
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("slow done");
  expect(await exitCode).toBe(0);
  expect(host.logs()).toContain("SIGTERM received: stopping gracefully.");
  expect(pids.filter(alive)).toEqual([]);
  fs.rmSync(host.dataDir, { recursive: true, force: true });
});

it("kill() SIGKILLs every process; a restart on the same DATA_DIR finds the durable state", async () => {
  host = await startHost({ appDir, args });
  const dataDir = host.dataDir;
  const started = await fetch(`${host.baseUrl}/api/hello/carol`, { method: "POST" });
  expect(started.status).toBe(202);
  const { id } = (await started.json()) as { id: string };
  const pids = host.pids();
  await host.kill();
  expect(pids.filter(alive)).toEqual([]);

  host = await startHost({ appDir, dataDir, args });
  let status: { runtimeStatus?: string; output?: unknown } = {};
  for (let i = 0; i < 100 && status.runtimeStatus !== "Completed"; i++) {
    const res = await fetch(`${host.baseUrl}/runtime/webhooks/durabletask/instances/${id}`);
    expect([200, 202]).toContain(res.status);
    status = (await res.json()) as typeof status;
    if (status.runtimeStatus !== "Completed") await new Promise((r) => setTimeout(r, 50));
  }
  expect(status).toMatchObject({ runtimeStatus: "Completed", output: ["Hello carol"] });
  await host.stop();
  host = undefined;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it("refuses to start with a clear error when the app cannot be loaded", async () => {
  const broken = fs.mkdtempSync(path.join(os.tmpdir(), "broken-app-"));
  fs.writeFileSync(path.join(broken, "package.json"), JSON.stringify({ main: "missing.js" }));
  await expect(startHost({ appDir: broken, args: ["--external-emulators"] })).rejects.toThrow(
    /does not exist: build it/,
  );
  fs.rmSync(broken, { recursive: true, force: true });
});

it("FUNCTIONS_WORKER_PROCESS_COUNT=2: two worker processes serve invocations; a dead one is replaced, SIGTERM stops both", async () => {
  host = await startHost({ appDir, args, env: { FUNCTIONS_WORKER_PROCESS_COUNT: "2" } });
  const endpointsFile = path.join(host.dataDir, "endpoints.json");
  const workersNow = () =>
    (JSON.parse(fs.readFileSync(endpointsFile, "utf8")) as { pids: { workers?: number[] } }).pids
      .workers ?? [];
  // The second worker joins once it has loaded the app.
  for (let i = 0; i < 200 && workersNow().filter(Boolean).length < 2; i++)
    await new Promise((r) => setTimeout(r, 50));
  const workers = workersNow();
  expect(new Set(workers).size).toBe(2);
  // Requests in flight together go to the worker with fewer in flight: both serve.
  const served = new Set<number>();
  for (const until = Date.now() + 15000; served.size < 2 && Date.now() < until;) {
    const answers = await Promise.all(
      Array.from({ length: 8 }, () =>
        fetch(`${host!.baseUrl}/api/pid`).then((r) => r.json() as Promise<{ pid: number }>),
      ),
    );
    for (const a of answers) served.add(a.pid);
  }
  expect([...served].sort()).toEqual([...workers].sort());

  // A worker that dies is restarted; the other keeps serving meanwhile.
  process.kill(workers[1]!, "SIGKILL");
  expect((await fetch(`${host.baseUrl}/api/pid`)).status).toBe(200);
  for (let i = 0; i < 200 && workersNow()[1] === workers[1]; i++)
    await new Promise((r) => setTimeout(r, 50));
  const replaced = workersNow();
  expect(replaced[0]).toBe(workers[0]);
  expect(replaced[1]).not.toBe(workers[1]);
  expect(alive(replaced[1]!)).toBe(true);

  const all = host.pids();
  await host.stop();
  expect([...all, ...replaced].filter(alive)).toEqual([]);
});

it("refuses a FUNCTIONS_WORKER_PROCESS_COUNT outside 1 to 10 with a clear error", async () => {
  await expect(
    startHost({ appDir, args, env: { FUNCTIONS_WORKER_PROCESS_COUNT: "11" }, timeoutMs: 20000 }),
  ).rejects.toThrow(/FUNCTIONS_WORKER_PROCESS_COUNT '11' is not a whole number from 1 to 10/);
});
