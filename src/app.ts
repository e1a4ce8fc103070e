import type { Server } from 'node:http';
import { App, SocketModeReceiver } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import type { MikroORM } from '@mikro-orm/core';
import type { Config } from './config';
import type { Logger } from './logger';
import { BrokerError } from './domain/errors';
import { createBroker } from './broker';
import type { Broker } from './broker/broker';
import { databaseLabel, initORM, migrateToLatest } from './db/orm';
import { startHealthServer } from './http/health';
import { InFlightWork, cachedProbe } from './lifecycle';
import { boltLogger } from './slack/bolt-logger';
import { slackErrorCode } from './slack/errors';
import { registerListeners } from './slack/listeners';
import { SlackOrderMessenger } from './slack/order-messenger';
import { HomeTab } from './slack/home-tab';
import { TradeRepository } from './db/repositories/trade-repository';
import { PortfolioRepository } from './db/repositories/portfolio-repository';
import { PositionRepository } from './db/repositories/position-repository';
import { OrderHistoryRepository } from './db/repositories/order-history-repository';
import { UserPreferenceRepository } from './db/repositories/user-preference-repository';
import { PortfolioService } from './services/portfolio-service';
import { OrderTracker } from './services/order-tracker';
import { TradeService, describeError } from './services/trade-service';
import { combineObservers } from './services/trade-observer';
import { ReconcileRepository } from './db/repositories/reconcile-repository';
import { ReconcileService } from './services/reconcile-service';
import { SlackReconcileNotifier } from './slack/reconcile-notifier';
import { startLeaderDuties } from './jobs/leader-duties';
import { dec } from './domain/money';
import packageJson from '../package.json';

/** Composition root: the only place that knows every part. Plain constructors, no DI framework. */

export const APP_VERSION: string = packageJson.version;

/** Health may be polled constantly; Alpaca is asked at most this often. */
const ALPACA_PROBE_TTL_MS = 30_000;
/** Shutdown budget for in-flight work, inside the 10 s the process has to exit. */
const DRAIN_TIMEOUT_MS = 6_000;

export interface RunningApp {
  healthPort: number;
  summary: string;
  /** Reconciliation on demand (operators' tools, tests); the leader also runs it on RECONCILE_CRON. */
  reconcile: ReconcileService;
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

    const broker = createBroker(config, logger);
    const brokerLabel = await describeBroker(broker);

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
    const web = new WebClient(config.slack.botToken, { slackApiUrl: config.slack.apiUrl, logger: boltLogger(logger) });
    const team = await web.auth.test().catch((err: unknown) => {
      throw new StartupError(`Slack refused the bot token (${slackErrorCode(err)}). Check SLACK_BOT_TOKEN and that the app is installed.`);
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

    const trades = new TradeRepository(orm);
    const portfolios = new PortfolioRepository(orm);
    const portfolio = new PortfolioService(broker, portfolios, new PositionRepository(orm), new OrderHistoryRepository(orm), new UserPreferenceRepository(orm));
    const home = new HomeTab(
      slack.client,
      portfolio,
      logger,
      (userId) => config.adminUserIds.includes(userId),
      // Read at render time, after start-up has created the reconciler.
      async () => {
        const status = await reconcile.booksStatus();
        return status && { ...status, channelId: config.reconcileChannelId };
      },
    );
    const tradeObserver = combineObservers([new SlackOrderMessenger(slack.client, trades, logger, !config.useAlpaca), home], (err) =>
      logger.warn({ err }, 'a trade observer failed'),
    );
    const tracker = new OrderTracker(trades, broker, tradeObserver, logger);
    const trade = new TradeService(trades, portfolios, broker, tracker, tradeObserver, logger, {
      ledgerOnly: !config.useAlpaca,
      maxOrderNotional: dec(config.maxOrderNotional),
      traderUserIds: config.traderUserIds,
    });
    const reconcileRepository = new ReconcileRepository(orm);
    const reconcileAlerts = new SlackReconcileNotifier(slack.client, reconcileRepository, config.reconcileChannelId, logger);
    const reconcile = new ReconcileService(reconcileRepository, trades, portfolios, broker, tracker, trade, reconcileAlerts, logger);
    registerListeners(slack, { config, logger, inFlight, trade, tradeObserver, portfolio, home, reconcile });

    await slack.start().catch((err: unknown) => {
      throw new StartupError(`Could not open the Slack socket-mode connection (${slackErrorCode(err)}). Check SLACK_APP_TOKEN (xapp-…, with connections:write) and that socket mode is on.`);
    });
    cleanup.push(() => slack.stop());

    // Warm the asset cache so order validation inside Slack's ack window never waits on Alpaca.
    void broker.listAssets().catch((err: unknown) => logger.warn({ err: describeError(err) }, 'could not load the asset list yet'));
    await inFlight.run(() => trade.settleUnsettled()).catch((err: unknown) => logger.warn({ err: describeError(err) }, 'settling orders left in flight failed; the next pass retries'));
    // Only the leader consumes trade_updates and runs the scheduler (SQLite: always this instance).
    const leaderDuties = await startLeaderDuties({ database: config.database, tracker, reconcile, reconcileCron: config.reconcileCron, inFlight, logger });
    cleanup.push(() => leaderDuties.stop());

    const probeAlpaca = cachedProbe(ALPACA_PROBE_TTL_MS, () =>
      broker.getClock().then(
        () => true,
        () => false,
      ),
    );
    const health = await startHealthServer(
      {
        version: APP_VERSION,
        useAlpaca: config.useAlpaca,
        startedAt,
        checkDatabase: () => pingDatabase(orm),
        slackConnected: () => slackConnected,
        alpacaConnected: probeAlpaca,
      },
      config.port,
    );
    cleanup.push(() => closeServer(health.server));

    const summary = `Slack OMS ${APP_VERSION} ready — Slack team ${team.team ?? '?'} (${team.team_id ?? '?'}) as ${team.user ?? 'bot'}; ${brokerLabel}; database ${databaseLabel(config.database)}; health on :${health.port}`;
    logger.info({ startup_ms: Date.now() - startedAt }, summary);

    let stopped: Promise<void> | undefined;
    return {
      healthPort: health.port,
      summary,
      reconcile,
      stop: () => {
        stopped ??= (async () => {
          logger.info({ in_flight: inFlight.size }, 'shutting down');
          await slack.stop().catch(() => undefined);
          const drained = await inFlight.drain(DRAIN_TIMEOUT_MS);
          if (!drained) logger.warn({ in_flight: inFlight.size }, 'abandoning unfinished work; it is settled from the broker at the next start');
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

async function describeBroker(broker: Broker): Promise<string> {
  if (broker.kind === 'ledger') return 'ledger-only (USE_ALPACA=false, no broker calls)';
  try {
    const account = await broker.getAccount();
    return `Alpaca paper account ${account.accountNumber} (${account.status})`;
  } catch (err) {
    if (err instanceof BrokerError && err.kind === 'unauthorized') {
      throw new StartupError('Alpaca refused the API keys. Check ALPACA_API_KEY_ID and ALPACA_SECRET_KEY (paper keys), or set USE_ALPACA=false.');
    }
    const reason = err instanceof Error ? err.message : String(err);
    return `Alpaca unreachable at start (${reason}); will keep retrying`;
  }
}

async function pingDatabase(orm: MikroORM): Promise<boolean> {
  await orm.em.fork().getConnection().execute('select 1');
  return true;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
