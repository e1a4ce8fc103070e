import type { Logger } from '../logger';
import type { Broker, BrokerOrder, TradeUpdateEvent, TradeUpdateSubscription } from '../broker/broker';
import { dec, type Dec } from '../domain/money';
import { isTerminal, tradeStatusFromBroker, type TradeStatus } from '../domain/order';
import type { Trade, TradePatch, TradeRepository } from '../db/repositories/trade-repository';
import { listOrdersSince } from './order-listing';
import type { TradeObserver } from './trade-observer';

/** How often open orders are polled while the trade_updates stream is down. */
const DEFAULT_POLL_INTERVAL_MS = 10_000;

const STATUS_RANK: Record<TradeStatus, number> = {
  pending_submit: 0,
  submitted: 1,
  accepted: 2,
  partially_filled: 3,
  filled: 4,
  canceled: 4,
  expired: 4,
  rejected: 4,
  failed: 4,
};

/**
 * Follows orders to their end: applies broker order snapshots (from the trade_updates stream, the
 * POST response, polls and reconciliation) to the books, stores every fill once, and tells the
 * observers. Updates for one order are applied one at a time so a late, older snapshot can never
 * overwrite a newer state.
 */
export class OrderTracker {
  private readonly queues = new Map<string, Promise<unknown>>();
  private subscription: TradeUpdateSubscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly trades: TradeRepository,
    private readonly broker: Broker,
    private readonly observer: TradeObserver,
    private readonly logger: Logger,
    private readonly options: { pollIntervalMs?: number; now?: () => Date } = {},
  ) {}

  /** Applies one broker view of an order; returns the updated trade, or undefined when the order is not ours. */
  applyOrder(order: BrokerOrder, execution?: TradeUpdateEvent['execution']): Promise<Trade | undefined> {
    const key = order.clientOrderId || order.id;
    const previous = this.queues.get(key) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.applyNow(order, execution));
    this.queues.set(key, next);
    const forget = () => {
      if (this.queues.get(key) === next) this.queues.delete(key);
    };
    next.then(forget, forget);
    return next;
  }

  /** Re-reads one order from the broker and applies it. */
  async refresh(alpacaOrderId: string): Promise<Trade | undefined> {
    return this.applyOrder(await this.broker.getOrder(alpacaOrderId));
  }

  /** Subscribes to trade_updates; while the stream is down, open orders are polled instead. */
  start(): void {
    this.stopped = false;
    this.subscription = this.broker.streamTradeUpdates({
      onUpdate: (update) => this.onStreamUpdate(update),
      onConnectionChange: (connected) => {
        if (connected) {
          this.stopPolling();
          // Events sent while we were away are not replayed: catch up once.
          this.pollOpenOrders().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'catching up open orders failed'));
        } else this.startPolling();
      },
    });
    this.subscription.ready.catch((err: unknown) => {
      this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'trade_updates stream not available; polling open orders');
      this.startPolling();
    });
  }

  streamConnected(): boolean {
    return this.subscription?.connected() ?? false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPolling();
    await this.subscription?.close().catch(() => undefined);
    this.subscription = undefined;
    await Promise.allSettled([...this.queues.values()]);
  }

  /** One paged order list for every order still open in the books: the fallback while the stream is down. */
  async pollOpenOrders(): Promise<number> {
    const open = (await this.trades.listUnsettled()).filter((t) => t.alpacaOrderId || t.status === 'submitted');
    if (open.length === 0) return 0;
    const oldest = open.reduce((min, t) => Math.min(min, (t.submittedAt ?? t.createdAt).getTime()), Number.POSITIVE_INFINITY);
    const orders = await listOrdersSince(this.broker, new Date(oldest - 60_000));
    const wanted = new Set(open.map((t) => t.clientOrderId));
    let applied = 0;
    for (const order of orders) {
      if (!wanted.has(order.clientOrderId)) continue;
      await this.applyOrder(order);
      applied += 1;
    }
    return applied;
  }

  private async onStreamUpdate(update: TradeUpdateEvent): Promise<void> {
    try {
      await this.applyOrder(update.order, update.execution);
    } catch (err) {
      this.logger.error({ err, order_id: update.order.id, event: update.event }, 'could not apply a trade update');
    }
  }

  private startPolling(): void {
    if (this.pollTimer || this.stopped) return;
    const interval = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.pollTimer = setInterval(() => {
      this.pollOpenOrders().catch((err: unknown) => this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'polling open orders failed'));
    }, interval);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }

  private async applyNow(order: BrokerOrder, execution?: TradeUpdateEvent['execution']): Promise<Trade | undefined> {
    const trade = (order.clientOrderId ? await this.trades.findByClientOrderId(order.clientOrderId) : null) ?? (await this.trades.findByAlpacaOrderId(order.id));
    if (!trade) return undefined;

    await this.storeFills(trade, order, execution);

    const incoming = tradeStatusFromBroker(order.status);
    // Never step backwards (a late snapshot after a newer one) — except out of 'failed', which is
    // only our guess that nothing was placed: when the broker shows the order, the broker wins.
    const keepStatus = trade.status !== 'failed' && STATUS_RANK[incoming] < STATUS_RANK[trade.status];
    const status = keepStatus ? trade.status : incoming;
    const filledQty = order.filledQty;
    const patch: TradePatch = {
      status,
      alpacaOrderId: order.id,
      alpacaStatus: keepStatus ? trade.alpacaStatus : order.status,
      alpacaFilledQty: filledQty,
      alpacaFilledPrice: order.filledAvgPrice ?? null,
      alpacaFilledAt: order.filledAt ?? null,
      submittedAt: trade.submittedAt ?? order.submittedAt ?? order.createdAt,
    };
    if (trade.status === 'submitted' || trade.errorCode === 'unavailable') {
      // A confirmation clears the "couldn't confirm" note left by an ambiguous failure.
      patch.errorCode = null;
      patch.errorMessage = null;
    }
    if (status === 'rejected' && !trade.errorMessage) patch.errorMessage = 'Alpaca rejected the order.';
    if (status === 'expired' && !trade.errorMessage) patch.errorMessage = 'The order expired before it was filled.';
    if (!trade.quantity && filledQty.gt(0) && isTerminal(status)) patch.quantity = filledQty;
    if (!trade.gmv && filledQty.gt(0) && order.filledAvgPrice && isTerminal(status)) patch.gmv = filledQty.times(order.filledAvgPrice).toDecimalPlaces(2);

    const updated = await this.trades.update(trade.id, patch);
    if (changed(trade, updated)) await this.observer.tradeChanged(updated);
    return updated;
  }

  /**
   * Stores the stream's execution when it fits under the broker's filled quantity, then adds one
   * catch-up fill for anything the broker reports filled that no stored execution covers (fills
   * that happened while we were down or the stream was away). The books never exceed the broker.
   */
  private async storeFills(trade: Trade, order: BrokerOrder, execution?: TradeUpdateEvent['execution']): Promise<void> {
    let stored = await this.trades.listFillsForTrade(trade.id);
    let storedQty = sum(stored.map((f) => f.qty));
    const at = order.filledAt ?? order.updatedAt ?? this.options.now?.() ?? new Date();
    if (execution && storedQty.plus(execution.qty).lte(order.filledQty)) {
      const inserted = await this.trades.recordFill({
        executionId: execution.id,
        tradeId: trade.id,
        symbol: trade.symbol,
        side: trade.side,
        qty: execution.qty,
        price: execution.price,
        portfolioName: trade.portfolioName,
        filledAt: at,
        source: 'broker',
      });
      if (inserted) {
        stored = await this.trades.listFillsForTrade(trade.id);
        storedQty = sum(stored.map((f) => f.qty));
      }
    }
    const missing = order.filledQty.minus(storedQty);
    if (missing.lte(0) || !order.filledAvgPrice) return;
    const storedValue = sum(stored.map((f) => f.qty.times(f.price)));
    const price = order.filledAvgPrice.times(order.filledQty).minus(storedValue).div(missing).toDecimalPlaces(6);
    await this.trades.recordFill({
      executionId: `order:${order.id}:${order.filledQty.toFixed()}`,
      tradeId: trade.id,
      symbol: trade.symbol,
      side: trade.side,
      qty: missing,
      price: price.gt(0) ? price : order.filledAvgPrice,
      portfolioName: trade.portfolioName,
      filledAt: at,
      source: 'broker',
    });
  }
}

function sum(values: Dec[]): Dec {
  return values.reduce((acc, v) => acc.plus(v), dec(0));
}

function changed(before: Trade, after: Trade): boolean {
  return (
    before.status !== after.status ||
    before.alpacaStatus !== after.alpacaStatus ||
    before.alpacaOrderId !== after.alpacaOrderId ||
    !eq(before.alpacaFilledQty, after.alpacaFilledQty) ||
    before.errorMessage !== after.errorMessage
  );
}

function eq(a: Dec | null, b: Dec | null): boolean {
  return a === null || b === null ? a === b : a.eq(b);
}
