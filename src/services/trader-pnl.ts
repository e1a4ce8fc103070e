import type { Broker } from '../broker/broker';
import type { StoredTraderFill, TraderPnlRepository } from '../db/repositories/trader-pnl-repository';
import { describeError } from '../domain/errors';
import type { Dec } from '../domain/money';
import {
  type AttributedBook,
  attributeFills,
  buildTraderPnlReport,
  foldFills,
  heldSymbols,
  type TraderPnlReport,
} from '../domain/trader-pnl';
import type { Logger } from '../logger';

/**
 * P&L per trader on the shared account (`/portfolio traders`, the closing digest): every fill
 * attributed to its trader, open lots priced with one batch of snapshots, as PortfolioService
 * prices the portfolios. Without prices (ledger-only mode, Alpaca down, a symbol with no trade)
 * the holders' unrealized P&L is reported unknown rather than 0.
 *
 * Fills are only ever added, so the attributed book is kept between reports and continued with
 * the fills added since; it is rebuilt from every fill when one arrives out of order (filled
 * earlier than the last one folded) or the count shows one committed behind a higher id.
 */
export class TraderPnlService {
  private readonly now: () => Date;
  /** The book so far: how many fills it holds, the highest fill id, and the latest filled_at (ms). */
  private folded?: { book: AttributedBook; count: number; maxId: number; lastAt: number };
  private refreshing?: Promise<AttributedBook>;

  constructor(
    private readonly broker: Broker,
    private readonly fills: TraderPnlRepository,
    private readonly logger?: Logger,
    options: { now?: () => Date } = {},
  ) {
    this.now = options.now ?? (() => new Date());
  }

  async report(): Promise<TraderPnlReport> {
    const [book, orders] = await Promise.all([this.book(), this.fills.ordersPerTrader()]);
    const prices = await this.prices(heldSymbols(book));
    return buildTraderPnlReport({ book, orders, prices, asOf: this.now() });
  }

  /**
   * Builds the book now, so the first report only reads the fills added since: at start-up the
   * full read is the slow part of a report (all fills, ~0.5 s at 100,000).
   */
  async warm(): Promise<void> {
    await this.book();
  }

  /** Concurrent reports share one refresh. */
  private book(): Promise<AttributedBook> {
    this.refreshing ??= this.refresh().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refresh(): Promise<AttributedBook> {
    const folded = this.folded;
    if (folded) {
      const newer = await this.fills.fillsAfter(folded.maxId);
      const newMaxId = maxId(newer, folded.maxId);
      const count = await this.fills.fillCount(newMaxId);
      // Every newer fill has a higher id, so it follows in fold order unless it was filled earlier.
      if (count === folded.count + newer.length && (newer[0]?.filledAt ?? folded.lastAt) >= folded.lastAt) {
        // A fold that fails half-way leaves the book half-changed: forget it, so the next report rebuilds.
        this.folded = undefined;
        foldFills(folded.book, newer);
        this.folded = {
          book: folded.book,
          count,
          maxId: newMaxId,
          lastAt: newer.at(-1)?.filledAt ?? folded.lastAt,
        };
        return folded.book;
      }
    }
    const started = Date.now();
    const fills = await this.fills.fillsInOrder();
    // Read after the fills: a later fill only makes the next refresh rebuild sooner than needed.
    const lastAt = await this.fills.latestFilledAt();
    const book = attributeFills(fills);
    this.folded = { book, count: fills.length, maxId: maxId(fills, 0), lastAt };
    this.logger?.info({ fills: fills.length, ms: Date.now() - started }, 'P&L per trader: book built from every fill');
    return book;
  }

  /** One batched snapshot request; a failure leaves every symbol unpriced instead of failing the report. */
  private async prices(symbols: readonly string[]): Promise<Map<string, Dec | undefined>> {
    if (this.broker.kind === 'ledger' || symbols.length === 0) return new Map();
    try {
      const snapshots = await this.broker.getSnapshots(symbols);
      return new Map(symbols.map((s) => [s, snapshots.get(s)?.lastPrice]));
    } catch (err) {
      this.logger?.warn({ err: describeError(err) }, 'no prices for P&L per trader; unrealized shown as unknown');
      return new Map();
    }
  }
}

function maxId(fills: readonly StoredTraderFill[], from: number): number {
  let max = from;
  for (const fill of fills) if (fill.id > max) max = fill.id;
  return max;
}
