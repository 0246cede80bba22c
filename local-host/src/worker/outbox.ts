// IPC between the host and the worker, coalesced: the messages one side sends in a turn of the
// event loop (invocations one way; results and app log lines the other) cross as one batch, so
// the channel costs one serialisation and one write(2) per turn instead of per message (the
// per-message writes were ~7% of the worker's CPU under load, profiled 2026-12-02).

import { TurnQueue } from "../turnQueue";

/** The sending half of a child_process IPC channel (a ChildProcess, or `process` in the child). */
export interface IpcChannel<M> {
  readonly connected: boolean;
  send?(message: M, callback?: (err: Error | null) => void): boolean;
}

interface Queued<M> {
  message: M;
  onError?: (err: Error) => void;
}

export class Outbox<M> {
  readonly #queue: TurnQueue<Queued<M>>;

  /** `batch` wraps several messages into the one message that carries them. */
  constructor(
    private readonly channel: IpcChannel<M>,
    private readonly batch: (messages: M[]) => M,
  ) {
    this.#queue = new TurnQueue((queued) => this.#send(queued));
  }

  /** Queues `message` for the end of this turn; `onError` hears if it could not be sent. */
  send(message: M, onError?: (err: Error) => void): void {
    this.#queue.add({ message, onError });
  }

  /** Sends what is queued now (before an exit, or a message that must not wait). */
  flush(): void {
    this.#queue.flush();
  }

  #send(queued: Queued<M>[]): void {
    const fail = (err: Error) => {
      for (const q of queued) q.onError?.(err);
    };
    // The channel may be gone when the other side died; the senders hear it.
    if (!this.channel.connected || !this.channel.send) {
      fail(new Error("The IPC channel is closed."));
      return;
    }
    const messages = queued.map((q) => q.message);
    try {
      this.channel.send(messages.length === 1 ? messages[0]! : this.batch(messages), (err) => {
        if (err) fail(err);
      });
    } catch (err) {
      fail(err as Error);
    }
  }
}
