import { createTask, parse, type ScheduledTask } from 'node-cron';
import { describeError } from '../domain/errors';
import { NEW_YORK_TIME_ZONE, newYorkDate, newYorkMidnight } from '../domain/market-hours';
import type { Logger } from '../logger';
import type { ScheduledDigestOutcome } from '../services/digest';
import { scheduleInNewYork } from './new-york-cron';

/** A run that could not decide (Alpaca's calendar away, the database away) is tried again this often, that day. */
export const DIGEST_RETRY_MS = 5 * 60_000;

/**
 * The first time on `at`'s New York day that `expression` fires, if it is not after `at`: each
 * minute of the day checked with node-cron's own matcher, at the expression's first second.
 */
export function scheduledTimeToday(expression: string, at: Date): Date | undefined {
  const matcher = createTask(expression, () => undefined, { timezone: NEW_YORK_TIME_ZONE });
  try {
    const second = parse(expression).second[0] ?? 0;
    for (let minute = newYorkMidnight(newYorkDate(at)).getTime(); minute <= at.getTime(); minute += 60_000) {
      const candidate = new Date(minute + second * 1000);
      if (candidate > at) return undefined;
      if (matcher.match(candidate)) return candidate;
    }
    return undefined;
  } finally {
    // createTask registers the task with node-cron; this one only matches dates.
    void matcher.destroy();
  }
}

/**
 * Claims the closing digest on DIGEST_CRON, New York time, on the leader only. The claim (a row per
 * trading date, written with the outbox entry that posts it) is what makes it once a day: a second
 * instance, a restart or an overlapping tick finds the day taken. Holidays are skipped by Alpaca's
 * calendar. A tick this instance did not see (it became leader after today's time: a restart, a
 * leader change) runs when it starts; a run that could not decide is retried every 5 minutes until
 * the New York day ends.
 */
export class DigestScheduler {
  private task: ScheduledTask | undefined;
  private retry: NodeJS.Timeout | undefined;
  /** Runs one at a time: a catch-up and a tick never race for the day. */
  private runs: Promise<void> = Promise.resolve();
  private readonly now: () => Date;
  private readonly retryMs: number;

  constructor(
    private readonly expression: string,
    private readonly claim: (at: Date) => Promise<ScheduledDigestOutcome>,
    private readonly logger: Logger,
    options: { now?: () => Date; retryMs?: number } = {},
  ) {
    this.now = options.now ?? (() => new Date());
    this.retryMs = options.retryMs ?? DIGEST_RETRY_MS;
  }

  start(): void {
    if (this.task) return;
    this.task = scheduleInNewYork({
      name: 'digest',
      expression: this.expression,
      logger: this.logger,
      scheduled: 'closing digest scheduled',
      run: () => this.runAndRetry(this.now()).then(() => undefined),
    });
    void this.catchUp();
  }

  /** One scheduled run as if the clock said `at` (the cron passes now; tests pass any day). Never throws. */
  async runAt(at: Date): Promise<ScheduledDigestOutcome | undefined> {
    try {
      const outcome = await this.claim(at);
      const context = { trading_date: outcome.tradingDate, outcome: outcome.kind };
      if (outcome.kind === 'calendar_unavailable')
        this.logger.error(
          { ...context, error: outcome.error },
          'closing digest not claimed: Alpaca’s calendar did not answer; retrying later today',
        );
      else this.logger.info(context, 'closing digest run');
      return outcome;
    } catch (err) {
      this.logger.error({ err: describeError(err) }, 'closing digest could not be claimed; retrying later today');
      return undefined;
    }
  }

  async stop(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    clearTimeout(this.retry);
    this.retry = undefined;
    await task?.destroy();
  }

  /** Today's run, if its time has passed: a day already claimed (or closed) answers so, and nothing is posted twice. */
  private async catchUp(): Promise<void> {
    const now = this.now();
    if (this.task && scheduledTimeToday(this.expression, now)) await this.runAndRetry(now);
  }

  private runAndRetry(at: Date): Promise<void> {
    this.runs = this.runs.then(async () => {
      clearTimeout(this.retry);
      this.retry = undefined;
      const outcome = await this.runAt(at);
      if (!this.task || (outcome && outcome.kind !== 'calendar_unavailable')) return;
      const day = newYorkDate(at);
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (newYorkDate(this.now()) === day) void this.catchUp();
      }, this.retryMs);
      this.retry.unref();
    });
    return this.runs;
  }
}
