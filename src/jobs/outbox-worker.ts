import { setTimeout as sleep } from 'node:timers/promises';
import type { OutboxEntry, OutboxRepository } from '../db/repositories/outbox-repository';
import { describeError } from '../domain/errors';
import type { NotificationHandlers } from '../domain/notifications';
import { isDeadLocalInstance } from '../lifecycle';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';

/** What to do about a failed delivery: try again (not before `retryAfterMs`), or give up. */
export interface DeliveryFailure {
  retry: boolean;
  retryAfterMs?: number;
  reason: string;
}

export interface OutboxWorkerOptions {
  /** This process, as the owner of the leases it takes. */
  owner: string;
  /** How often the outbox is looked at when nothing wakes the worker (other instances' entries, retries due). */
  pollIntervalMs?: number;
  leaseMs?: number;
  /** A delivery still running after this is treated as failed (its lease runs on, so nobody repeats it meanwhile). */
  deliveryTimeoutMs?: number;
  /** Streams delivered at once: a slow Home tab never holds up an order confirmation. */
  concurrency?: number;
  /** An entry still failing this long after it was written is given up, with an error in the log. */
  giveUpAfterMs?: number;
  now?: () => Date;
  metrics?: Metrics;
}

/** How often the worker looks for entries a crashed process on this host left leased. */
const DEAD_HOLDER_CHECK_MS = 10_000;

const DEFAULTS = {
  pollIntervalMs: 1_000,
  leaseMs: 45_000,
  deliveryTimeoutMs: 20_000,
  concurrency: 4,
  giveUpAfterMs: 24 * 60 * 60_000,
};

/** Back-off after the nth failed attempt: quick at first, then every 20 s while Slack stays away. */
const BACKOFF_MS = [1_000, 2_000, 5_000, 10_000, 20_000];

class DeliveryTimeout extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`);
  }
}

/**
 * Delivers the outbox: claims the oldest entry of each stream (several instances never deliver
 * the same entry at once), runs the handler for its topic, and removes it — or, on failure,
 * retries it on its own schedule (a rate limit's Retry-After, else back-off) without holding up
 * other streams. Nothing that writes the books ever waits for this: a Slack outage of minutes
 * costs only late messages, and once one delivery succeeds again every waiting entry is retried.
 */
export class OutboxWorker {
  private readonly options: Required<Omit<OutboxWorkerOptions, 'now' | 'metrics'>> & { now: () => Date };
  private readonly metrics: Metrics | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loopDone: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private deadHolders: string[] = [];
  private deadHoldersCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly handlers: NotificationHandlers,
    private readonly classify: (err: unknown) => DeliveryFailure,
    private readonly logger: Logger,
    options: OutboxWorkerOptions,
  ) {
    this.options = { ...DEFAULTS, now: () => new Date(), ...options };
    this.metrics = options.metrics;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Something was written: look now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Stops claiming; waits up to `timeoutMs` for deliveries under way (the rest keep their leases
   * and are redelivered later).
   */
  async stop(timeoutMs = 5_000): Promise<void> {
    this.running = false;
    this.wakeUp?.();
    await this.loopDone;
    await Promise.race([Promise.allSettled([...this.inFlight]), sleep(timeoutMs, undefined, { ref: false })]);
  }

  private async loop(): Promise<void> {
    while (this.running) {
      this.woken = false;
      const free = this.options.concurrency - this.inFlight.size;
      let claimed: OutboxEntry[] = [];
      if (free > 0) {
        try {
          claimed = await this.outbox.claim(
            this.options.owner,
            free,
            this.options.leaseMs,
            await this.holdersKnownDead(),
          );
        } catch (err) {
          this.logger.warn({ err: describeError(err) }, 'could not read the outbox; retrying');
        }
      }
      for (const entry of claimed) {
        const delivery = this.deliver(entry).finally(() => {
          this.inFlight.delete(delivery);
          this.wake();
        });
        this.inFlight.add(delivery);
      }
      if (claimed.length > 0 && claimed.length === free) continue;
      if (!this.woken && this.running) await this.idle();
    }
  }

  /**
   * Lease holders that were processes on this host and are gone (a crash, a kill): their deliveries
   * are ours to redo.
   */
  private async holdersKnownDead(): Promise<string[]> {
    if (Date.now() - this.deadHoldersCheckedAt >= DEAD_HOLDER_CHECK_MS) {
      this.deadHoldersCheckedAt = Date.now();
      this.deadHolders = (await this.outbox.leaseHolders()).filter(
        (owner) => owner !== this.options.owner && isDeadLocalInstance(owner),
      );
    }
    return this.deadHolders;
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollIntervalMs);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = undefined;
        done();
      };
    });
  }

  private async deliver(entry: OutboxEntry): Promise<void> {
    const { owner } = this.options;
    const handler = this.handlers[entry.topic];
    if (!handler) {
      this.logger.error({ topic: entry.topic, stream: entry.stream }, 'no handler for an outbox entry; dropping it');
      await this.outbox.discard(entry, owner).catch(() => undefined);
      return;
    }
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        handler(entry.payload),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new DeliveryTimeout(this.options.deliveryTimeoutMs)),
            this.options.deliveryTimeoutMs,
          );
        }),
      ]);
      clearTimeout(timer);
      await this.outbox.complete(entry, owner);
      if (entry.attempts > 0) {
        this.logger.info(
          { topic: entry.topic, stream: entry.stream, attempts: entry.attempts + 1 },
          'delivered after earlier failures; retrying the rest now',
        );
        await this.outbox.retryBackedOffNow();
      }
    } catch (err) {
      clearTimeout(timer);
      await this.failed(entry, err).catch((e: unknown) =>
        this.logger.warn({ err: describeError(e) }, 'could not record a failed delivery'),
      );
    }
  }

  private async failed(entry: OutboxEntry, err: unknown): Promise<void> {
    const { owner } = this.options;
    const timedOut = err instanceof DeliveryTimeout;
    const failure = timedOut ? { retry: true, reason: describeError(err) } : this.classify(err);
    const now = this.options.now();
    const context = { topic: entry.topic, stream: entry.stream, attempts: entry.attempts + 1, error: failure.reason };
    const giveUp = !failure.retry || now.getTime() - entry.createdAt.getTime() > this.options.giveUpAfterMs;
    this.metrics?.deliveryFailed(entry.topic, giveUp);
    if (giveUp) {
      this.logger.error({ ...context, payload: entry.payload }, 'gave up delivering a notification to Slack');
      await this.outbox.discard(entry, owner);
      return;
    }
    const backoff = BACKOFF_MS[Math.min(entry.attempts, BACKOFF_MS.length - 1)] ?? 1_000;
    const delay = Math.max(failure.retryAfterMs ?? 0, jitter(backoff));
    // The first failure and then every tenth: an outage should be visible without a line per retry.
    const level = entry.attempts % 10 === 0 ? 'warn' : 'debug';
    this.logger[level]({ ...context, retry_in_ms: delay }, 'could not deliver a notification to Slack; will retry');
    await this.outbox.reschedule(entry, owner, new Date(now.getTime() + delay), failure.reason, timedOut);
  }
}

function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}
