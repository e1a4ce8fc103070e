import type { DatabaseTarget } from '../config';
import { describeError } from '../domain/errors';
import type { InFlightWork } from '../lifecycle';
import type { Logger } from '../logger';
import type { ScheduledDigestOutcome } from '../services/digest';
import type { OrderSettler } from '../services/order-settlement';
import type { OrderTracker } from '../services/order-tracker';
import type { ReconcileService } from '../services/reconcile-service';
import { ApprovalExpiry } from './approval-expiry';
import { DigestScheduler } from './digest-scheduler';
import { createLeaderElection, DEFAULT_LEADER_RETRY_MS } from './leader-lock';
import { ReconcileScheduler } from './reconcile-scheduler';
import { UnacknowledgedOrdersWatch } from './unacknowledged-orders-watch';

export interface LeaderDuties {
  isLeader(): boolean;
  /**
   * The closing digest's scheduled run as if at `at` (what DIGEST_CRON triggers): undefined when this
   * instance is not the leader, or no digest channel is configured.
   */
  runScheduledDigest(at: Date): Promise<ScheduledDigestOutcome | undefined>;
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
  /** Ends approval requests past APPROVAL_TTL_MINUTES (run even with approval off, for requests left pending). */
  expireApprovals?: () => Promise<number>;
  /** The closing digest (DIGEST_CRON), when DIGEST_CHANNEL_ID is set. */
  digest?: { cron: string; claim: (at: Date) => Promise<ScheduledDigestOutcome> };
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
  const expiry = deps.expireApprovals ? new ApprovalExpiry(deps.expireApprovals, inFlight, logger) : undefined;
  const digest = deps.digest
    ? new DigestScheduler(deps.digest.cron, (at) => inFlight.run(() => deps.digest!.claim(at)), logger)
    : undefined;
  const watch = new UnacknowledgedOrdersWatch((options) => deps.settler.settleUnsettled(options), inFlight, logger);
  const election = createLeaderElection(
    deps.database,
    {
      onElected: () => {
        tracker.start();
        scheduler.start();
        digest?.start();
        expiry?.start();
        watch.start();
        void runReconcile('startup');
      },
      onDeposed: async () => {
        await scheduler.stop();
        await digest?.stop();
        await expiry?.stop();
        await watch.stop();
        await tracker.stop();
      },
    },
    logger,
    deps.retryMs ?? DEFAULT_LEADER_RETRY_MS,
  );
  await election.start();
  return {
    isLeader: () => election.isLeader(),
    runScheduledDigest: async (at) => (election.isLeader() ? digest?.runAt(at) : undefined),
    stop: () => election.stop(),
  };
}
