import net from "node:net";
import path from "node:path";
import { startServiceBusEmulator } from "../src";

describe("emulator lifecycle", () => {
  it("close() resolves while clients are still connected (it drops their sockets)", async () => {
    const emulator = await startServiceBusEmulator({
      port: 0,
      config: path.join(__dirname, "../config/Config.json"),
    });
    const socket = net.connect(emulator.port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const dropped = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      emulator.close().then(() => "closed"),
      new Promise((resolve) => (timer = setTimeout(() => resolve("hung"), 3000))),
    ]);
    clearTimeout(timer);
    socket.destroy();
    expect(outcome).toBe("closed");
    await dropped;
  });
});
