import type { Broker, BrokerOrder } from '../broker/broker';
import { isLedgerOnly } from '../broker/broker';
import type { TradeRepository } from '../db/repositories/trade-repository';
import { describeError } from '../domain/errors';
import type { Trade } from '../domain/trade';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { listOrdersCovering } from './order-listing';
import type { OrderSubmitter } from './order-submission';
import type { OrderTracker } from './order-tracker';
import type { SubmissionLeases } from './submission-lease';

/** A row never sent (the process died first) is still sent if the trader asked this recently. */
const RESUBMIT_WINDOW_MS = 2 * 60_000;
/** An order the broker never showed after an ambiguous failure is declared not placed after this long. */
const UNCONFIRMED_GIVE_UP_MS = 10 * 60_000;

export interface SettleResult {
  settled: number;
  resubmitted: number;
  failed: number;
  brokerRequests: number;
  /** The earliest moment a row left alone for its live submission lease can be settled (undefined: none was). */
  nextLeaseExpiry?: Date;
}

export interface SettleOptions {
  /** Orders the caller already reviewed from the broker's list: only the other rows are settled here. */
  reviewed?: readonly BrokerOrder[];
  /** Rows changed since are left alone: their submission may still be on its way. */
  quietSince?: Date;
  /** Only rows Alpaca never acknowledged (no broker order id): the ones the trade_updates stream can't settle. */
  unacknowledgedOnly?: boolean;
}

/**
 * Settles orders left in flight (a crash, an ambiguous failure, a dropped stream) from the broker:
 * at start-up, from the leader's watch and from each reconciliation. Knows nothing of Slack.
 */
export class OrderSettler {
  private readonly now: () => Date;

  constructor(
    private readonly trades: TradeRepository,
    private readonly broker: Broker,
    private readonly tracker: OrderTracker,
    private readonly submitter: OrderSubmitter,
    private readonly leases: SubmissionLeases,
    private readonly logger: Logger,
    private readonly options: { now?: () => Date; metrics?: Metrics } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Rows left pending_submit or open (a crash, an ambiguous failure, a dropped stream) are settled
   * from the broker. Several rows cost one paged order list, not a request each; a row the list
   * does not show is looked up by its client_order_id. A row never sent is sent now if it is
   * recent, otherwise marked failed — a stale order is never placed behind the trader's back.
   * The reconciler passes the orders it has already reviewed (only the other rows are settled
   * here) and a quiet time: rows changed since are left alone, their submission may still be on
   * its way. At start-up nothing in this process is on its way, so every row is settled.
   */
  async settleUnsettled(options: SettleOptions = {}): Promise<SettleResult> {
    const counts: SettleResult = { settled: 0, resubmitted: 0, failed: 0, brokerRequests: 0 };
    const candidates = (await this.trades.listUnsettled()).filter(
      (t) => t.source !== 'legacy' && !(options.unacknowledgedOnly && t.alpacaOrderId),
    );
    // A row whose submission holds a live lease is that submission's business, in this instance or another
    // (or a dead process's, until the lease runs out: the caller comes back then).
    const leased = candidates.filter((t) => this.leases.isLive(t));
    if (leased.length > 0)
      counts.nextLeaseExpiry = new Date(Math.min(...leased.map((t) => t.submitLeaseUntil!.getTime())));
    const unsettled = candidates.filter((t) => !leased.includes(t));
    if (isLedgerOnly(this.broker)) {
      for (const trade of unsettled.filter((t) => t.status === 'pending_submit')) {
        await this.isolated(trade, async () => {
          await this.submitter.submit(trade.id);
          counts.settled += 1;
        });
      }
      return this.logSettled(counts);
    }
    const reviewed = new Set(options.reviewed?.map((o) => o.clientOrderId));
    const quietSince = options.quietSince?.getTime() ?? Number.POSITIVE_INFINITY;
    const rows = unsettled.filter(
      (t) => !(t.clientOrderId && reviewed.has(t.clientOrderId)) && t.updatedAt.getTime() <= quietSince,
    );
    const listed =
      options.reviewed || rows.length < 2 ? new Map<string, BrokerOrder>() : await this.listOrdersFor(rows, counts);
    for (const row of rows) {
      await this.isolated(row, async () => {
        let found = row.clientOrderId ? listed.get(row.clientOrderId) : undefined;
        if (!found && row.clientOrderId) {
          counts.brokerRequests += 1;
          found = await this.broker.getOrderByClientOrderId(row.clientOrderId);
        }
        if (found) {
          await this.tracker.applyOrder(found);
          counts.settled += 1;
          return;
        }
        const age = this.now().getTime() - (row.submittedAt ?? row.createdAt).getTime();
        if (row.status === 'pending_submit' && age <= RESUBMIT_WINDOW_MS) {
          counts.brokerRequests += 1;
          await this.submitter.submit(row.id);
          counts.resubmitted += 1;
        } else if (row.status === 'pending_submit' || age > UNCONFIRMED_GIVE_UP_MS) {
          if (await this.failUnplaced(row)) counts.failed += 1;
        }
      });
    }
    return this.logSettled(counts);
  }

  /**
   * Marks a row the broker never showed as not placed — holding its lease, so a submission that
   * started meanwhile (here or in another instance) is never contradicted, and then can't start.
   */
  private async failUnplaced(row: Trade): Promise<boolean> {
    const owner = this.leases.owner;
    if (!(await this.leases.take(row.id))) return false;
    const failed = await this.trades.updateIf(
      row.id,
      {
        status: 'failed',
        errorCode: 'not_sent',
        errorMessage:
          row.status === 'pending_submit'
            ? 'The app restarted before this order reached Alpaca, and it is too old to send now. ' +
              'Nothing was placed — place it again if you still want it.'
            : 'Alpaca never showed this order after a failed submission, so it was not placed. ' +
              'Place it again if you still want it.',
      },
      (t) => t.submitLeaseOwner === owner && t.status === row.status && !t.alpacaOrderId,
    );
    await this.leases.release(row);
    if (failed) this.options.metrics?.orderFinished(failed);
    return failed !== undefined;
  }

  /** One row that can't be settled (a database refusal, a broker error) never stops the others. */
  private async isolated(trade: Trade, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.logger.warn(
        { client_order_id: trade.clientOrderId, err: describeError(err) },
        'could not settle order; will retry on the next pass',
      );
    }
  }

  /**
   * The broker's orders since the oldest row, by client_order_id; empty (each row looked up alone)
   * if the list fails.
   */
  private async listOrdersFor(rows: readonly Trade[], counts: SettleResult): Promise<Map<string, BrokerOrder>> {
    const requests = { count: 0 };
    try {
      return new Map((await listOrdersCovering(this.broker, rows, requests)).map((o) => [o.clientOrderId, o]));
    } catch (err) {
      this.logger.warn({ err: describeError(err) }, 'could not list orders to settle; looking each one up');
      return new Map();
    } finally {
      counts.brokerRequests += requests.count;
    }
  }

  private logSettled(counts: SettleResult): SettleResult {
    if (counts.settled + counts.resubmitted + counts.failed > 0)
      this.logger.info(counts, 'settled orders left in flight');
    return counts;
  }
}
