import type { ScheduledTask } from 'node-cron';
import { describeError } from '../domain/errors';
import type { Logger } from '../logger';
import { scheduleInNewYork } from './new-york-cron';

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
    this.task = scheduleInNewYork({
      name: 'reconcile',
      expression: this.expression,
      logger: this.logger,
      scheduled: 'reconciliation scheduled',
      run: async () => {
        try {
          await this.run();
        } catch (err) {
          this.logger.error({ component: 'cron', err: describeError(err) }, 'scheduled reconciliation failed');
        }
      },
    });
  }

  async stop(): Promise<void> {
    const task = this.task;
    this.task = undefined;
    await task?.destroy();
  }
}
