import { setImmediate as nextTurn } from "node:timers/promises";
import { Outbox, type IpcChannel } from "../src/worker/outbox";
import { coalescedWriter } from "../src/stdout";

type Msg = { n: number } | { batch: Msg[] };

function channel(opts: { connected?: boolean; fail?: Error } = {}) {
  const sent: Msg[] = [];
  const ch: IpcChannel<Msg> = {
    connected: opts.connected ?? true,
    send(message, callback) {
      sent.push(message);
      callback?.(opts.fail ?? null);
      return true;
    },
  };
  return { ch, sent };
}

describe("Outbox (host ↔ worker IPC)", () => {
  it("sends the messages of one turn as one batch, in order, and a lone message as itself", async () => {
    const { ch, sent } = channel();
    const box = new Outbox<Msg>(ch, (messages) => ({ batch: messages }));
    box.send({ n: 1 });
    box.send({ n: 2 });
    box.send({ n: 3 });
    expect(sent).toEqual([]);
    await nextTurn();
    expect(sent).toEqual([{ batch: [{ n: 1 }, { n: 2 }, { n: 3 }] }]);
    box.send({ n: 4 });
    await nextTurn();
    expect(sent[1]).toEqual({ n: 4 });
  });

  it("flush sends what is queued at once, and nothing twice", async () => {
    const { ch, sent } = channel();
    const box = new Outbox<Msg>(ch, (messages) => ({ batch: messages }));
    box.send({ n: 1 });
    box.flush();
    expect(sent).toEqual([{ n: 1 }]);
    await nextTurn();
    expect(sent).toHaveLength(1);
  });

  it("tells every sender of a batch when it could not be sent", async () => {
    const failures: string[] = [];
    for (const { ch } of [channel({ connected: false }), channel({ fail: new Error("EPIPE") })]) {
      const box = new Outbox<Msg>(ch, (messages) => ({ batch: messages }));
      box.send({ n: 1 }, (err) => failures.push(`1:${err.message}`));
      box.send({ n: 2 }, (err) => failures.push(`2:${err.message}`));
      await nextTurn();
    }
    expect(failures).toEqual([
      "1:The IPC channel is closed.",
      "2:The IPC channel is closed.",
      "1:EPIPE",
      "2:EPIPE",
    ]);
  });
});

describe("coalescedWriter (the host's stdout)", () => {
  it("writes the lines of one turn in one write, in order", async () => {
    const writes: string[] = [];
    const w = coalescedWriter({ write: (t: string) => writes.push(t) });
    w.write("a\n");
    w.write("b\n");
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes).toEqual(["a\nb\n"]);
    w.write("c\n");
    await nextTurn();
    expect(writes).toEqual(["a\nb\n", "c\n"]);
  });

  it("does not hold more than 64 KiB back", () => {
    const writes: string[] = [];
    const w = coalescedWriter({ write: (t: string) => writes.push(t) });
    const line = "x".repeat(1023) + "\n";
    for (let i = 0; i < 64; i++) w.write(line);
    expect(writes).toHaveLength(1);
    expect(writes[0]).toHaveLength(64 * 1024);
  });
});
