import { type ScheduledTask, schedule } from 'node-cron';
import { describeError } from '../domain/errors';
import { NEW_YORK_TIME_ZONE } from '../domain/market-hours';
import type { Logger } from '../logger';

/**
 * Runs reconciliation on RECONCILE_CRON, New York time (market hours are New York hours, whatever
 * the server's zone). A run still going when the next is due makes that one skip.
 */
export class ReconcileScheduler {
  private task: ScheduledTask | undefined;

  constructor(
    private readonly expression: string,
    private readonly run: () => Promise<unknown>,
    private readonly logger: Logger,
  ) {}

  start(): void {
    if (this.task) return;
    const log = this.logger.child({ component: 'cron' });
    this.task = schedule(
      this.expression,
      async () => {
        try {
          await this.run();
        } catch (err) {
          log.error({ err: describeError(err) }, 'scheduled reconciliation failed');
        }
      },
      {
        name: 'reconcile',
        timezone: NEW_YORK_TIME_ZONE,
        noOverlap: true,
        logger: {
          info: (message) => log.debug(message),
          warn: (message) => log.warn(message),
          error: (message) => log.error(message instanceof Error ? { err: message.message } : {}, String(message)),
          debug: (message) => log.debug(String(message)),
        },
      },
    );
    log.info(
      { cron: this.expression, time_zone: NEW_YORK_TIME_ZONE, next_run: this.task.getNextRun()?.toISOString() },
      'reconciliation scheduled',
    );
  }

  async stop(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    await task?.destroy();
  }
}
