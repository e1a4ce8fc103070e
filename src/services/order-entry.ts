import type { Broker } from '../broker/broker';
import { isLedgerOnly } from '../broker/broker';
import type { Portfolio, PortfolioRepository } from '../db/repositories/portfolio-repository';
import type { Sellable, TradeRepository } from '../db/repositories/trade-repository';
import { BrokerError, describeError } from '../domain/errors';
import {
  type BrokerAccount,
  type BrokerAsset,
  type MarketClock,
  referencePrice,
  type Snapshot,
} from '../domain/market';
import { describeMarket, type MarketDescription } from '../domain/market-hours';
import { Dec, dec, formatQty, formatUsd } from '../domain/money';
import {
  type OrderFormErrors,
  type OrderFormInput,
  type OrderFormResult,
  parseSide,
  validateOrderForm,
} from '../domain/order-form';
import { DEFAULT_PORTFOLIO, portfolioNameKey, withDefaultPortfolio } from '../domain/portfolio-name';
import { normalizeSymbol } from '../domain/symbol';
import type { Trade } from '../domain/trade';
import type { Logger } from '../logger';
import { AckPriority } from './ack-priority';
import type { OrderApprovals } from './order-approvals';
import { within } from './time-budget';

/** Validation answers inside Slack's 3 s ack window, so every lookup on that path is bounded. */
const ACK_PATH_BUDGET_MS = 1_500;

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

/** A submitted order form, from Slack or the API. */
export interface OrderSubmission {
  userId: string;
  clientOrderId: string;
  /** Which front door the order came through; ledger-only mode records every order as 'ledger'. */
  source: 'slack' | 'api';
  /** Where its confirmation is posted (the trader's DM when absent). */
  channelId?: string;
  form: OrderFormInput;
}

export type ReviewResult =
  | { kind: 'invalid'; errors: OrderFormErrors }
  | { kind: 'duplicate'; trade: Trade }
  | { kind: 'accepted'; trade: Trade };

/**
 * Order entry: what the order form shows (portfolios, market, a symbol's context, quotes) and the
 * review of a submitted form, which writes the pending row — all from cached data, each broker
 * lookup bounded, so it fits in Slack's ack window. Knows nothing of Slack.
 */
export class OrderEntryService {
  private readonly now: () => Date;
  private readonly ackPriority = new AckPriority();
  /** Portfolio ensures under way by name: a burst's first orders share one instead of each running it. */
  private readonly ensuring = new Map<string, Promise<Portfolio>>();

  constructor(
    private readonly trades: TradeRepository,
    private readonly portfolios: PortfolioRepository,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly options: {
      maxOrderNotional: Dec;
      /** Maker-checker approval: an order above its threshold is recorded as pending_approval, not sent. */
      approvals?: Pick<OrderApprovals, 'requestFor'>;
      now?: () => Date;
    },
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** USE_ALPACA=false: orders are recorded at the trader's GMV and nothing reaches a broker. */
  get ledgerOnly(): boolean {
    return isLedgerOnly(this.broker);
  }

  /** Every portfolio's name; the form also offers the default one before it exists. */
  async portfolioNames(options: { includeDefault: boolean } = { includeDefault: true }): Promise<string[]> {
    const names = (await this.portfolios.list()).map((p) => p.name);
    return options.includeDefault ? withDefaultPortfolio(names) : names;
  }

  /** Market description, or undefined when the clock can't be had within `budgetMs`. */
  async market(budgetMs = ACK_PATH_BUDGET_MS): Promise<MarketDescription | undefined> {
    const clock = await within(budgetMs, this.broker.getClock()).catch(() => undefined);
    return clock ? describeMarket(clock, this.now()) : undefined;
  }

  /** The broker's clock and its description, or undefined when Alpaca doesn't answer. */
  async marketStatus(): Promise<{ clock: MarketClock; market: MarketDescription } | undefined> {
    const clock = await this.broker.getClock().catch(() => undefined);
    return clock ? { clock, market: describeMarket(clock, this.now()) } : undefined;
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

  async quote(rawSymbol: string): Promise<{
    symbol: string;
    asset?: BrokerAsset;
    snapshot?: Snapshot;
    market?: MarketDescription;
    error?: string;
    /** False when the symbol is not one Alpaca knows (rather than Alpaca not answering). */
    known: boolean;
  }> {
    const context = await this.orderContext(rawSymbol);
    return {
      symbol: context.symbol ?? rawSymbol,
      asset: context.asset,
      snapshot: context.snapshot,
      market: context.market,
      error: context.symbolError ?? (context.problems.length > 0 ? context.problems.join('; ') : undefined),
      known: context.symbolError === undefined || context.asset !== undefined,
    };
  }

  /**
   * Validates a submitted form and, when valid, writes the pending row — all before Slack's ack,
   * without waiting on the broker (cached data only, each lookup bounded). A redelivered or
   * double-clicked submission (or a retried API request) carries the same client order id, finds
   * its existing row and is reported as a duplicate.
   */
  review(args: OrderSubmission): Promise<ReviewResult> {
    return this.ackPriority.review(() => this.reviewNow(args));
  }

  /** Resolves when no review is under way (bounded): work after an ack waits here so acks go first. */
  afterAcks(): Promise<void> {
    return this.ackPriority.afterAcks();
  }

  private async reviewNow(args: OrderSubmission): Promise<ReviewResult> {
    const { clientOrderId } = args;
    const symbol = normalizeSymbol(args.form.symbol);
    const portfolioName = args.form.portfolio.trim() || DEFAULT_PORTFOLIO;
    const selling = parseSide(args.form.side) === 'sell';
    const [lookup, snapshot, clock] = await Promise.all([
      symbol ? this.lookupAsset(symbol, ACK_PATH_BUDGET_MS) : Promise.resolve(undefined),
      symbol && !this.ledgerOnly
        ? within(ACK_PATH_BUDGET_MS, this.broker.getSnapshots([symbol])).then(
            (m) => m.get(symbol),
            () => undefined,
          )
        : Promise.resolve(undefined),
      within(ACK_PATH_BUDGET_MS, this.broker.getClock()).catch(() => undefined as MarketClock | undefined),
    ]);
    const lastPrice = referencePrice(snapshot);
    // Only a sell is checked against the holding: a buy spends no queries on it.
    const held = symbol && selling ? await this.holdingOf(portfolioName, symbol, lastPrice) : undefined;
    const result: OrderFormResult =
      lookup?.kind === 'unavailable'
        ? {
            ok: false,
            errors: {
              symbol:
                `We couldn’t check ${symbol} with Alpaca just now (${lookup.reason}). ` +
                'Nothing was sent — please submit again.',
            },
          }
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
    // From the quote the order was valued at: nothing more is asked of Alpaca before the ack.
    const approval = this.options.approvals?.requestFor({
      estimatedValue: order.estimatedValue,
      quotedPrice: lastPrice,
      gmv: order.gmv,
      qty: order.qty,
    });
    if (approval === 'unpriced') {
      // The approver's price check needs the price at request: without one the order can't wait for approval.
      const existing = await this.trades.findByClientOrderId(clientOrderId);
      if (existing) return { kind: 'duplicate', trade: existing };
      const sentence =
        `We can’t price ${order.symbol} right now, and an order this large needs one to be sent for approval. ` +
        'Nothing was sent — try again in a moment.';
      return { kind: 'invalid', errors: order.qty ? { quantity: sentence } : { amount: sentence } };
    }
    const portfolio = await this.ensurePortfolio(order.portfolio, args.userId);
    const recorded = await this.trades.recordPending(
      {
        clientOrderId,
        source: this.ledgerOnly ? 'ledger' : args.source,
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
      approval,
    );
    if (recorded.kind === 'refused')
      return { kind: 'invalid', errors: order.qty ? { quantity: recorded.reason } : { amount: recorded.reason } };
    if (recorded.kind === 'existing') return { kind: 'duplicate', trade: recorded.trade };
    this.logger.info(
      {
        client_order_id: clientOrderId,
        user: args.userId,
        symbol: order.symbol,
        side: order.side,
        status: recorded.trade.status,
      },
      'order recorded',
    );
    return { kind: 'accepted', trade: recorded.trade };
  }

  private ensurePortfolio(name: string, userId: string): Promise<Portfolio> {
    const key = portfolioNameKey(name);
    let ensured = this.ensuring.get(key);
    if (!ensured) {
      ensured = this.portfolios.ensure(name, userId).finally(() => this.ensuring.delete(key));
      this.ensuring.set(key, ensured);
    }
    return ensured;
  }

  private async holdingOf(portfolioName: string, symbol: string, price: Dec | undefined): Promise<Sellable> {
    const match = await this.portfolios.findByName(portfolioName);
    return this.trades.sellableQuantity(match?.name ?? portfolioName, symbol, price);
  }

  private async lookupAsset(
    symbol: string,
    budgetMs?: number,
  ): Promise<{ kind: 'found'; asset: BrokerAsset } | { kind: 'unknown' } | { kind: 'unavailable'; reason: string }> {
    try {
      const asset = await (budgetMs ? within(budgetMs, this.broker.getAsset(symbol)) : this.broker.getAsset(symbol));
      return { kind: 'found', asset };
    } catch (err) {
      if (err instanceof BrokerError && (err.kind === 'invalid_symbol' || err.kind === 'not_found'))
        return { kind: 'unknown' };
      return { kind: 'unavailable', reason: describeError(err) };
    }
  }
}

/** Why a sell can't be recorded against what the portfolio can still sell, or undefined. */
function sellRefusal(
  portfolio: string,
  order: { symbol: string; qty?: Dec; notional?: Dec },
  sellable: Sellable,
  price: Dec | undefined,
): string | undefined {
  if (sellable.unpriced) return unpricedHoldingSentence(portfolio, order.symbol);
  const held = formatQty(Dec.max(sellable.qty, 0));
  if (order.qty?.gt(sellable.qty)) {
    return sellable.qty.lte(0)
      ? `${portfolio} has no ${order.symbol} left to sell once its open sell orders are counted.`
      : `${portfolio} can sell at most ${held} ${order.symbol} once its open sell orders are counted.`;
  }
  if (order.notional) {
    if (!price) return unpricedHoldingSentence(portfolio, order.symbol);
    if (order.notional.gt(sellable.qty.times(price))) {
      return (
        `${portfolio} can sell at most about ${formatUsd(Dec.max(sellable.qty.times(price), 0))} ` +
        `of ${order.symbol} (${held} shares) once its open sell orders are counted.`
      );
    }
  }
  return undefined;
}

function unpricedHoldingSentence(portfolio: string, symbol: string): string {
  return (
    `We can’t price ${symbol} right now, so we can’t check this sell against what ${portfolio} holds. ` +
    'Nothing was sent — try again in a moment.'
  );
}
