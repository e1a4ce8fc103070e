import { type ScheduledTask, schedule } from 'node-cron';
import { NEW_YORK_TIME_ZONE } from '../domain/market-hours';
import type { Logger } from '../logger';

/**
 * A node-cron task on New York time (market hours are New York hours, whatever the server's zone),
 * whose own log lines go through ours; a run still going when the next is due makes that one skip.
 */
export function scheduleInNewYork(args: {
  name: string;
  expression: string;
  logger: Logger;
  run: () => Promise<void>;
  /** What the scheduled line says, e.g. "reconciliation scheduled". */
  scheduled: string;
}): ScheduledTask {
  const log = args.logger.child({ component: 'cron' });
  const task = schedule(args.expression, args.run, {
    name: args.name,
    timezone: NEW_YORK_TIME_ZONE,
    noOverlap: true,
    logger: {
      info: (message) => log.debug(message),
      warn: (message) => log.warn(message),
      error: (message) => log.error(message instanceof Error ? { err: message.message } : {}, String(message)),
      debug: (message) => log.debug(String(message)),
    },
  });
  log.info(
    { cron: args.expression, time_zone: NEW_YORK_TIME_ZONE, next_run: task.getNextRun()?.toISOString() },
    args.scheduled,
  );
  return task;
}
