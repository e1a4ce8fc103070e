import { setImmediate as yieldToIo } from 'node:timers/promises';

/**
 * Longest a submission's follow-up work waits for other submissions' acks: 300 forms submitted at
 * once take about a second to ack on SQLite, whose one connection the follow-up work would share.
 */
const MAX_WAIT_MS = 2_000;

/**
 * Acks first. Submissions arriving together share one event loop and one database pool (SQLite
 * has a single connection), so the follow-up work of the first ones acked (sending to the broker,
 * its row updates, Slack messages) would delay the acks of the rest. That work waits here while
 * reviews are running; bounded, so a steady stream of submissions cannot hold it back for long.
 */
export class AckPriority {
  private reviewing = 0;
  private waiting: (() => void)[] = [];

  constructor(private readonly maxWaitMs = MAX_WAIT_MS) {}

  /** Runs a review (the work before an ack); follow-up work waits for it. */
  async review<T>(work: () => Promise<T>): Promise<T> {
    this.reviewing += 1;
    try {
      return await work();
    } finally {
      this.reviewing -= 1;
      if (this.reviewing === 0) this.releaseAll();
    }
  }

  /** Resolves once no review is running (or after maxWaitMs). */
  async afterAcks(): Promise<void> {
    // Submissions already received but not yet dispatched get to start their reviews first.
    await yieldToIo();
    if (this.reviewing === 0) return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiting = this.waiting.filter((w) => w !== done);
        resolve();
      }, this.maxWaitMs);
      this.waiting.push(done);
    });
  }

  private releaseAll(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (const done of waiting) done();
  }
}
