// The README's quick start, as a user runs it: `npm start` (prestart builds) with PORT and
// DATA_DIR set comes up, writes its endpoints under DATA_DIR, serves /api/health, mints a token
// with `npm run -s token -- --customer c-1` that the API accepts, and stops on
// SIGTERM leaving no process behind. Emulators get free ports (--free-ports) so the test does not
// depend on 10000-10002/8081/5672 being free on the machine; that path was checked by hand.
import { execFileSync, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { descendantsOf, PROJECT_ROOT } from "../../local-host/test/support/host";
import { eventually, sleep } from "./support/e2e";

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it("npm start with PORT and DATA_DIR serves /api/health and stops cleanly", async () => {
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "quickstart-"));
  const npm = spawn("npm", ["start", "--", "--free-ports"], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      PORT: String(port),
      DATA_DIR: dataDir,
      LOCALHOST_EXIT_WITH_PARENT: String(process.pid),
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let output = "";
  npm.stdout.on("data", (d: Buffer) => (output += d.toString()));
  npm.stderr.on("data", (d: Buffer) => (output += d.toString()));
  const exited = new Promise<number | null>((resolve) => npm.once("exit", (code) => resolve(code)));
  const started: number[] = [];
  try {
    await eventually(
      async () => {
        if (npm.exitCode !== null) throw new Error(`npm start exited:\n${output}`);
        return output.includes("Host ready:") ? true : undefined;
      },
      "Host ready",
      90000,
    );
    started.push(npm.pid!, ...descendantsOf(npm.pid!));
    expect(output).toContain(`Host ready: http://localhost:${port}`);
    // It printed the function list like func start.
    expect(output).toContain(`createOrder: [POST] http://localhost:${port}/api/orders`);
    const endpoints = JSON.parse(fs.readFileSync(path.join(dataDir, "endpoints.json"), "utf8"));
    expect(endpoints.baseUrl).toBe(`http://localhost:${port}`);
    expect(fs.existsSync(path.join(dataDir, "emulators"))).toBe(true);

    const res = await fetch(`http://localhost:${port}/api/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: "healthy",
      dependencies: { cosmos: { status: "up" }, serviceBus: { status: "up" } },
    });

    // TOKEN=$(npm run -s token -- --customer c-1): the token alone on stdout's last line.
    const env = { ...process.env, PORT: String(port), DATA_DIR: dataDir };
    const out = execFileSync("npm", ["run", "-s", "token", "--", "--customer", "c-1"], {
      cwd: PROJECT_ROOT,
      env,
      encoding: "utf8",
    });
    const token = out.trimEnd().split("\n").at(-1)!;
    expect(token).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
    const orders = await fetch(`http://localhost:${port}/api/orders`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(orders.status).toBe(200);
    expect((await fetch(`http://localhost:${port}/api/orders`)).status).toBe(401);
  } finally {
    try {
      process.kill(-npm.pid!, "SIGTERM");
    } catch {
      // Already gone.
    }
    const timer = setTimeout(() => {
      for (const pid of [npm.pid!, ...descendantsOf(npm.pid!)]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }, 20000);
    await exited;
    clearTimeout(timer);
  }
  // Everything it started is gone and the port is free again.
  await eventually(
    async () => (started.some(alive) ? undefined : true),
    "every process to exit",
    10000,
  );
  await sleep(100);
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 120000);
