// Failure injection shared by the fakes: queue errors for the next calls of a method.
export class Failures<M extends string> {
  readonly #queued = new Map<M, Error[]>();

  /** The next `times` calls of `method` throw `error`. */
  failNext(method: M, error: Error = new Error(`injected ${method} failure`), times = 1): void {
    const list = this.#queued.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(error);
    this.#queued.set(method, list);
  }

  /** Throws the next queued error for `method`, if any. */
  check(method: M): void {
    const error = this.#queued.get(method)?.shift();
    if (error) throw error;
  }
}
