import { AlpacaBroker } from '../../src/broker/alpaca-broker';
import type { Broker } from '../../src/broker/broker';
import { CachedBroker } from '../../src/broker/cached-broker';
import { LedgerBroker } from '../../src/broker/ledger-broker';
import type { DatabaseTarget } from '../../src/config';
import { initORM, type Orm } from '../../src/db/orm';
import { OutboxRepository } from '../../src/db/repositories/outbox-repository';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { ReconcileRepository } from '../../src/db/repositories/reconcile-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import { newInstanceId } from '../../src/lifecycle';
import { createLogger } from '../../src/logger';
import { OrderEntryService } from '../../src/services/order-entry';
import { OrderSettler } from '../../src/services/order-settlement';
import { OrderSubmitter, type OrderSubmitterOptions } from '../../src/services/order-submission';
import { OrderTracker } from '../../src/services/order-tracker';
import { ReconcileService } from '../../src/services/reconcile-service';
import { SubmissionLeases } from '../../src/services/submission-lease';
import type { AlpacaStandIn } from './alpaca-standin';
import { LogCapture } from './launch';

/**
 * One instance's services below Slack — the same classes app.ts wires, on its own database
 * connections and with its own instance id — for tests of the order lifecycle across instances.
 */
export interface CoreInstance {
  instanceId: string;
  orm: Orm;
  broker: Broker;
  trades: TradeRepository;
  portfolios: PortfolioRepository;
  outbox: OutboxRepository;
  tracker: OrderTracker;
  entry: OrderEntryService;
  submitter: OrderSubmitter;
  settler: OrderSettler;
  reconcile: ReconcileService;
  logs: LogCapture;
  close(): Promise<void>;
}

export async function startCore(opts: {
  database: DatabaseTarget;
  alpaca?: AlpacaStandIn;
  options?: OrderSubmitterOptions & { maxOrderNotional?: number; submitLeaseMs?: number };
  /** The clock the repositories write with (rows' created_at etc.). */
  now?: () => Date;
}): Promise<CoreInstance> {
  const logs = new LogCapture();
  const logger = createLogger({ level: 'debug', secrets: [], destination: logs });
  const orm = await initORM(opts.database, { pool: { max: 4 } });
  const broker: Broker = opts.alpaca
    ? new CachedBroker(
        new AlpacaBroker({
          keyId: opts.alpaca.keyId,
          secretKey: opts.alpaca.secretKey,
          baseUrl: opts.alpaca.baseUrl,
          dataUrl: opts.alpaca.dataUrl,
          streamUrl: opts.alpaca.streamUrl,
          dataFeed: 'iex',
          logger,
          timeoutMs: 5_000,
          reconnect: { initialMs: 50, maxMs: 200 },
        }),
      )
    : new LedgerBroker();
  const instanceId = newInstanceId();
  const trades = new TradeRepository(orm, opts.now);
  const portfolios = new PortfolioRepository(orm, opts.now);
  const tracker = new OrderTracker(trades, broker, logger, { pollIntervalMs: 200 });
  const leases = new SubmissionLeases(trades, instanceId, () => new Date(), opts.options?.submitLeaseMs);
  const entry = new OrderEntryService(trades, portfolios, broker, logger, {
    maxOrderNotional: dec(opts.options?.maxOrderNotional ?? 1_000_000),
  });
  const submitter = new OrderSubmitter(trades, broker, tracker, leases, logger, {
    retryMinTimeoutMs: 50,
    ...opts.options,
  });
  const settler = new OrderSettler(trades, broker, tracker, submitter, leases, logger);
  const reconcile = new ReconcileService(
    {
      repository: new ReconcileRepository(orm, opts.now),
      trades,
      portfolios,
      broker,
      applyOrder: (order) => tracker.applyOrder(order),
      settleUnsettled: (options) => settler.settleUnsettled(options),
      logger,
    },
    { quietMs: 0, confirmDelayMs: 0 },
  );
  return {
    instanceId,
    orm,
    broker,
    trades,
    portfolios,
    outbox: new OutboxRepository(orm),
    tracker,
    entry,
    submitter,
    settler,
    reconcile,
    logs,
    close: async () => {
      await tracker.stop();
      await orm.close(true);
    },
  };
}
