// Durable timers as setTimeouts (chained for long ones), keyed by instance, execution and timer
// id; a firing becomes a TimerFired message for the instance (entering history with its next
// episode). They are re-armed from history after a restart.
import { EventType, historyEvent, type HistoryEvent } from "./types";

const MAX_TIMEOUT = 2 ** 31 - 1;

export type TimerFired = (instanceId: string, executionId: string, event: HistoryEvent) => void;

export class Timers {
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #fired: TimerFired;
  #stopped = false;

  constructor(fired: TimerFired) {
    this.#fired = fired;
  }

  #key(instanceId: string, executionId: string, id: number): string {
    return `${instanceId}\u0000${executionId}\u0000${id}`;
  }

  arm(instanceId: string, executionId: string, id: number, fireAt: string): void {
    const key = this.#key(instanceId, executionId, id);
    if (this.#timers.has(key) || this.#stopped) return;
    const due = new Date(fireAt).getTime();
    const schedule = () => {
      const delay = Math.max(0, due - Date.now());
      const t = setTimeout(
        () => {
          if (due > Date.now()) return schedule(); // long timers are re-armed in steps
          this.#timers.delete(key);
          const event = historyEvent(EventType.TimerFired, new Date().toISOString(), {
            TimerId: id,
            FireAt: fireAt,
          });
          this.#fired(instanceId, executionId, event);
        },
        Math.min(delay, MAX_TIMEOUT),
      );
      this.#timers.set(key, t);
    };
    schedule();
  }

  cancel(instanceId: string, executionId: string, id: number): void {
    const key = this.#key(instanceId, executionId, id);
    const t = this.#timers.get(key);
    if (t) {
      clearTimeout(t);
      this.#timers.delete(key);
    }
  }

  cancelAllOf(instanceId: string): void {
    const prefix = `${instanceId}\u0000`;
    for (const [key, t] of this.#timers) {
      if (key.startsWith(prefix)) {
        clearTimeout(t);
        this.#timers.delete(key);
      }
    }
  }

  get size(): number {
    return this.#timers.size;
  }

  stop(): void {
    this.#stopped = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
