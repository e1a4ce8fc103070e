import type { WebClient } from '@slack/web-api';
import { describeError } from '../../domain/errors';
import type { Logger } from '../../logger';
import type { PortfolioService } from '../../services/portfolio-service';
import type { SlackAccess } from '../access';
import { slackErrorCode } from '../block-kit/slack-errors';
import type { ChartImages } from '../deps';
import { buildHomeView, type HomeViewOptions } from './home-view';

interface UserQueue {
  /** Settles with the outcome of the last render this queue ran. */
  running: Promise<void>;
  /** A publish asked for while one was running: done once, afterwards, with the latest page. */
  again?: { page: number };
}

/**
 * Publishes each user's Home tab: when they open it, act on it, or (through the outbox) their
 * orders change. Publishes
 * for one user run one at a time and a burst collapses into one more publish, so the tab always
 * ends on the freshest state and a stale render never overwrites a newer one. When the month of
 * equity is not cached, the tab is published at once and again when it arrives, so no single
 * render waits on (or spends) more than the account, the quotes and, twice a day, the clock.
 */
export class HomeTab {
  private readonly queues = new Map<string, UserQueue>();

  constructor(
    private readonly client: WebClient,
    private readonly portfolio: PortfolioService,
    private readonly logger: Logger,
    private readonly options: {
      /** Who sees the admin buttons and the account; with none, nobody is an admin and everyone sees the account. */
      access?: Pick<SlackAccess, 'isAdmin' | 'mayViewAccount'>;
      /** Whether the books matched Alpaca at the last reconciliation. */
      books?: () => Promise<HomeViewOptions['books']>;
      /** The performance chart as an uploaded file (reused for 15 minutes); none: the text trend alone. */
      charts?: ChartImages;
      /** The viewer's approvals section (requests awaiting their decision, their own pending requests). */
      approvals?: (userId: string) => Promise<HomeViewOptions['approvals']>;
    } = {},
  ) {}

  /** Resolves when the tab shows the state as of this call (or later). Never throws: failures are logged. */
  publish(userId: string, options: { page?: number } = {}): Promise<void> {
    return this.refresh(userId, options).catch((err: unknown) => {
      this.logger.warn({ user: userId, error: slackErrorCode(err) }, 'could not publish the Home tab');
    });
  }

  /** Like publish, but a failure is thrown: the outbox retries it. */
  refresh(userId: string, options: { page?: number } = {}): Promise<void> {
    const page = options.page ?? 0;
    const queue = this.queues.get(userId);
    if (queue) {
      queue.again = { page };
      return queue.running;
    }
    const entry: UserQueue = { running: Promise.resolve() };
    this.queues.set(userId, entry);
    entry.running = (async () => {
      let next: { page: number } | undefined = { page };
      let failure: unknown;
      while (next) {
        entry.again = undefined;
        failure = await this.render(userId, next.page).then(
          () => undefined,
          (err: unknown) => err ?? new Error('Home tab render failed'),
        );
        next = entry.again;
      }
      this.queues.delete(userId);
      if (failure) throw failure;
    })();
    return entry.running;
  }

  private async render(userId: string, page: number): Promise<void> {
    const mayViewAccount = this.options.access?.mayViewAccount(userId) ?? true;
    const [full, books, chart] = await Promise.all([
      this.portfolio.home(userId),
      // The tab is still worth showing when the reconciliation status cannot be read.
      (this.options.books?.() ?? Promise.resolve(undefined)).catch((err: unknown) => {
        this.logger.warn({ err: describeError(err) }, 'could not read the reconciliation status for the Home tab');
        return undefined;
      }),
      mayViewAccount ? this.options.charts?.current() : undefined,
    ]);
    const report = mayViewAccount
      ? full
      : { ...full, account: { kind: 'restricted' as const }, trend: { kind: 'restricted' as const } };
    const approvals = await (this.options.approvals?.(userId) ?? Promise.resolve(undefined)).catch((err: unknown) => {
      this.logger.warn({ err: describeError(err) }, 'could not read pending approvals for the Home tab');
      return undefined;
    });
    const options = { page, isAdmin: this.options.access?.isAdmin(userId) ?? false, books, chart, approvals };
    await this.client.views.publish({ user_id: userId, view: buildHomeView(report, options) });
    if (report.trend.kind !== 'pending') return;
    const trend = await this.portfolio.equityTrend();
    await this.client.views.publish({ user_id: userId, view: buildHomeView({ ...report, trend }, options) });
  }
}
