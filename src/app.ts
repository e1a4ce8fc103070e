import { setTimeout as sleep } from 'node:timers/promises';
import type { MikroORM } from '@mikro-orm/core';
import { App, SocketModeReceiver } from '@slack/bolt';
import { ErrorCode, WebClient } from '@slack/web-api';
import packageJson from '../package.json';
import { createBroker } from './broker';
import type { Broker } from './broker/broker';
import { CachedBroker } from './broker/cached-broker';
import type { Config } from './config';
import { databaseLabel, initORM, migrateToLatest } from './db/orm';
import { ApiKeyRepository } from './db/repositories/api-key-repository';
import { ApprovalRepository } from './db/repositories/approval-repository';
import { DigestRepository } from './db/repositories/digest-repository';
import { FillHistoryRepository } from './db/repositories/fill-history-repository';
import { OrderHistoryRepository } from './db/repositories/order-history-repository';
import { OutboxRepository } from './db/repositories/outbox-repository';
import { PortfolioRepository } from './db/repositories/portfolio-repository';
import { PositionRepository } from './db/repositories/position-repository';
import { ReconcileRepository } from './db/repositories/reconcile-repository';
import { TradeRepository } from './db/repositories/trade-repository';
import { TraderPnlRepository } from './db/repositories/trader-pnl-repository';
import { UserPreferenceRepository } from './db/repositories/user-preference-repository';
import { BrokerError, describeError } from './domain/errors';
import { dec } from './domain/money';
import { startHttpServer } from './http/server';
import { startLeaderDuties } from './jobs/leader-duties';
import { OutboxWorker } from './jobs/outbox-worker';
import { cachedProbe, InFlightWork, newInstanceId, Signal } from './lifecycle';
import type { Logger } from './logger';
import { Metrics } from './metrics';
import { ApiKeyService } from './services/api-keys';
import { ApiOrderService } from './services/api-orders';
import { DigestService, type ScheduledDigestOutcome } from './services/digest';
import { OrderApprovals } from './services/order-approvals';
import { OrderCanceller } from './services/order-cancel';
import { OrderConfirmations } from './services/order-confirmations';
import { OrderEntryService } from './services/order-entry';
import { OrderQueries } from './services/order-queries';
import { OrderSettler } from './services/order-settlement';
import { OrderSubmitter } from './services/order-submission';
import { OrderTracker } from './services/order-tracker';
import { PerformanceChartService } from './services/performance-chart';
import { PortfolioService } from './services/portfolio-service';
import { ReconcileService } from './services/reconcile-service';
import { SubmissionLeases } from './services/submission-lease';
import { SymbolSearch } from './services/symbol-search';
import { TraderPnlService } from './services/trader-pnl';
import { SlackAccess } from './slack/access';
import { buildHomeApprovalBlocks } from './slack/approvals/approval-message';
import { SlackApprovalNotifier, toApprovalRequestView } from './slack/approvals/approval-notifier';
import { classifySlackFailure, slackErrorCode } from './slack/block-kit/slack-errors';
import { boltLogger } from './slack/bolt-logger';
import { SlackChartImages } from './slack/chart-images';
import { DigestPublisher } from './slack/digest/digest-publisher';
import { HomeTab } from './slack/home/home-tab';
import { slackNotificationHandlers } from './slack/notifications';
import { SlackReconcileNotifier } from './slack/reconcile/reconcile-notifier';
import { registerListeners } from './slack/register';
import { SlackOrderMessenger } from './slack/trade/order-messenger';

/** Composition root: the only place that knows every part. Plain constructors, no DI framework. */

export const APP_VERSION: string = packageJson.version;

/** Health may be polled constantly; Alpaca is asked at most this often. */
const ALPACA_PROBE_TTL_MS = 30_000;
/** Requests a minute per API key; orders are paced again on the way to Alpaca (200 a minute per account). */
const API_REQUESTS_PER_MINUTE = 600;
/** How long start-up's first Slack call may take before the app says it can't reach Slack. */
const STARTUP_SLACK_TIMEOUT_MS = 10_000;
/** Requests listed on an approver's Home tab (two blocks each, inside the tab's 100). */
const APPROVALS_ON_HOME = 8;
/** Shutdown budget for in-flight work, inside the 10 s the process has to exit. */
const DRAIN_TIMEOUT_MS = 6_000;
/** One Slack call for the books may take this long; the outbox, not the client, retries it. */
const OUTBOX_SLACK_TIMEOUT_MS = 10_000;
/** After readiness, so start-up's own work (settling orders, the asset list) goes first. */
const TRADER_PNL_WARM_DELAY_MS = 1_000;

export interface RunningApp {
  /** Where health, probes and the API answer. */
  httpPort: number;
  summary: string;
  /** Reconciliation on demand (operators' tools, tests); the leader also runs it on RECONCILE_CRON. */
  reconcile: ReconcileService;
  /**
   * What DIGEST_CRON runs, as if the clock said `at` (tests): undefined unless this instance leads and
   * DIGEST_CHANNEL_ID is set.
   */
  runScheduledDigest(at: Date): Promise<ScheduledDigestOutcome | undefined>;
  /**
   * Resolves once everything written to the outbox so far has been delivered (or given up); rejects
   * after `timeoutMs`.
   */
  outboxDrained(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export class StartupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartupError';
  }
}

export async function startApp(config: Config, logger: Logger): Promise<RunningApp> {
  const startedAt = Date.now();
  const inFlight = new InFlightWork();
  const cleanup: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const step of cleanup.reverse()) {
      await step().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
    }
  };

  try {
    const orm = await initORM(config.database, { logger });
    cleanup.push(() => orm.close(true));
    const applied = await migrateToLatest(orm);
    if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

    const metrics = new Metrics();
    const broker = createBroker(config, logger, metrics);
    const brokerLabel = await describeBroker(broker, config.alpaca.baseUrl, logger);

    const receiver = new SocketModeReceiver({
      appToken: config.slack.appToken,
      logger: boltLogger(logger),
      installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
    });
    let slackConnected = false;
    receiver.client.on('connected', () => {
      slackConnected = true;
      logger.info('Slack socket connected');
    });
    receiver.client.on('disconnected', () => {
      slackConnected = false;
      logger.warn('Slack socket disconnected');
    });
    // The client emits nothing between a dropped socket and its delayed reconnect but 'close'.
    for (const event of ['close', 'reconnecting']) {
      receiver.client.on(event, () => {
        slackConnected = false;
      });
    }
    // A few quick retries, not the client's half hour: at start-up a clear sentence beats waiting.
    const web = new WebClient(config.slack.botToken, {
      slackApiUrl: config.slack.apiUrl,
      logger: boltLogger(logger),
      timeout: STARTUP_SLACK_TIMEOUT_MS,
      retryConfig: { retries: 2, factor: 2, minTimeout: 500, maxTimeout: 2_000 },
    });
    const team = await web.auth.test().catch((err: unknown) => {
      if ((err as { code?: string }).code === ErrorCode.PlatformError) {
        throw new StartupError(
          `Slack refused the bot token (${slackErrorCode(err)}). Check SLACK_BOT_TOKEN and that the app is installed.`,
        );
      }
      throw new StartupError(
        `Could not reach Slack at ${config.slack.apiUrl} (${requestFailure(err)}). ` +
          'Check the network (a proxy or firewall) and SLACK_API_URL.',
      );
    });
    // Identity comes from our own auth.test so Bolt need not verify the token again in its constructor.
    const slack = new App({
      token: config.slack.botToken,
      botId: team.bot_id,
      botUserId: team.user_id,
      tokenVerificationEnabled: false,
      receiver,
      logger: boltLogger(logger),
      clientOptions: { slackApiUrl: config.slack.apiUrl },
    });
    slack.error(async (error) => {
      logger.error({ err: error }, 'unhandled error in a Slack listener');
    });

    const instanceId = newInstanceId();
    const now = () => new Date();
    const outboxWritten = new Signal();
    const notified = () => outboxWritten.notify();
    const trades = new TradeRepository(orm, now, notified);
    const portfolios = new PortfolioRepository(orm);
    const reconcileRepository = new ReconcileRepository(orm, now, notified);
    const outboxRepository = new OutboxRepository(orm, now);

    const tracker = new OrderTracker(trades, broker, logger, { metrics });
    const leases = new SubmissionLeases(trades, instanceId, now);
    const approvals = new OrderApprovals(
      trades,
      new ApprovalRepository(orm),
      new PositionRepository(orm),
      // The submitter is built below; approval hands an order to it only at run time.
      { submit: (tradeId) => submitter.submit(tradeId) },
      broker,
      logger,
      {
        policy: {
          thresholdNotional: config.approvals.thresholdNotional ? dec(config.approvals.thresholdNotional) : undefined,
          approverUserIds: config.approvals.approverUserIds,
          ttlMinutes: config.approvals.ttlMinutes,
          maxPriceMovePct: dec(config.approvals.maxPriceMovePct),
        },
        freshQuotes: broker instanceof CachedBroker ? (symbols) => broker.getFreshSnapshots(symbols) : undefined,
      },
    );
    const orderEntry = new OrderEntryService(trades, portfolios, broker, logger, {
      maxOrderNotional: dec(config.maxOrderNotional),
      approvals: approvals.enabled ? approvals : undefined,
    });
    const submitter = new OrderSubmitter(trades, broker, tracker, leases, logger, { metrics });
    const settler = new OrderSettler(trades, broker, tracker, submitter, leases, logger, { metrics });
    const canceller = new OrderCanceller(trades, broker, tracker, logger, approvals);
    const reconcile = new ReconcileService({
      repository: reconcileRepository,
      trades,
      portfolios,
      broker,
      applyOrder: (order) => tracker.applyOrder(order),
      settleUnsettled: (options) => settler.settleUnsettled(options),
      logger,
      metrics,
    });
    const portfolio = new PortfolioService(
      broker,
      portfolios,
      new PositionRepository(orm),
      new OrderHistoryRepository(orm),
      new UserPreferenceRepository(orm),
    );
    const performanceChart = new PerformanceChartService(broker, new FillHistoryRepository(orm), portfolios, {
      logger,
    });
    const traderPnl = new TraderPnlService(broker, new TraderPnlRepository(orm), logger);
    const digest = new DigestService({
      broker,
      portfolio,
      traders: traderPnl,
      reconcile,
      repository: new DigestRepository(orm, now, notified),
    });

    // Slack calls made for the books (confirmations, Home tabs, alerts) fail fast: the outbox
    // retries them, not the client.
    const boundedClient = new WebClient(config.slack.botToken, {
      slackApiUrl: config.slack.apiUrl,
      logger: boltLogger(logger),
      timeout: OUTBOX_SLACK_TIMEOUT_MS,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
    });
    const access = new SlackAccess(config);
    // One upload of the performance chart serves the Home tabs and the digest for 15 minutes.
    const charts = new SlackChartImages(boundedClient, performanceChart, logger);
    const home = new HomeTab(boundedClient, portfolio, logger, {
      access,
      charts,
      approvals: async (userId) => {
        if (!approvals.enabled) return undefined;
        const pending = await approvals.pendingFor(userId, APPROVALS_ON_HOME);
        return buildHomeApprovalBlocks(
          pending.toDecide.map(toApprovalRequestView),
          pending.mine.map(toApprovalRequestView),
          pending.toDecideTotal,
        );
      },
      books: async () => {
        const status = await reconcile.booksStatus();
        return status && { ...status, channelId: config.reconcileChannelId };
      },
    });
    const outbox = new OutboxWorker(
      outboxRepository,
      slackNotificationHandlers({
        messenger: new SlackOrderMessenger(
          boundedClient,
          new OrderConfirmations(trades, broker, { approvers: approvals.approvers, ttlMinutes: approvals.ttlMinutes }),
          logger,
        ),
        approvals: new SlackApprovalNotifier(boundedClient, approvals, config.approvals.channelId, logger),
        home,
        alerts: new SlackReconcileNotifier(boundedClient, reconcile, config.reconcileChannelId, logger),
        digest: new DigestPublisher(boundedClient, digest, charts, logger),
      }),
      classifySlackFailure,
      logger.child({ component: 'outbox' }),
      { owner: instanceId, metrics },
    );
    outboxWritten.subscribe(() => outbox.wake());
    const symbols = new SymbolSearch(broker, logger);
    registerListeners(slack, {
      config,
      logger,
      inFlight,
      access,
      orderEntry,
      symbols,
      submitter,
      canceller,
      portfolio,
      approvals,
      traderPnl,
      digest,
      charts,
      home,
      reconcile,
      metrics,
    });

    await slack.start().catch((err: unknown) => {
      throw new StartupError(
        `Could not open the Slack socket-mode connection (${slackErrorCode(err)}). ` +
          'Check SLACK_APP_TOKEN (xapp-…, with connections:write) and that socket mode is on.',
      );
    });
    cleanup.push(() => slack.stop());
    outbox.start();
    cleanup.push(() => outbox.stop());

    // The asset list feeds the symbol type-ahead and warms the broker's asset cache, so order
    // validation inside Slack's ack window never waits on Alpaca; reloaded daily, retried on failure.
    symbols.start();
    cleanup.push(async () => symbols.stop());
    await inFlight
      .run(() => settler.settleUnsettled())
      .catch((err: unknown) =>
        logger.warn({ err: describeError(err) }, 'settling orders left in flight failed; the next pass retries'),
      );
    // Only the leader consumes trade_updates and runs the scheduler (SQLite: always this instance).
    const leaderDuties = await startLeaderDuties({
      database: config.database,
      tracker,
      settler,
      reconcile,
      reconcileCron: config.reconcileCron,
      // Even with approval off: requests left from when it was on must still end (one cheap query a minute).
      expireApprovals: () => approvals.expireOverdue(),
      ...(config.digest.channelId
        ? {
            digest: {
              cron: config.digest.cron,
              claim: (at: Date) => digest.claimScheduled(at, config.digest.channelId ?? '', instanceId),
            },
          }
        : {}),
      inFlight,
      logger,
    });
    cleanup.push(() => leaderDuties.stop());
    metrics.observe({
      outboxBacklog: () => outboxRepository.count(),
      openDiscrepancies: async () => (await reconcile.booksStatus())?.openDiscrepancies ?? 0,
      isLeader: () => leaderDuties.isLeader(),
    });

    const probeAlpaca = cachedProbe(ALPACA_PROBE_TTL_MS, () =>
      broker.getClock().then(
        () => true,
        () => false,
      ),
    );
    const queries = new OrderQueries(trades);
    const apiKeys = new ApiKeyRepository(orm, now);
    const http = await startHttpServer(
      {
        version: APP_VERSION,
        logger: logger.child({ component: 'http' }),
        health: {
          version: APP_VERSION,
          useAlpaca: config.useAlpaca,
          startedAt,
          checkDatabase: () => pingDatabase(orm),
          slackConnected: () => slackConnected,
          alpacaConnected: probeAlpaca,
          leaderStreamListening: () =>
            config.useAlpaca && leaderDuties.isLeader() ? tracker.streamConnected : undefined,
        },
        api: {
          keys: new ApiKeyService(apiKeys, config.api.legacyKey),
          orders: new ApiOrderService(orderEntry, submitter, queries, apiKeys, {
            fillWaitMs: config.api.fillWaitMs,
            confirmationChannelId: config.api.ordersChannelId,
          }),
          queries,
          entry: orderEntry,
          canceller,
          portfolio,
          traderPnl,
          mayTrade: (userId) => access.mayTrade(userId),
          requestsPerMinute: API_REQUESTS_PER_MINUTE,
          inFlight,
          metrics,
        },
        metrics,
      },
      config.port,
    ).catch((err: unknown) => {
      if ((err as { code?: string }).code === 'EADDRINUSE') {
        throw new StartupError(
          `Port ${config.port} is already in use (another Slack OMS, or another server): stop it or set PORT.`,
        );
      }
      throw err;
    });
    cleanup.push(() => http.close());

    const summary =
      `Slack OMS ${APP_VERSION} ready — ` +
      `Slack team ${team.team ?? '?'} (${team.team_id ?? '?'}) as ${team.user ?? 'bot'}; ${brokerLabel}; ` +
      `database ${databaseLabel(config.database)}; health on :${http.port} (API under /api/v1)`;
    logger.info({ startup_ms: Date.now() - startedAt }, summary);
    // The first `/portfolio traders` or digest would read every fill (~0.5 s at 100,000): build that
    // book in the background instead; on failure the first report builds it.
    const warmTraderPnl = setTimeout(() => {
      traderPnl
        .warm()
        .catch((err: unknown) => logger.warn({ err: describeError(err) }, 'warming P&L per trader failed'));
    }, TRADER_PNL_WARM_DELAY_MS).unref();
    cleanup.push(async () => clearTimeout(warmTraderPnl));

    let stopped: Promise<void> | undefined;
    return {
      httpPort: http.port,
      summary,
      reconcile,
      runScheduledDigest: (at) => leaderDuties.runScheduledDigest(at),
      outboxDrained: async (timeoutMs = 15_000) => {
        const deadline = Date.now() + timeoutMs;
        while ((await outboxRepository.count()) > 0) {
          if (Date.now() > deadline)
            throw new Error(`the outbox still holds ${await outboxRepository.count()} entries after ${timeoutMs} ms`);
          await sleep(20);
        }
      },
      stop: () => {
        stopped ??= (async () => {
          inFlight.stopAccepting();
          logger.info({ in_flight: inFlight.size }, 'shutting down');
          await slack.stop().catch(() => undefined);
          const drained = await inFlight.drain(DRAIN_TIMEOUT_MS);
          if (!drained)
            logger.warn(
              { in_flight: inFlight.size },
              'abandoning unfinished work; it is settled from the broker at the next start',
            );
          await stopAll();
          logger.info('stopped');
        })();
        return stopped;
      },
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

async function describeBroker(broker: Broker, baseUrl: string, logger: Logger): Promise<string> {
  if (broker.kind === 'ledger') return 'ledger-only (USE_ALPACA=false, no broker calls)';
  try {
    const account = await broker.getAccount();
    return `Alpaca paper account ${account.accountNumber} (${account.status})`;
  } catch (err) {
    if (err instanceof BrokerError && err.kind === 'unauthorized') {
      throw new StartupError(
        'Alpaca refused the API keys. ' +
          'Check ALPACA_API_KEY_ID and ALPACA_SECRET_KEY (paper keys), or set USE_ALPACA=false.',
      );
    }
    const reason = describeError(err);
    logger.warn(
      `Could not reach Alpaca at ${baseUrl} (${reason}). Check the network and ALPACA_BASE_URL; ` +
        'orders are refused until Alpaca answers, and the app keeps trying.',
    );
    return `Alpaca unreachable at start (${reason}); will keep retrying`;
  }
}

/** Why a request got no answer, as specific as the error allows (ECONNREFUSED, ENOTFOUND, a timeout). */
function requestFailure(err: unknown): string {
  const original = (err as { original?: { cause?: { code?: string; message?: string }; message?: string } }).original;
  return original?.cause?.code ?? original?.cause?.message ?? original?.message ?? slackErrorCode(err);
}

async function pingDatabase(orm: MikroORM): Promise<boolean> {
  await orm.em.fork().getConnection().execute('select 1');
  return true;
}
