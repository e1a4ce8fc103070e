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
import type { OrderCanceller } from '../services/order-cancel';
import type { OrderEntryService } from '../services/order-entry';
import type { OrderSubmitter } from '../services/order-submission';
import type { PortfolioService } from '../services/portfolio-service';
import type { ReconcileService } from '../services/reconcile-service';
import type { SlackAccess } from './access';
import type { SlackMessage } from './block-kit/limits';

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
  submitter: OrderSubmitter;
  canceller: OrderCanceller;
  portfolio: PortfolioService;
  home: HomePublisher;
  reconcile: ReconcileService;
  metrics: Metrics;
  /** Runs a reconciliation for an admin and answers with its summary (`/portfolio reconcile`, the Home tab button). */
  reconcileNow(args: {
    userId: string;
    trigger?: Extract<ReconcileTrigger, 'manual' | 'recheck'>;
  }): Promise<SlackMessage>;
}

/** What Bolt hands a button's listener (every surface's buttons take the same). */
export type ButtonArgs = SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs;

/** What Bolt hands a static select's listener. */
export type SelectArgs = SlackActionMiddlewareArgs<BlockAction<StaticSelectAction>> & AllMiddlewareArgs;

/** What Bolt hands a slash command's listener. */
export type CommandArgs = SlackCommandMiddlewareArgs & AllMiddlewareArgs;
