import type { Broker } from '../broker/broker';
import type { DigestRepository, StoredDigest } from '../db/repositories/digest-repository';
import {
  countOrders,
  type DigestReport,
  type DigestTraders,
  digestPortfolio,
  newYorkDayWindow,
  topMovers,
} from '../domain/digest';
import { describeError } from '../domain/errors';
import { newYorkDate } from '../domain/market-hours';
import type { PortfolioService } from './portfolio-service';
import type { ReconcileService } from './reconcile-service';
import type { TraderPnlService } from './trader-pnl';

/**
 * A post whose outcome is unknown (Slack's answer timed out, the process died) blocks another post of
 * the day this long — well past the post's own 10 s timeout — and then the day is posted again: the
 * one case that can repeat a digest is Slack accepting a post whose answer never came back.
 */
export const POSTING_LAPSE_MS = 2 * 60_000;

/** Why a scheduled digest was or was not claimed for posting. */
export type ScheduledDigestOutcome =
  | { kind: 'claimed'; tradingDate: string }
  /** Another instance (or this one, before a restart) already claimed the day. */
  | { kind: 'already_claimed'; tradingDate: string }
  | { kind: 'market_closed'; tradingDate: string }
  | { kind: 'calendar_unavailable'; tradingDate: string; error: string };

/**
 * The closing digest, without Slack: what the day looked like (valued as the portfolio views value
 * it, per trader as the trader P&L report ranks it), and the once-per-trading-day claim of the
 * scheduled post.
 */
export class DigestService {
  private readonly now: () => Date;

  constructor(
    private readonly deps: {
      broker: Broker;
      portfolio: PortfolioService;
      traders: Pick<TraderPnlService, 'report'>;
      reconcile: Pick<ReconcileService, 'booksStatus'>;
      repository: DigestRepository;
      now?: () => Date;
    },
  ) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The digest of `tradingDate` (default: today in New York), valued now. */
  async report(tradingDate: string = newYorkDate(this.now())): Promise<DigestReport> {
    const { portfolio, repository } = this.deps;
    const window = newYorkDayWindow(tradingDate);
    const [overview, traders, counts, books, openAlert, trend] = await Promise.all([
      portfolio.overview(),
      this.traders(),
      repository.orderCountsBetween(window.from, window.to),
      this.deps.reconcile.booksStatus(),
      repository.latestOpenAlert(),
      portfolio.equityTrend(),
    ]);
    return {
      tradingDate,
      generatedAt: this.now(),
      account: overview.account,
      portfolios: overview.portfolios.map(digestPortfolio),
      totals: overview.totals,
      pricing: overview.pricing,
      traders,
      orders: countOrders(counts),
      ...(books
        ? {
            books: {
              ...books,
              ...(openAlert && books.openDiscrepancies > 0
                ? { openAlert: { channelId: openAlert.channelId, messageTs: openAlert.messageTs } }
                : {}),
            },
          }
        : {}),
      movers: topMovers(overview.portfolios.flatMap((p) => p.positions)),
      trend,
    };
  }

  /**
   * The scheduled run at `at`: on a trading day (Alpaca's calendar), claims the day for posting to
   * `channelId` — the claim and the outbox entry that posts it commit together, so exactly one
   * instance posts each day, even across a restart after posting.
   */
  async claimScheduled(at: Date, channelId: string, owner: string): Promise<ScheduledDigestOutcome> {
    const tradingDate = newYorkDate(at);
    try {
      const days = await this.deps.broker.getCalendar(tradingDate, tradingDate);
      if (!days.some((d) => d.date === tradingDate)) return { kind: 'market_closed', tradingDate };
    } catch (err) {
      return { kind: 'calendar_unavailable', tradingDate, error: describeError(err) };
    }
    const claimed = await this.deps.repository.claim(tradingDate, channelId, owner);
    return { kind: claimed ? 'claimed' : 'already_claimed', tradingDate };
  }

  find(tradingDate: string): Promise<StoredDigest | undefined> {
    return this.deps.repository.find(tradingDate);
  }

  /**
   * Claims posting the day's digest: false while another delivery is posting it (or did, with no
   * answer, less than POSTING_LAPSE_MS ago).
   */
  beginPosting(tradingDate: string): Promise<boolean> {
    return this.deps.repository.beginPosting(tradingDate, POSTING_LAPSE_MS);
  }

  endPosting(tradingDate: string): Promise<void> {
    return this.deps.repository.endPosting(tradingDate);
  }

  markPosted(tradingDate: string, messageTs: string): Promise<void> {
    return this.deps.repository.markPosted(tradingDate, messageTs);
  }

  private async traders(): Promise<DigestTraders> {
    try {
      return { kind: 'ok', report: await this.deps.traders.report() };
    } catch (err) {
      return { kind: 'unavailable', error: describeError(err) };
    }
  }
}
