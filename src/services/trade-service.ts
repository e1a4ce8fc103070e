import { setTimeout as sleep } from 'node:timers/promises';
import pRetry, { AbortError } from 'p-retry';
import type { Logger } from '../logger';
import type { Broker, BrokerAccount, BrokerAsset, BrokerOrder, MarketClock, Snapshot } from '../broker/broker';
import { BrokerError } from '../domain/errors';
import { describeMarket, type MarketDescription } from '../domain/market-hours';
import { dec, formatUsd, type Dec } from '../domain/money';
import { clientOrderIdForView, isTerminal, type OrderIntent } from '../domain/order';
import { parseSide, validateOrderForm, type OrderFormErrors, type OrderFormInput, type OrderFormResult } from '../domain/order-form';
import { normalizeSymbol } from '../domain/symbol';
import type { PortfolioRepository } from '../db/repositories/portfolio-repository';
import type { Trade, TradeRepository } from '../db/repositories/trade-repository';
import { listOrdersSince } from './order-listing';
import type { OrderTracker } from './order-tracker';
import type { TradeObserver } from './trade-observer';

export const DEFAULT_PORTFOLIO = 'Default Portfolio';

/** Validation answers inside Slack's 3 s ack window, so every lookup on that path is bounded. */
const ACK_PATH_BUDGET_MS = 1_500;
/** A row never sent (the process died first) is still sent at start-up if the trader asked this recently. */
const RESUBMIT_WINDOW_MS = 2 * 60_000;
/** Longest wait honoured from a 429's reset time before the next attempt. */
const MAX_RATE_LIMIT_WAIT_MS = 60_000;
/** An order the broker never showed after an ambiguous failure is declared not placed after this long. */
const UNCONFIRMED_GIVE_UP_MS = 10 * 60_000;

export interface TradeServiceOptions {
  ledgerOnly: boolean;
  maxOrderNotional: Dec;
  traderUserIds: readonly string[];
  /** How many times a submission is retried after a rate limit or an ambiguous failure. */
  submitRetries?: number;
  retryMinTimeoutMs?: number;
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
    private readonly observer: TradeObserver,
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
    const [lookup, snapshot, held, clock] = await Promise.all([
      symbol ? this.lookupAsset(symbol, ACK_PATH_BUDGET_MS) : Promise.resolve(undefined),
      symbol && !this.ledgerOnly ? within(ACK_PATH_BUDGET_MS, this.broker.getSnapshots([symbol])).then((m) => m.get(symbol), () => undefined) : Promise.resolve(undefined),
      // Only a sell is checked against the holding: a buy spends no queries on it.
      symbol && parseSide(args.form.side) === 'sell' ? this.holdingOf(portfolioName, symbol) : Promise.resolve(dec(0)),
      within(ACK_PATH_BUDGET_MS, this.broker.getClock()).catch(() => undefined as MarketClock | undefined),
    ]);
    const result: OrderFormResult =
      lookup?.kind === 'unavailable'
        ? { ok: false, errors: { symbol: `We couldn’t check ${symbol} with Alpaca just now (${lookup.reason}). Nothing was sent — please submit again.` } }
        : validateOrderForm(args.form, {
            asset: lookup?.kind === 'found' ? lookup.asset : undefined,
            lastPrice: snapshot?.lastPrice ?? snapshot?.ask ?? snapshot?.bid,
            maxOrderNotional: this.options.maxOrderNotional,
            heldQty: held,
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
    const { trade, created } = await this.trades.insertPending({
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
    });
    if (!created) return { kind: 'duplicate', trade };
    this.logger.info({ client_order_id: clientOrderId, user: args.userId, symbol: order.symbol, side: order.side }, 'order recorded');
    return { kind: 'accepted', trade };
  }

  /**
   * Sends a recorded order to the broker, exactly once. Safe to call again for the same trade:
   * it only acts while the row is still pending_submit / submitted-but-unconfirmed.
   */
  async submit(tradeId: number): Promise<Trade> {
    let trade = await this.mustFind(tradeId);
    if (trade.status !== 'pending_submit' && !(trade.status === 'submitted' && !trade.alpacaOrderId)) return trade;
    if (this.ledgerOnly) return this.recordLedgerFill(trade);

    const intent = toIntent(trade);
    try {
      const order = await pRetry(() => this.placeOrFind(intent), {
        retries: this.options.submitRetries ?? 4,
        minTimeout: this.options.retryMinTimeoutMs ?? 500,
        factor: 2,
        shouldRetry: ({ error }) => error instanceof BrokerError && (error.kind === 'rate_limited' || error.ambiguous),
        onFailedAttempt: async ({ error, attemptNumber }) => {
          if (error instanceof BrokerError && error.ambiguous && trade.status === 'pending_submit') {
            trade = await this.trades.update(trade.id, { status: 'submitted', submittedAt: this.now(), errorMessage: 'We couldn’t confirm the order with Alpaca yet — checking.' });
            await this.notify(trade);
          }
          this.logger.warn({ client_order_id: intent.clientOrderId, attempt: attemptNumber, kind: error instanceof BrokerError ? error.kind : 'unknown' }, 'order submission not confirmed; retrying');
          // A 429 says when the window reopens: wait for it rather than spend attempts before then.
          const retryAfterMs = error instanceof BrokerError ? error.details.retryAfterMs : undefined;
          if (retryAfterMs) await sleep(Math.min(retryAfterMs, MAX_RATE_LIMIT_WAIT_MS));
        },
      });
      return (await this.tracker.applyOrder(order)) ?? (await this.mustFind(trade.id));
    } catch (err) {
      const error = err instanceof BrokerError ? err : new BrokerError('unavailable', describeError(err), { ambiguous: true });
      if (error.ambiguous) {
        // Still unknown after every lookup: leave it for the settlement pass rather than guess.
        trade = await this.trades.update(trade.id, {
          status: 'submitted',
          submittedAt: trade.submittedAt ?? this.now(),
          errorCode: error.kind,
          errorMessage: 'Alpaca didn’t answer and we couldn’t confirm the order — we keep checking and will update this message.',
        });
      } else {
        trade = await this.trades.update(trade.id, {
          status: error.kind === 'rate_limited' || error.kind === 'unavailable' ? 'failed' : 'rejected',
          errorCode: String(error.details.code ?? error.kind),
          errorMessage: rejectionSentence(error),
        });
        this.logger.info({ client_order_id: intent.clientOrderId, kind: error.kind, code: error.details.code }, 'order not placed');
      }
      await this.notify(trade);
      return trade;
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
  async settleUnsettled(options: { reviewed?: readonly BrokerOrder[]; quietSince?: Date } = {}): Promise<SettleResult> {
    const counts: SettleResult = { settled: 0, resubmitted: 0, failed: 0, brokerRequests: 0 };
    const unsettled = await this.trades.listUnsettled();
    if (this.ledgerOnly) {
      for (const trade of unsettled.filter((t) => t.status === 'pending_submit' && t.source !== 'legacy')) {
        await this.recordLedgerFill(trade);
        counts.settled += 1;
      }
      return this.logSettled(counts);
    }
    const reviewed = new Set(options.reviewed?.map((o) => o.clientOrderId));
    const quietSince = options.quietSince?.getTime() ?? Number.POSITIVE_INFINITY;
    const rows = unsettled.filter((t) => t.source !== 'legacy' && !(t.clientOrderId && reviewed.has(t.clientOrderId)) && t.updatedAt.getTime() <= quietSince);
    const listed = options.reviewed || rows.length < 2 ? new Map<string, BrokerOrder>() : await this.listOrdersFor(rows, counts);
    for (const trade of rows) {
      try {
        let found = trade.clientOrderId ? listed.get(trade.clientOrderId) : undefined;
        if (!found && trade.clientOrderId) {
          counts.brokerRequests += 1;
          found = await this.broker.getOrderByClientOrderId(trade.clientOrderId);
        }
        if (found) {
          await this.tracker.applyOrder(found);
          counts.settled += 1;
          continue;
        }
        const age = this.now().getTime() - (trade.submittedAt ?? trade.createdAt).getTime();
        if (trade.status === 'pending_submit' && age <= RESUBMIT_WINDOW_MS) {
          counts.brokerRequests += 1;
          await this.submit(trade.id);
          counts.resubmitted += 1;
        } else if (trade.status === 'pending_submit' || age > UNCONFIRMED_GIVE_UP_MS) {
          const failed = await this.trades.update(trade.id, {
            status: 'failed',
            errorCode: 'not_sent',
            errorMessage:
              trade.status === 'pending_submit'
                ? 'The app restarted before this order reached Alpaca, and it is too old to send now. Nothing was placed — place it again if you still want it.'
                : 'Alpaca never showed this order after a failed submission, so it was not placed. Place it again if you still want it.',
          });
          await this.notify(failed);
          counts.failed += 1;
        }
      } catch (err) {
        this.logger.warn({ client_order_id: trade.clientOrderId, err: describeError(err) }, 'could not settle order; will retry on the next pass');
      }
    }
    return this.logSettled(counts);
  }

  /** The broker's orders since the oldest row, by client_order_id; empty (each row looked up alone) if the list fails. */
  private async listOrdersFor(rows: readonly Trade[], counts: SettleResult): Promise<Map<string, BrokerOrder>> {
    // A minute's margin for clock skew between this host and Alpaca's submitted_at.
    const since = new Date(Math.min(...rows.map((t) => (t.submittedAt ?? t.createdAt).getTime())) - 60_000);
    const requests = { count: 0 };
    try {
      return new Map((await listOrdersSince(this.broker, since, requests)).map((o) => [o.clientOrderId, o]));
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

  private async recordLedgerFill(trade: Trade): Promise<Trade> {
    const qty = trade.quantity ?? dec(0);
    const gmv = trade.gmv ?? dec(0);
    const price = qty.isZero() ? dec(0) : gmv.div(qty).toDecimalPlaces(6);
    const at = this.now();
    await this.trades.recordFill({
      executionId: `ledger:${trade.clientOrderId ?? trade.tradeId}`,
      tradeId: trade.id,
      symbol: trade.symbol,
      side: trade.side,
      qty,
      price,
      portfolioName: trade.portfolioName,
      filledAt: at,
      source: 'ledger',
    });
    const filled = await this.trades.update(trade.id, { status: 'filled', submittedAt: at });
    await this.notify(filled);
    return filled;
  }

  private async holdingOf(portfolioName: string, symbol: string): Promise<Dec> {
    const match = await this.portfolios.findByName(portfolioName);
    return this.trades.sellableQuantity(match?.name ?? portfolioName, symbol);
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

  private async notify(trade: Trade): Promise<void> {
    await this.observer.tradeChanged(trade);
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

