// Items added during one turn of the event loop, handed over together at its end: the host's
// console lines and the host↔worker IPC messages each cost one write per turn this way instead
// of one per item (see ./stdout.ts and ./worker/outbox.ts).
export class TurnQueue<T> {
  #items: T[] = [];
  #scheduled = false;

  constructor(private readonly deliver: (items: T[]) => void) {}

  add(item: T): void {
    this.#items.push(item);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Hands over what is queued now (before an exit, or when enough has gathered). */
  flush(): void {
    this.#scheduled = false;
    if (this.#items.length === 0) return;
    const items = this.#items;
    this.#items = [];
    this.deliver(items);
  }
}
