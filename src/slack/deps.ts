import type {
  AllMiddlewareArgs,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
  SlackCommandMiddlewareArgs,
  StaticSelectAction,
} from '@slack/bolt';
import type { Config } from '../config';
import type { ReconcileTrigger } from '../domain/reconciliation';
import type { InFlightWork } from '../lifecycle';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import type { DigestService } from '../services/digest';
import type { OrderApprovals } from '../services/order-approvals';
import type { OrderCanceller } from '../services/order-cancel';
import type { OrderEntryService } from '../services/order-entry';
import type { OrderSubmitter } from '../services/order-submission';
import type { PortfolioService } from '../services/portfolio-service';
import type { ReconcileService } from '../services/reconcile-service';
import type { SymbolSearch } from '../services/symbol-search';
import type { TraderPnlService } from '../services/trader-pnl';
import type { SlackAccess } from './access';
import type { SlackMessage } from './block-kit/limits';

/** The performance chart as an uploaded Slack file, for `image` blocks (`slack_file: { id }`). */
export interface ChartImage {
  fileId: string;
  altText: string;
}

export interface ChartImages {
  /**
   * The current chart's upload (a new one at most every 15 minutes); undefined when there is no chart
   * (Alpaca did not answer) or, unless `throwOnUploadFailure`, when Slack refused the upload.
   */
  current(options?: { throwOnUploadFailure?: boolean }): Promise<ChartImage | undefined>;
}

/** What the Home tab's publisher offers the listeners. */
export interface HomePublisher {
  publish(userId: string, options?: { page?: number }): Promise<void>;
}

/**
 * What listeners may use: services, who may do what, and the few things one surface asks of
 * another (wired in register.ts, so no surface imports another). Listeners ack first, parse, call
 * one service, then render.
 */
export interface ListenerDeps {
  config: Config;
  logger: Logger;
  inFlight: InFlightWork;
  access: SlackAccess;
  orderEntry: OrderEntryService;
  /** The order form's symbol type-ahead, answered from memory. */
  symbols: Pick<SymbolSearch, 'suggest'>;
  submitter: OrderSubmitter;
  canceller: OrderCanceller;
  portfolio: PortfolioService;
  /** Maker-checker approval of large orders (approve, reject, withdraw). */
  approvals: OrderApprovals;
  /** P&L per trader (`/portfolio traders`). */
  traderPnl: Pick<TraderPnlService, 'report'>;
  digest: DigestService;
  charts: ChartImages;
  home: HomePublisher;
  reconcile: ReconcileService;
  metrics: Metrics;
  /** Runs a reconciliation for an admin and answers with its summary (`/portfolio reconcile`, the Home tab button). */
  reconcileNow(args: {
    userId: string;
    trigger?: Extract<ReconcileTrigger, 'manual' | 'recheck'>;
  }): Promise<SlackMessage>;
  /** `/portfolio digest`: today's closing digest, for the caller alone (the digest surface answers). */
  digestFor(userId: string): Promise<SlackMessage>;
}

/** What Bolt hands a button's listener (every surface's buttons take the same). */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** What Bolt hands a static select's listener. */
export type SelectArgs = SlackActionMiddlewareArgs<BlockAction<StaticSelectAction>> & AllMiddlewareArgs;

/** What Bolt hands a slash command's listener. */
export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
