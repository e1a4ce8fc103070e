import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

/**
 * Remembers work started on behalf of Slack or the broker so shutdown can wait for it.
 * Work that does not finish in time is abandoned, which is safe: every order step is written
 * to the database first and settled from the broker at the next start.
 */
export class InFlightWork {
  private readonly pending = new Set<Promise<unknown>>();
  private draining = false;

  /** False once the process has begun to stop: new work (a new order) should be refused, not started. */
  get accepting(): boolean {
    return !this.draining;
  }

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
  /** From now on `accepting` is false; work already running carries on. */
  stopAccepting(): void {
    this.draining = true;
  }

  async drain(timeoutMs: number): Promise<boolean> {
    this.stopAccepting();
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

/** A "something happened" signal without payload: writers notify, one or more listeners wake up. */
export class Signal {
  private readonly listeners = new Set<() => void>();

  notify(): void {
    for (const listener of this.listeners) listener();
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Names this process among every instance sharing the database: host, pid and a random suffix (pids are reused). */
export function newInstanceId(): string {
  return `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * True only when `instanceId` names a process on this host that is no longer running — a crashed
 * instance whose leases need not be waited out. Anything else (another host, a live pid, a name
 * this app did not make) is false: the caller then waits for the lease to expire.
 */
export function isDeadLocalInstance(instanceId: string): boolean {
  const [host, pidText] = instanceId.split(':');
  const pid = Number(pidText);
  if (host !== hostname() || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * Runs tasks one at a time per key, in the order they were asked for; different keys run
 * concurrently. A failed task does not stop the ones queued behind it.
 */
export class KeyedQueue {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    this.tails.set(key, next);
    const forget = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  /** Resolves when every task queued so far has finished. */
  async idle(): Promise<void> {
    await Promise.allSettled([...this.tails.values()]);
  }
}
