import type { DatabaseTarget } from '../config';
import { describeError } from '../domain/errors';
import type { InFlightWork } from '../lifecycle';
import type { Logger } from '../logger';
import type { OrderSettler } from '../services/order-settlement';
import type { OrderTracker } from '../services/order-tracker';
import type { ReconcileService } from '../services/reconcile-service';
import { createLeaderElection, DEFAULT_LEADER_RETRY_MS } from './leader-lock';
import { ReconcileScheduler } from './reconcile-scheduler';
import { UnacknowledgedOrdersWatch } from './unacknowledged-orders-watch';

export interface LeaderDuties {
  isLeader(): boolean;
  stop(): Promise<void>;
}

/**
 * The work exactly one instance does: the trade_updates consumer, the reconcile scheduler and the
 * watch over orders Alpaca never acknowledged, plus one reconciliation as soon as it becomes
 * leader (at start-up, or when taking over from a leader that died). Resolves once this instance
 * knows whether it leads.
 */
export async function startLeaderDuties(deps: {
  database: DatabaseTarget;
  tracker: OrderTracker;
  settler: OrderSettler;
  reconcile: ReconcileService;
  reconcileCron: string;
  inFlight: InFlightWork;
  logger: Logger;
  retryMs?: number;
}): Promise<LeaderDuties> {
  const { tracker, reconcile, inFlight, logger } = deps;
  const runReconcile = (trigger: 'schedule' | 'startup') =>
    inFlight
      .run(() => reconcile.reconcilePositions(trigger))
      .catch((err: unknown) => {
        logger.error({ err: describeError(err), trigger }, 'reconciliation could not run');
      });
  const scheduler = new ReconcileScheduler(deps.reconcileCron, () => runReconcile('schedule'), logger);
  const watch = new UnacknowledgedOrdersWatch((options) => deps.settler.settleUnsettled(options), inFlight, logger);
  const election = createLeaderElection(
    deps.database,
    {
      onElected: () => {
        tracker.start();
        scheduler.start();
        watch.start();
        void runReconcile('startup');
      },
      onDeposed: async () => {
        await scheduler.stop();
        await watch.stop();
        await tracker.stop();
      },
    },
    logger,
    deps.retryMs ?? DEFAULT_LEADER_RETRY_MS,
  );
  await election.start();
  return { isLeader: () => election.isLeader(), stop: () => election.stop() };
}
