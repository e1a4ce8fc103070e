import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../logger';
import type { Broker, BrokerAccount, BrokerAsset, BrokerOrder, MarketClock, Snapshot } from '../broker/broker';
import { BrokerError } from '../domain/errors';
import { describeMarket, type MarketDescription } from '../domain/market-hours';
import { isDeadLocalInstance } from '../lifecycle';
import { Dec, dec, formatQty, formatUsd } from '../domain/money';
import { clientOrderIdForView, isTerminal, type OrderIntent } from '../domain/order';
import { parseSide, validateOrderForm, type OrderFormErrors, type OrderFormInput, type OrderFormResult } from '../domain/order-form';
import { normalizeSymbol } from '../domain/symbol';
import type { Trade } from '../domain/trade';
import type { PortfolioRepository } from '../db/repositories/portfolio-repository';
import type { Sellable, TradeRepository } from '../db/repositories/trade-repository';
import { listOrdersCovering } from './order-listing';
import type { OrderTracker } from './order-tracker';

export const DEFAULT_PORTFOLIO = 'Default Portfolio';

/** Validation answers inside Slack's 3 s ack window, so every lookup on that path is bounded. */
const ACK_PATH_BUDGET_MS = 1_500;
/** A row never sent (the process died first) is still sent at start-up if the trader asked this recently. */
const RESUBMIT_WINDOW_MS = 2 * 60_000;
/** Longest wait honoured from a 429's reset time before the next attempt. */
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
/** An order the broker never showed after an ambiguous failure is declared not placed after this long. */
const UNCONFIRMED_GIVE_UP_MS = 10 * 60_000;
/** A submission holds its order's lease this long past its last renewal; it renews at a quarter of that. */
const SUBMIT_LEASE_MS = 20_000;
/** "Sending" with no word from Alpaca for this long: the trader is told we are still trying. */
const SLOW_SUBMIT_NOTICE_MS = 5_000;

/** What the confirmation says while a submission keeps trying (errorCode, errorMessage). */
export const SENDING_NOTES = {
  retrying: {
    code: 'sending_retry',
    message: 'Alpaca isn’t answering right now. We keep trying, and the order can’t be placed twice.',
  },
  slow: {
    code: 'sending_slow',
    message: 'Alpaca hasn’t answered yet. We keep trying, and the order can’t be placed twice.',
  },
} as const;

export interface TradeServiceOptions {
  ledgerOnly: boolean;
  /** This process, as the owner of the submission leases it takes. */
  instanceId: string;
  maxOrderNotional: Dec;
  traderUserIds: readonly string[];
  /** How many times a submission is retried after a rate limit or an ambiguous failure. */
  submitRetries?: number;
  retryMinTimeoutMs?: number;
  slowNoticeMs?: number;
  /** How long a submission's lease lasts past its last renewal (renewed at a quarter of it). */
  submitLeaseMs?: number;
  now?: () => Date;
}

export interface OrderContext {
  symbol?: string;
  asset?: BrokerAsset;
  snapshot?: Snapshot;
  buyingPower?: Dec;
  market?: MarketDescription;
  symbolError?: string;
  /** What could not be loaded, in words (e.g. Alpaca unreachable). */
  problems: string[];
}

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

export type ReviewResult =
  | { kind: 'invalid'; errors: OrderFormErrors }
  | { kind: 'duplicate'; trade: Trade }
  | { kind: 'accepted'; trade: Trade };

/**
 * Placing orders exactly once. The row is written (pending_submit, client_order_id derived from
 * the Slack view) before the broker is called; ambiguous broker failures are resolved by looking
 * the client_order_id up before anything else; Alpaca's unique client_order_id makes a resubmission
 * after a lookup miss safe. Knows nothing of Slack.
 */
export class TradeService {
  private readonly now: () => Date;

  constructor(
    private readonly trades: TradeRepository,
    private readonly portfolios: PortfolioRepository,
    private readonly broker: Broker,
    private readonly tracker: OrderTracker,
    private readonly logger: Logger,
    private readonly options: TradeServiceOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  get ledgerOnly(): boolean {
    return this.options.ledgerOnly;
  }

  mayTrade(userId: string): boolean {
    return this.options.traderUserIds.length === 0 || this.options.traderUserIds.includes(userId);
  }

  async portfolioNames(): Promise<string[]> {
    const names = (await this.portfolios.list()).map((p) => p.name);
    return names.some((n) => n.toLowerCase() === DEFAULT_PORTFOLIO.toLowerCase()) ? names : [DEFAULT_PORTFOLIO, ...names];
  }

  /** Market description, or undefined when the clock can't be had within `budgetMs`. */
  async market(budgetMs = ACK_PATH_BUDGET_MS): Promise<MarketDescription | undefined> {
    const clock = await within(budgetMs, this.broker.getClock()).catch(() => undefined);
    return clock ? describeMarket(clock, this.now()) : undefined;
  }

  /** Everything the modal shows about a symbol: asset, quote, buying power, market status. */
  async orderContext(rawSymbol: string | undefined): Promise<OrderContext> {
    const problems: string[] = [];
    const symbol = rawSymbol ? normalizeSymbol(rawSymbol) : undefined;
    const [clock, account] = await Promise.all([
      this.broker.getClock().catch((err: unknown) => {
        problems.push(`market status unavailable (${describeError(err)})`);
        return undefined;
      }),
      this.ledgerOnly
        ? Promise.resolve(undefined)
        : this.broker.getAccount().catch((err: unknown) => {
            problems.push(`buying power unavailable (${describeError(err)})`);
            return undefined as BrokerAccount | undefined;
          }),
    ]);
    const context: OrderContext = {
      symbol,
      market: clock ? describeMarket(clock, this.now()) : undefined,
      buyingPower: account?.buyingPower,
      problems,
    };
    if (rawSymbol && !symbol) {
      context.symbolError = `“${rawSymbol.slice(0, 20)}” is not a stock symbol.`;
      return context;
    }
    if (!symbol) return context;
    const lookup = await this.lookupAsset(symbol);
    if (lookup.kind === 'unknown') context.symbolError = `We couldn’t find a stock with the symbol ${symbol}.`;
    else if (lookup.kind === 'unavailable') problems.push(`couldn’t look up ${symbol} (${lookup.reason})`);
    else {
      context.asset = lookup.asset;
      if (!lookup.asset.tradable) context.symbolError = `${symbol} is not tradable on Alpaca.`;
      const snapshots = await this.broker.getSnapshots([symbol]).catch((err: unknown) => {
        problems.push(`no quote (${describeError(err)})`);
        return new Map<string, Snapshot>();
      });
      context.snapshot = snapshots.get(symbol);
    }
    return context;
  }

  async quote(rawSymbol: string): Promise<{ symbol: string; asset?: BrokerAsset; snapshot?: Snapshot; market?: MarketDescription; error?: string }> {
    const context = await this.orderContext(rawSymbol);
    return {
      symbol: context.symbol ?? rawSymbol,
      asset: context.asset,
      snapshot: context.snapshot,
      market: context.market,
      error: context.symbolError ?? (context.problems.length > 0 ? context.problems.join('; ') : undefined),
    };
  }

  /**
   * Validates a submitted form and, when valid, writes the pending row — all before Slack's ack,
   * without waiting on the broker (cached data only, each lookup bounded). A redelivered or
   * double-clicked submission finds its existing row and is reported as a duplicate.
   */
  async review(args: { userId: string; viewId: string; channelId?: string; form: OrderFormInput }): Promise<ReviewResult> {
    const clientOrderId = clientOrderIdForView(args.viewId);
    const symbol = normalizeSymbol(args.form.symbol);
    const portfolioName = args.form.portfolio.trim() || DEFAULT_PORTFOLIO;
    const selling = parseSide(args.form.side) === 'sell';
    const [lookup, snapshot, clock] = await Promise.all([
      symbol ? this.lookupAsset(symbol, ACK_PATH_BUDGET_MS) : Promise.resolve(undefined),
      symbol && !this.ledgerOnly ? within(ACK_PATH_BUDGET_MS, this.broker.getSnapshots([symbol])).then((m) => m.get(symbol), () => undefined) : Promise.resolve(undefined),
      within(ACK_PATH_BUDGET_MS, this.broker.getClock()).catch(() => undefined as MarketClock | undefined),
    ]);
    const lastPrice = snapshot?.lastPrice ?? snapshot?.ask ?? snapshot?.bid;
    // Only a sell is checked against the holding: a buy spends no queries on it.
    const held = symbol && selling ? await this.holdingOf(portfolioName, symbol, lastPrice) : undefined;
    const result: OrderFormResult =
      lookup?.kind === 'unavailable'
        ? { ok: false, errors: { symbol: `We couldn’t check ${symbol} with Alpaca just now (${lookup.reason}). Nothing was sent — please submit again.` } }
        : held?.unpriced
          ? { ok: false, errors: { quantity: unpricedHoldingSentence(portfolioName, symbol ?? '') } }
          : validateOrderForm(args.form, {
              asset: lookup?.kind === 'found' ? lookup.asset : undefined,
              lastPrice,
              maxOrderNotional: this.options.maxOrderNotional,
              heldQty: held?.qty ?? dec(0),
              ledgerOnly: this.ledgerOnly,
            });
    if (!result.ok) {
      // A redelivered submission already recorded stays a duplicate even if it no longer validates
      // (its own sell now counts against the holding, Alpaca is down): the happy path leaves this to the unique index.
      const existing = await this.trades.findByClientOrderId(clientOrderId);
      return existing ? { kind: 'duplicate', trade: existing } : { kind: 'invalid', errors: result.errors };
    }

    const order = result.order;
    const portfolio = await this.portfolios.ensure(order.portfolio, args.userId);
    const recorded = await this.trades.recordPending(
      {
        clientOrderId,
        source: this.ledgerOnly ? 'ledger' : 'slack',
        symbol: order.symbol,
        side: order.side,
        quantity: order.qty ?? null,
        notional: order.notional ?? null,
        gmv: order.gmv ?? null,
        orderType: order.type,
        timeInForce: order.timeInForce,
        limitPrice: order.limitPrice ?? null,
        stopPrice: order.stopPrice ?? null,
        extendedHours: order.extendedHours,
        portfolioName: portfolio.name,
        userId: args.userId,
        slackChannelId: args.channelId ?? null,
        marketOpenAtSubmit: clock ? clock.isOpen : null,
      },
      // The form checked the holding a moment ago; this re-checks it where no other sell can slip in between.
      { price: lastPrice, check: (sellable) => sellRefusal(portfolio.name, order, sellable, lastPrice) },
    );
    if (recorded.kind === 'refused') return { kind: 'invalid', errors: order.qty ? { quantity: recorded.reason } : { amount: recorded.reason } };
    if (recorded.kind === 'existing') return { kind: 'duplicate', trade: recorded.trade };
    this.logger.info({ client_order_id: clientOrderId, user: args.userId, symbol: order.symbol, side: order.side }, 'order recorded');
    return { kind: 'accepted', trade: recorded.trade };
  }

  /**
   * Sends a recorded order to the broker, exactly once. Safe to call again for the same trade, from
   * any instance: it acts only while the row is still pending_submit / submitted-but-unconfirmed,
   * and only while it holds the row's submission lease (renewed as retries run), so no other pass
   * settles, fails or resends the row meanwhile. Until Alpaca acknowledges, the row stays
   * "sending"; within SLOW_SUBMIT_NOTICE_MS of a failed attempt (or of no answer) it says so.
   */
  async submit(tradeId: number): Promise<Trade> {
    const owner = this.options.instanceId;
    const leased = await this.takeLease(tradeId);
    if (!leased) return this.mustFind(tradeId);
    let trade: Trade = leased;
    if (trade.status !== 'pending_submit' && !(trade.status === 'submitted' && !trade.alpacaOrderId)) return this.releaseLease(trade);
    if (this.ledgerOnly) return this.releaseLease(await this.recordLedgerFill(trade));

    const intent = toIntent(trade);
    let leaseLost = false;
    let acknowledged = false;
    const renewal = setInterval(() => {
      void this.trades.renewSubmitLease(tradeId, owner, this.leaseUntil()).then(
        (held) => {
          leaseLost ||= !held;
        },
        () => undefined,
      );
    }, this.leaseMs / 4);
    const slowNotice = setTimeout(() => {
      if (!acknowledged) void this.noteSending(tradeId, SENDING_NOTES.slow).catch(() => undefined);
    }, this.options.slowNoticeMs ?? SLOW_SUBMIT_NOTICE_MS);
    try {
      const order = await pRetry(
        () => {
          if (leaseLost) throw new AbortError('another pass took over this order');
          return this.placeOrFind(intent);
        },
        {
          retries: this.options.submitRetries ?? 4,
          minTimeout: this.options.retryMinTimeoutMs ?? 500,
          factor: 2,
          shouldRetry: ({ error }) => error instanceof BrokerError && (error.kind === 'rate_limited' || error.ambiguous),
          onFailedAttempt: async ({ error, attemptNumber }) => {
            const ambiguous = error instanceof BrokerError && error.ambiguous;
            const updated = await this.noteSending(tradeId, SENDING_NOTES.retrying, ambiguous).catch(() => undefined);
            if (updated) trade = updated;
            this.logger.warn({ client_order_id: intent.clientOrderId, attempt: attemptNumber, kind: error instanceof BrokerError ? error.kind : 'unknown' }, 'order submission not confirmed; retrying');
            // A 429 says when the window reopens: wait for it rather than spend attempts before then.
            const retryAfterMs = error instanceof BrokerError ? error.details.retryAfterMs : undefined;
            if (retryAfterMs) await sleep(Math.min(retryAfterMs, MAX_RATE_LIMIT_WAIT_MS));
          },
        },
      );
      acknowledged = true;
      const applied = (await this.tracker.applyOrder(order)) ?? (await this.mustFind(tradeId));
      return await this.releaseLease(applied);
    } catch (err) {
      acknowledged = true;
      if (leaseLost) {
        this.logger.warn({ client_order_id: intent.clientOrderId }, 'lost the submission lease; leaving the order to the pass that holds it');
        return this.mustFind(tradeId);
      }
      const error = err instanceof BrokerError ? err : new BrokerError('unavailable', describeError(err), { ambiguous: true });
      const patch = error.ambiguous
        ? // Still unknown after every lookup: leave it for the settlement pass rather than guess.
          {
            status: 'submitted' as const,
            submittedAt: trade.submittedAt ?? this.now(),
            errorCode: error.kind,
            errorMessage: 'Alpaca didn’t answer and we couldn’t confirm the order. It may or may not have been placed: we keep checking and will update this message.',
          }
        : {
            status: error.kind === 'rate_limited' || error.kind === 'unavailable' ? ('failed' as const) : ('rejected' as const),
            errorCode: String(error.details.code ?? error.kind),
            errorMessage: rejectionSentence(error),
          };
      if (!error.ambiguous) this.logger.info({ client_order_id: intent.clientOrderId, kind: error.kind, code: error.details.code }, 'order not placed');
      const updated = await this.trades.updateIf(tradeId, patch, (t) => t.submitLeaseOwner === owner && !t.alpacaOrderId);
      return this.releaseLease(updated ?? (await this.mustFind(tradeId)));
    } finally {
      clearInterval(renewal);
      clearTimeout(slowNotice);
    }
  }

  /** Cancels an open order on behalf of its owner (or an admin). Returns a sentence for the user. */
  async cancel(clientOrderId: string, userId: string, isAdmin: boolean): Promise<{ ok: boolean; message: string }> {
    const trade = await this.trades.findByClientOrderId(clientOrderId);
    if (!trade) return { ok: false, message: 'That order is not in our books.' };
    if (trade.userId !== userId && !isAdmin) return { ok: false, message: 'Only the trader who placed this order (or an admin) can cancel it.' };
    if (isTerminal(trade.status)) return { ok: false, message: `The order is already ${trade.status.replace('_', ' ')}.` };
    if (!trade.alpacaOrderId) return { ok: false, message: 'The order is still being sent to Alpaca; try again in a moment.' };
    try {
      await this.broker.cancelOrder(trade.alpacaOrderId);
      this.logger.info({ client_order_id: clientOrderId, user: userId }, 'cancel requested');
      await this.tracker.refresh(trade.alpacaOrderId);
      return { ok: true, message: 'Cancel requested.' };
    } catch (err) {
      await this.tracker.refresh(trade.alpacaOrderId).catch(() => undefined);
      return { ok: false, message: `Alpaca did not cancel the order: ${describeError(err)}` };
    }
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
    const now = this.now().getTime();
    const candidates = (await this.trades.listUnsettled()).filter((t) => t.source !== 'legacy' && !(options.unacknowledgedOnly && t.alpacaOrderId));
    // A row whose submission holds a live lease is that submission's business, in this instance or another
    // (or a dead process's, until the lease runs out: the caller comes back then).
    const leased = candidates.filter((t) => t.submitLeaseUntil && t.submitLeaseUntil.getTime() > now && !(t.submitLeaseOwner && isDeadLocalInstance(t.submitLeaseOwner)));
    if (leased.length > 0) counts.nextLeaseExpiry = new Date(Math.min(...leased.map((t) => t.submitLeaseUntil!.getTime())));
    const unsettled = candidates.filter((t) => !leased.includes(t));
    if (this.ledgerOnly) {
      for (const trade of unsettled.filter((t) => t.status === 'pending_submit')) {
        await this.isolated(trade, async () => {
          await this.submit(trade.id);
          counts.settled += 1;
        });
      }
      return this.logSettled(counts);
    }
    const reviewed = new Set(options.reviewed?.map((o) => o.clientOrderId));
    const quietSince = options.quietSince?.getTime() ?? Number.POSITIVE_INFINITY;
    const rows = unsettled.filter((t) => !(t.clientOrderId && reviewed.has(t.clientOrderId)) && t.updatedAt.getTime() <= quietSince);
    const listed = options.reviewed || rows.length < 2 ? new Map<string, BrokerOrder>() : await this.listOrdersFor(rows, counts);
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
          await this.submit(row.id);
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
    const owner = this.options.instanceId;
    if (!(await this.takeLease(row.id))) return false;
    const failed = await this.trades.updateIf(
      row.id,
      {
        status: 'failed',
        errorCode: 'not_sent',
        errorMessage:
          row.status === 'pending_submit'
            ? 'The app restarted before this order reached Alpaca, and it is too old to send now. Nothing was placed — place it again if you still want it.'
            : 'Alpaca never showed this order after a failed submission, so it was not placed. Place it again if you still want it.',
      },
      (t) => t.submitLeaseOwner === owner && t.status === row.status && !t.alpacaOrderId,
    );
    await this.trades.releaseSubmitLease(row.id, owner);
    return failed !== undefined;
  }

  /** One row that can't be settled (a database refusal, a broker error) never stops the others. */
  private async isolated(trade: Trade, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (err) {
      this.logger.warn({ client_order_id: trade.clientOrderId, err: describeError(err) }, 'could not settle order; will retry on the next pass');
    }
  }

  /** The broker's orders since the oldest row, by client_order_id; empty (each row looked up alone) if the list fails. */
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
    if (counts.settled + counts.resubmitted + counts.failed > 0) this.logger.info(counts, 'settled orders left in flight');
    return counts;
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
      const fill = { executionId: `ledger:${row.clientOrderId ?? row.tradeId}`, tradeId: row.id, symbol: row.symbol, side: row.side, qty, price, portfolioName: row.portfolioName, filledAt: at, source: 'ledger' as const };
      return { fills: [fill], patch: { status: 'filled', submittedAt: at } };
    });
    return recorded ?? this.mustFind(trade.id);
  }

  /** Writes a "still sending" note while the order is still ours to send and not yet acknowledged. */
  private noteSending(tradeId: number, note: { code: string; message: string }, ambiguous = false): Promise<Trade | undefined> {
    const owner = this.options.instanceId;
    return this.trades.updateIf(
      tradeId,
      { errorCode: note.code, errorMessage: note.message, ...(ambiguous ? { status: 'submitted' as const, submittedAt: this.now() } : {}) },
      (t) => t.submitLeaseOwner === owner && !t.alpacaOrderId && (t.status === 'pending_submit' || t.status === 'submitted'),
    );
  }

  /** The row's submission lease for this instance — also when its holder is a crashed process on this host, whose lease need not be waited out. */
  private async takeLease(tradeId: number): Promise<Trade | undefined> {
    const owner = this.options.instanceId;
    const leased = await this.trades.acquireSubmitLease(tradeId, owner, this.leaseUntil());
    if (leased) return leased;
    const holder = (await this.trades.findById(tradeId))?.submitLeaseOwner;
    return holder && isDeadLocalInstance(holder) ? this.trades.acquireSubmitLease(tradeId, owner, this.leaseUntil(), holder) : undefined;
  }

  private get leaseMs(): number {
    return this.options.submitLeaseMs ?? SUBMIT_LEASE_MS;
  }

  private leaseUntil(): Date {
    return new Date(this.now().getTime() + this.leaseMs);
  }

  private async releaseLease(trade: Trade): Promise<Trade> {
    await this.trades.releaseSubmitLease(trade.id, this.options.instanceId);
    return trade;
  }

  private async holdingOf(portfolioName: string, symbol: string, price: Dec | undefined): Promise<Sellable> {
    const match = await this.portfolios.findByName(portfolioName);
    return this.trades.sellableQuantity(match?.name ?? portfolioName, symbol, price);
  }

  private async lookupAsset(symbol: string, budgetMs?: number): Promise<{ kind: 'found'; asset: BrokerAsset } | { kind: 'unknown' } | { kind: 'unavailable'; reason: string }> {
    try {
      const asset = await (budgetMs ? within(budgetMs, this.broker.getAsset(symbol)) : this.broker.getAsset(symbol));
      return { kind: 'found', asset };
    } catch (err) {
      if (err instanceof BrokerError && (err.kind === 'invalid_symbol' || err.kind === 'not_found')) return { kind: 'unknown' };
      return { kind: 'unavailable', reason: describeError(err) };
    }
  }

  private async mustFind(tradeId: number): Promise<Trade> {
    const trade = await this.trades.findById(tradeId);
    if (!trade) throw new Error(`No trade with id ${tradeId}`);
    return trade;
  }
}

function toIntent(trade: Trade): OrderIntent {
  return {
    clientOrderId: trade.clientOrderId ?? trade.tradeId,
    symbol: trade.symbol,
    side: trade.side,
    type: trade.orderType ?? 'market',
    timeInForce: trade.timeInForce ?? 'day',
    qty: trade.quantity ?? undefined,
    notional: trade.quantity ? undefined : (trade.notional ?? undefined),
    limitPrice: trade.limitPrice ?? undefined,
    stopPrice: trade.stopPrice ?? undefined,
    extendedHours: trade.extendedHours,
  };
}

/** Why a sell can't be recorded against what the portfolio can still sell, or undefined. */
function sellRefusal(portfolio: string, order: { symbol: string; qty?: Dec; notional?: Dec }, sellable: Sellable, price: Dec | undefined): string | undefined {
  if (sellable.unpriced) return unpricedHoldingSentence(portfolio, order.symbol);
  const held = formatQty(Dec.max(sellable.qty, 0));
  if (order.qty && order.qty.gt(sellable.qty)) {
    return sellable.qty.lte(0)
      ? `${portfolio} has no ${order.symbol} left to sell once its open sell orders are counted.`
      : `${portfolio} can sell at most ${held} ${order.symbol} once its open sell orders are counted.`;
  }
  if (order.notional) {
    if (!price) return unpricedHoldingSentence(portfolio, order.symbol);
    if (order.notional.gt(sellable.qty.times(price))) {
      return `${portfolio} can sell at most about ${formatUsd(Dec.max(sellable.qty.times(price), 0))} of ${order.symbol} (${held} shares) once its open sell orders are counted.`;
    }
  }
  return undefined;
}

function unpricedHoldingSentence(portfolio: string, symbol: string): string {
  return `We can’t price ${symbol} right now, so we can’t check this sell against what ${portfolio} holds. Nothing was sent — try again in a moment.`;
}

/** A broker refusal as a sentence a trader understands (the BrokerError message already is one, plus figures). */
export function rejectionSentence(error: BrokerError): string {
  if (error.kind === 'insufficient_buying_power' && error.details.buyingPower !== undefined) {
    const cost = error.details.costBasis !== undefined ? ` This order needs about ${formatUsd(error.details.costBasis)};` : '';
    return `Not enough buying power.${cost} the account has ${formatUsd(error.details.buyingPower)} available.`;
  }
  if (error.kind === 'rate_limited') return 'Alpaca is rate-limiting us right now, so the order was not sent. Try again in a minute.';
  if (error.kind === 'unavailable') return `Alpaca is unavailable, so the order was not sent. ${error.message}`;
  return error.message;
}

export function describeError(err: unknown): string {
  if (err instanceof BrokerError) return err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Rejects with a BrokerError('unavailable') when `promise` takes longer than `ms`. */
function within<T>(ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new BrokerError('unavailable', 'Alpaca took too long to answer')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

