import type { Broker, BrokerOrder, TradeUpdateEvent, TradeUpdateSubscription } from '../broker/broker';
import type { TradeRepository } from '../db/repositories/trade-repository';
import { describeError } from '../domain/errors';
import type { TradeStatus } from '../domain/order';
import { planOrderUpdate } from '../domain/order-updates';
import type { Trade } from '../domain/trade';
import { KeyedQueue } from '../lifecycle';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { listOrdersCovering } from './order-listing';

/** How often open orders are polled while the trade_updates stream is down. */
const DEFAULT_POLL_INTERVAL_MS = 10_000;

/**
 * Follows orders to their end: applies broker order snapshots (from the trade_updates stream, the
 * POST response, polls and reconciliation) to the books. Each snapshot is applied under the order's
 * row lock (see TradeRepository.applyUnderLock and planOrderUpdate), so every fill is stored once
 * and a late, older snapshot never overwrites a newer state, whichever instance applies it. Nothing
 * here waits on Slack: what traders are told goes through the outbox, written with the change.
 */
export class OrderTracker {
  /** Snapshots of one order are applied one at a time in this process, so they don't contend for its lock. */
  private readonly queue = new KeyedQueue();
  private subscription: TradeUpdateSubscription | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly trades: TradeRepository,
    private readonly broker: Broker,
    private readonly logger: Logger,
    private readonly options: { pollIntervalMs?: number; now?: () => Date; metrics?: Metrics } = {},
  ) {}

  /** Applies one broker view of an order; returns the updated trade, or undefined when the order is not ours. */
  async applyOrder(order: BrokerOrder, execution?: TradeUpdateEvent['execution']): Promise<Trade | undefined> {
    return (await this.apply(order, execution)).trade;
  }

  /** applyOrder, also saying how many fills it stored. */
  private async apply(
    order: BrokerOrder,
    execution?: TradeUpdateEvent['execution'],
  ): Promise<{ trade: Trade | undefined; newFills: number }> {
    let before: TradeStatus | undefined;
    let newFills = 0;
    const trade = await this.queue.run(order.clientOrderId || order.id, () =>
      this.trades.applyUnderLock(
        { clientOrderId: order.clientOrderId || undefined, alpacaOrderId: order.id },
        (current, stored) => {
          const plan = planOrderUpdate(current, stored, order, execution, this.now());
          before = current.status;
          newFills = plan.fills.length;
          return plan;
        },
      ),
    );
    if (trade) this.options.metrics?.orderApplied(trade, before, newFills);
    return { trade, newFills: trade ? newFills : 0 };
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
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
          this.pollOpenOrders().catch((err: unknown) =>
            this.logger.warn({ err: describeError(err) }, 'catching up open orders failed'),
          );
        } else this.startPolling();
      },
    });
    this.subscription.ready.catch((err: unknown) => {
      this.logger.warn({ err: describeError(err) }, 'trade_updates stream not available; polling open orders');
      this.startPolling();
    });
  }

  /** Whether the trade_updates stream is connected right now (false while polling instead). */
  get streamConnected(): boolean {
    return this.subscription?.connected() ?? false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopPolling();
    await this.subscription?.close().catch(() => undefined);
    this.subscription = undefined;
    await this.queue.idle();
  }

  /** One paged order list for every order still open in the books: the fallback while the stream is down. */
  async pollOpenOrders(): Promise<number> {
    const open = (await this.trades.listUnsettled()).filter((t) => t.alpacaOrderId || t.status === 'submitted');
    if (open.length === 0) return 0;
    const orders = await listOrdersCovering(this.broker, open);
    const wanted = new Set(open.map((t) => t.clientOrderId));
    let applied = 0;
    for (const order of orders) {
      if (!wanted.has(order.clientOrderId)) continue;
      // One order the books can't take must not keep the others from being brought up to date.
      try {
        await this.applyOrder(order);
        applied += 1;
      } catch (err) {
        this.logger.error(
          { err: describeError(err), client_order_id: order.clientOrderId },
          'could not apply a polled order; the next pass retries',
        );
      }
    }
    return applied;
  }

  private async onStreamUpdate(update: TradeUpdateEvent): Promise<void> {
    try {
      const { newFills } = await this.apply(update.order, update.execution);
      if (newFills > 0) this.options.metrics?.fillStored(update.at, new Date());
    } catch (err) {
      this.logger.error({ err, order_id: update.order.id, event: update.event }, 'could not apply a trade update');
    }
  }

  private startPolling(): void {
    if (this.pollTimer || this.stopped) return;
    const interval = this.options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.pollTimer = setInterval(() => {
      this.pollOpenOrders().catch((err: unknown) =>
        this.logger.warn({ err: describeError(err) }, 'polling open orders failed'),
      );
    }, interval);
    this.pollTimer.unref();
  }

  private stopPolling(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.pollTimer = undefined;
  }
}
