import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import { type Broker, type BrokerOrder, isLedgerOnly } from '../broker/broker';
import type { TradeRepository } from '../db/repositories/trade-repository';
import { BrokerError, describeError, rejectionSentence } from '../domain/errors';
import { dec } from '../domain/money';
import { type OrderIntent, SENDING_NOTES } from '../domain/order';
import { orderIntentOf, type Trade } from '../domain/trade';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { OrderTracker } from './order-tracker';
import type { SubmissionLeases } from './submission-lease';

/** Longest wait honoured from a 429's reset time before the next attempt. */
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
/** "Sending" with no word from Alpaca for this long: the trader is told we are still trying. */
const SLOW_SUBMIT_NOTICE_MS = 5_000;

export interface OrderSubmitterOptions {
  /** How many times a submission is retried after a rate limit or an ambiguous failure. */
  submitRetries?: number;
  retryMinTimeoutMs?: number;
  slowNoticeMs?: number;
  now?: () => Date;
  metrics?: Metrics;
}

/**
 * Sends recorded orders to the broker exactly once: under the row's submission lease, looking the
 * client_order_id up after any ambiguous failure before trying again (Alpaca refuses a second
 * order with the same id, so a resubmission after a lookup miss is safe). Ledger-only mode fills
 * the order at its GMV instead. Knows nothing of Slack.
 */
export class OrderSubmitter {
  private readonly now: () => Date;

  constructor(
    private readonly trades: TradeRepository,
    private readonly broker: Broker,
    private readonly tracker: OrderTracker,
    private readonly leases: SubmissionLeases,
    private readonly logger: Logger,
    private readonly options: OrderSubmitterOptions = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Sends a recorded order to the broker, exactly once. Safe to call again for the same trade, from
   * any instance: it acts only while the row is still pending_submit / submitted-but-unconfirmed,
   * and only while it holds the row's submission lease (renewed as retries run), so no other pass
   * settles, fails or resends the row meanwhile. Until Alpaca acknowledges, the row stays
   * "sending"; within SLOW_SUBMIT_NOTICE_MS of a failed attempt (or of no answer) it says so.
   */
  async submit(tradeId: number): Promise<Trade> {
    const trade = await this.leases.take(tradeId);
    if (!trade) return this.mustFind(tradeId);
    if (trade.status !== 'pending_submit' && !(trade.status === 'submitted' && !trade.alpacaOrderId))
      return this.leases.release(trade);
    const started = performance.now();
    const { trade: sent, acted } = await this.send(trade);
    // A pass that lost the lease reports the row as the winning pass left it: that pass counts it.
    if (acted) this.options.metrics?.orderSubmitted(sent, (performance.now() - started) / 1000);
    return sent;
  }

  /**
   * The leased row to the broker (or the ledger), once; returns the row as it then stands, lease
   * released, and whether this pass decided its fate (false: another pass took the lease over).
   */
  private async send(leased: Trade): Promise<{ trade: Trade; acted: boolean }> {
    const acted = async (trade: Promise<Trade>) => ({ trade: await trade, acted: true });
    const owner = this.leases.owner;
    const tradeId = leased.id;
    let trade = leased;
    if (isLedgerOnly(this.broker)) return acted(this.leases.release(await this.recordLedgerFill(trade)));

    const intent = orderIntentOf(trade);
    let leaseLost = false;
    let acknowledged = false;
    const renewal = setInterval(() => {
      void this.leases.renew(tradeId).then(
        (held) => {
          leaseLost ||= !held;
        },
        () => undefined,
      );
    }, this.leases.leaseMs / 4);
    const slowNotice = setTimeout(() => {
      if (!acknowledged) void this.noteSending(tradeId, SENDING_NOTES.slow).catch(() => undefined);
    }, this.options.slowNoticeMs ?? SLOW_SUBMIT_NOTICE_MS);
    try {
      const order = await pRetry(
        (attempt) => {
          if (leaseLost) throw new AbortError('another pass took over this order');
          if (attempt > 1) this.options.metrics?.alpacaRetry('POST', '/v2/orders');
          return this.placeOrFind(intent);
        },
        {
          retries: this.options.submitRetries ?? 4,
          minTimeout: this.options.retryMinTimeoutMs ?? 500,
          factor: 2,
          shouldRetry: ({ error }) =>
            error instanceof BrokerError && (error.kind === 'rate_limited' || error.ambiguous),
          onFailedAttempt: async ({ error, attemptNumber }) => {
            const ambiguous = error instanceof BrokerError && error.ambiguous;
            const updated = await this.noteSending(tradeId, SENDING_NOTES.retrying, ambiguous).catch(() => undefined);
            if (updated) trade = updated;
            this.logger.warn(
              {
                client_order_id: intent.clientOrderId,
                attempt: attemptNumber,
                kind: error instanceof BrokerError ? error.kind : 'unknown',
              },
              'order submission not confirmed; retrying',
            );
            // A 429 says when the window reopens: wait for it rather than spend attempts before then.
            const retryAfterMs = error instanceof BrokerError ? error.details.retryAfterMs : undefined;
            if (retryAfterMs) await sleep(Math.min(retryAfterMs, MAX_RATE_LIMIT_WAIT_MS));
          },
        },
      );
      acknowledged = true;
      const applied = (await this.tracker.applyOrder(order)) ?? (await this.mustFind(tradeId));
      return await acted(this.leases.release(applied));
    } catch (err) {
      acknowledged = true;
      if (leaseLost) {
        this.logger.warn(
          { client_order_id: intent.clientOrderId },
          'lost the submission lease; leaving the order to the pass that holds it',
        );
        return { trade: await this.mustFind(tradeId), acted: false };
      }
      const error =
        err instanceof BrokerError ? err : new BrokerError('unavailable', describeError(err), { ambiguous: true });
      const patch = error.ambiguous
        ? // Still unknown after every lookup: leave it for the settlement pass rather than guess.
          {
            status: 'submitted' as const,
            submittedAt: trade.submittedAt ?? this.now(),
            errorCode: error.kind,
            errorMessage:
              'Alpaca didn’t answer and we couldn’t confirm the order. ' +
              'It may or may not have been placed: we keep checking and will update this message.',
          }
        : {
            status:
              error.kind === 'rate_limited' || error.kind === 'unavailable'
                ? ('failed' as const)
                : ('rejected' as const),
            errorCode: String(error.details.code ?? error.kind),
            errorKind: error.kind,
            errorMessage: rejectionSentence(error),
          };
      if (!error.ambiguous)
        this.logger.info(
          { client_order_id: intent.clientOrderId, kind: error.kind, code: error.details.code },
          'order not placed',
        );
      const updated = await this.trades.updateIf(
        tradeId,
        patch,
        (t) => t.submitLeaseOwner === owner && !t.alpacaOrderId,
      );
      return acted(this.leases.release(updated ?? (await this.mustFind(tradeId))));
    } finally {
      clearInterval(renewal);
      clearTimeout(slowNotice);
    }
  }

  private async placeOrFind(intent: OrderIntent): Promise<BrokerOrder> {
    try {
      return await this.broker.submitOrder(intent);
    } catch (err) {
      if (!(err instanceof BrokerError)) throw err;
      if (!err.ambiguous && err.kind !== 'duplicate_client_order_id') {
        if (err.kind === 'rate_limited') throw err;
        throw new AbortError(err);
      }
      // The POST may have placed the order (or already had): ask before anything else.
      const found = await this.broker.getOrderByClientOrderId(intent.clientOrderId).catch(() => undefined);
      if (found) return found;
      throw err;
    }
  }

  /** Ledger-only mode: the order is filled at the GMV the trader typed, fill and status in one transaction. */
  private async recordLedgerFill(trade: Trade): Promise<Trade> {
    const at = this.now();
    const recorded = await this.trades.applyUnderLock({ id: trade.id }, (row, stored) => {
      if (row.status !== 'pending_submit' || stored.qty.gt(0)) return { fills: [], patch: {} };
      const qty = row.quantity ?? dec(0);
      const gmv = row.gmv ?? dec(0);
      const price = qty.isZero() ? dec(0) : gmv.div(qty).toDecimalPlaces(6);
      const fill = {
        executionId: `ledger:${row.clientOrderId ?? row.tradeId}`,
        tradeId: row.id,
        symbol: row.symbol,
        side: row.side,
        qty,
        price,
        portfolioName: row.portfolioName,
        filledAt: at,
        source: 'ledger' as const,
      };
      return { fills: [fill], patch: { status: 'filled', submittedAt: at } };
    });
    return recorded ?? this.mustFind(trade.id);
  }

  /** Writes a "still sending" note while the order is still ours to send and not yet acknowledged. */
  private noteSending(
    tradeId: number,
    note: { code: string; message: string },
    ambiguous = false,
  ): Promise<Trade | undefined> {
    const owner = this.leases.owner;
    return this.trades.updateIf(
      tradeId,
      {
        errorCode: note.code,
        errorMessage: note.message,
        ...(ambiguous ? { status: 'submitted' as const, submittedAt: this.now() } : {}),
      },
      (t) =>
        t.submitLeaseOwner === owner && !t.alpacaOrderId && (t.status === 'pending_submit' || t.status === 'submitted'),
    );
  }

  private async mustFind(tradeId: number): Promise<Trade> {
    const trade = await this.trades.findById(tradeId);
    if (!trade) throw new Error(`No trade with id ${tradeId}`);
    return trade;
  }
}
