import { describeError } from '../domain/errors';
import type { InFlightWork } from '../lifecycle';
import type { Logger } from '../logger';
import type { SettleResult } from '../services/order-settlement';

/** How often rows Alpaca never acknowledged are looked at; usually there are none and no request is made. */
const DEFAULT_INTERVAL_MS = 10_000;
/** Rows changed more recently than this may still be on their way to Alpaca from a submission. */
const QUIET_MS = 5_000;

/**
 * Settles orders Alpaca never acknowledged — the ones the trade_updates stream can't settle: a
 * submission that gave up unsure, or a process that died mid-submission (its lease left behind).
 * Passes run every interval, and also just after the earliest lease a pass had to respect runs
 * out, so a dead process's order is settled seconds after its lease ends, not minutes.
 */
export class UnacknowledgedOrdersWatch {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private pass: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly settle: (options: { unacknowledgedOnly: true; quietSince: Date }) => Promise<SettleResult>,
    private readonly inFlight: InFlightWork,
    private readonly logger: Logger,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.intervalMs);
  }

  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.pass;
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.pass = this.inFlight.run(() => this.runPass());
    }, delayMs);
    this.timer.unref();
  }

  private async runPass(): Promise<void> {
    let next = this.intervalMs;
    try {
      const result = await this.settle({ unacknowledgedOnly: true, quietSince: new Date(Date.now() - QUIET_MS) });
      if (result.nextLeaseExpiry)
        next = Math.min(next, Math.max(100, result.nextLeaseExpiry.getTime() - Date.now() + 250));
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'settling unacknowledged orders failed; retrying');
    }
    this.schedule(next);
  }
}
