/**
 * Remembers work started on behalf of Slack or the broker so shutdown can wait for it.
 * Work that does not finish in time is abandoned, which is safe: every order step is written
 * to the database first and settled from the broker at the next start.
 */
export class InFlightWork {
  private readonly pending = new Set<Promise<unknown>>();

  run<T>(work: () => Promise<T>): Promise<T> {
    const promise = work();
    this.pending.add(promise);
    const forget = () => this.pending.delete(promise);
    promise.then(forget, forget);
    return promise;
  }

  get size(): number {
    return this.pending.size;
  }

  /** Resolves true when everything finished, false when the deadline passed first. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.pending.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const all = Promise.allSettled([...this.pending]).then(() => true as const);
    const finished = await Promise.race([all, deadline]);
    clearTimeout(timer);
    return finished;
  }
}

/** A cached async value: callers within `ttlMs` share the last answer (or the one in flight). */
export function cachedProbe<T>(ttlMs: number, probe: () => Promise<T>, now: () => number = Date.now): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    const t = now();
    if (!last || t - last.at >= ttlMs) last = { at: t, value: probe() };
    return last.value;
  };
}
