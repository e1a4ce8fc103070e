import { describeError } from '../domain/errors';
import type { InFlightWork } from '../lifecycle';
import type { Logger } from '../logger';

/** How often the leader looks for requests nobody decided within APPROVAL_TTL_MINUTES. */
export const APPROVAL_EXPIRY_INTERVAL_MS = 60_000;

/**
 * The leader's sweep over approval requests past their TTL: each ends expired (exactly once, by the
 * same conditional change an approval makes) and its trader is asked for a fresh request. An
 * approval clicked after the TTL is refused anyway; the sweep only makes the outcome visible.
 */
export class ApprovalExpiry {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly expire: () => Promise<number>,
    private readonly inFlight: InFlightWork,
    private readonly logger: Logger,
    private readonly intervalMs = APPROVAL_EXPIRY_INTERVAL_MS,
  ) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.sweep(), this.intervalMs);
    this.timer.unref();
    this.sweep();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  private sweep(): void {
    if (this.running) return;
    this.running = this.inFlight
      .run(() => this.expire())
      .catch((err: unknown) => this.logger.warn({ err: describeError(err) }, 'approval expiry sweep failed'))
      .finally(() => {
        this.running = undefined;
      });
  }
}
