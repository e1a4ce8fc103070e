import { BrokerError } from '../domain/errors';

/** Orders (submit, look up, cancel) or anything else — reads any member can trigger. */
export type Lane = 'order' | 'read';

export interface RequestPacerOptions {
  /** Requests allowed to start in any window of `intervalMs`, both lanes together. */
  limit: number;
  intervalMs: number;
  /** Part of `limit` reads may never use, so an order always finds room unless orders filled it. */
  reservedForOrders: number;
  /** Reads allowed to wait for room; one more is refused at once. */
  maxQueuedReads: number;
  /** Monotonic milliseconds (tests inject a fake clock). */
  now?: () => number;
}

export const PACER_BUSY_MESSAGE = "Alpaca's request budget is busy right now — try again in a few seconds.";

/**
 * Paces requests to one host in two lanes sharing one rolling-window budget: at most `limit`
 * starts in any `intervalMs`. Orders may use the whole budget and wait as long as needed — an
 * order is never dropped. Reads start only while fewer than `limit - reservedForOrders` requests
 * are in the window, wait only behind waiting orders, and are refused once `maxQueuedReads`
 * are waiting, so a flood of reads costs its senders a fast refusal instead of delaying orders.
 *
 * Written here because p-throttle books each call's start time when it is called (first come,
 * first served, no way to let an order overtake) and neither it nor p-queue keeps a share back.
 */
export class RequestPacer {
  private readonly limit: number;
  private readonly readLimit: number;
  private readonly intervalMs: number;
  private readonly maxQueuedReads: number;
  private readonly now: () => number;
  /** Start times still inside the window, oldest first. */
  private readonly startedAt: number[] = [];
  private readonly orders: (() => void)[] = [];
  private readonly reads: (() => void)[] = [];
  private timer?: ReturnType<typeof setTimeout>;

  constructor(options: RequestPacerOptions) {
    if (!(options.reservedForOrders >= 0 && options.reservedForOrders < options.limit)) {
      throw new RangeError(
        `reservedForOrders must be at least 0 and below limit (${options.limit}), got ${options.reservedForOrders}`,
      );
    }
    this.limit = options.limit;
    this.readLimit = options.limit - options.reservedForOrders;
    this.intervalMs = options.intervalMs;
    this.maxQueuedReads = options.maxQueuedReads;
    this.now = options.now ?? (() => performance.now());
  }

  /** Requests waiting for the budget right now, per lane. */
  queued(): Record<Lane, number> {
    return { order: this.orders.length, read: this.reads.length };
  }

  run<T>(lane: Lane, operation: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const queue = lane === 'order' ? this.orders : this.reads;
      queue.push(() => {
        try {
          operation().then(resolve, reject);
        } catch (err) {
          reject(err);
        }
      });
      this.pump();
      // pump() only takes from the front, so a read still over the bound is the one just added.
      if (lane === 'read' && this.reads.length > this.maxQueuedReads) {
        this.reads.pop();
        reject(new BrokerError('rate_limited', PACER_BUSY_MESSAGE));
      }
    });
  }

  private pump(): void {
    const now = this.now();
    while (this.startedAt.length > 0 && now - this.startedAt[0]! >= this.intervalMs) this.startedAt.shift();
    for (;;) {
      // Orders first; a read never takes the last `reservedForOrders` places in the window.
      const next =
        (this.startedAt.length < this.limit ? this.orders.shift() : undefined) ??
        (this.startedAt.length < this.readLimit ? this.reads.shift() : undefined);
      if (!next) break;
      this.startedAt.push(now);
      next();
    }
    if (this.timer === undefined && this.orders.length + this.reads.length > 0) {
      // Whatever waits is blocked by the window, so the oldest start leaving it is the next chance.
      this.timer = setTimeout(
        () => {
          this.timer = undefined;
          this.pump();
        },
        this.startedAt[0]! + this.intervalMs - now,
      );
    }
  }
}
