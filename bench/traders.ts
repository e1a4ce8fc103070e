import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import type { RequiredEntityData } from '@mikro-orm/core';
import { AlpacaBroker } from '../src/broker/alpaca-broker';
import { FillEntity, type FillRecord, TradeEntity, type TradeRecord } from '../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../src/db/orm';
import { TraderPnlRepository } from '../src/db/repositories/trader-pnl-repository';
import { createLogger } from '../src/logger';
import { TraderPnlService } from '../src/services/trader-pnl';
import { type AlpacaStandIn, startAlpacaStandIn } from '../test/support/alpaca-standin';
import { type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
import { INSERT_BATCH, symbolAt } from './portfolio';
import { median, ms, percentile } from './stats';
import type { BenchRow } from './table';

const FILLS = 100_000;
const TRADERS = 20;
const PORTFOLIOS = 5;
const SYMBOLS = 50;
const RUNS = 20;
const COLD_RUNS = 5;
const NEW_ORDERS_PER_RUN = 5;
const GOAL_MS = 300;

const traderAt = (i: number) => `U0TRADER${String(i).padStart(2, '0')}`;

/**
 * Orders of one to three fills each, by twenty traders in five portfolios of fifty symbols, in
 * time order: mostly buys, and sells (a quarter) of shares whoever bought them, sometimes past
 * zero into a short. Trade ids are given so fills can name their order.
 */
function* syntheticBook(firstOrder: number, limits: { fills: number; orders: number }) {
  const start = Date.UTC(2025, 0, 2, 14, 30);
  const now = new Date();
  // About two fills per order, so times keep increasing across calls.
  let fillIndex = (firstOrder - 1) * 2;
  const endIndex = fillIndex + limits.fills;
  for (let order = firstOrder; fillIndex < endIndex && order < firstOrder + limits.orders; order++) {
    const position = (order * 7919) % (PORTFOLIOS * SYMBOLS);
    const symbol = symbolAt(position % SYMBOLS);
    const portfolioName = `Portfolio ${Math.floor(position / SYMBOLS)}`;
    const side = order % 4 === 0 ? ('SELL' as const) : ('BUY' as const);
    const parts = Math.min(1 + (order % 3), endIndex - fillIndex);
    const trade: RequiredEntityData<TradeRecord> = {
      id: order,
      tradeId: `bench-${order}`,
      symbol,
      side,
      portfolioName,
      userId: traderAt(order % TRADERS),
      timestamp: new Date(start + fillIndex * 1000),
      createdAt: now,
      updatedAt: now,
      status: 'filled',
      source: 'slack',
      extendedHours: false,
    };
    const fills: RequiredEntityData<FillRecord>[] = [];
    for (let part = 0; part < parts; part++, fillIndex++) {
      fills.push({
        executionId: `bench-${order}-${part}`,
        trade: order,
        symbol,
        side,
        qty: side === 'SELL' ? String(((order % 5) + 2) * 3) : String((order % 7) + 1 + (fillIndex % 4) / 4),
        price: (100 + (position % 97) + (fillIndex % 1000) * 0.013).toFixed(2),
        portfolioName,
        filledAt: new Date(start + fillIndex * 1000),
        source: 'broker',
        createdAt: now,
      });
    }
    yield { trade, fills };
  }
}

/** Orders (and their fills) placed after the seeded book, as a running app would record them. */
async function insertOrders(orm: Orm, firstOrder: number, count: number): Promise<void> {
  const book = [...syntheticBook(firstOrder, { fills: Number.POSITIVE_INFINITY, orders: count })];
  await orm.em
    .fork()
    .createQueryBuilder(TradeEntity)
    .insert(book.map((o) => o.trade))
    .execute('run');
  await orm.em
    .fork()
    .createQueryBuilder(FillEntity)
    .insert(book.flatMap((o) => o.fills))
    .execute('run');
}

async function benchKind(kind: TestDatabaseKind, alpaca: AlpacaStandIn): Promise<BenchRow[]> {
  const bench = `traders (${kind.name})`;
  const db = await kind.create();
  const orm = await initORM(db.target);
  try {
    await migrateToLatest(orm);
    const trades: RequiredEntityData<TradeRecord>[] = [];
    const fills: RequiredEntityData<FillRecord>[] = [];
    const flush = async (force: boolean) => {
      // Orders first, so every fill's order exists.
      while (trades.length >= INSERT_BATCH || (force && trades.length > 0))
        await orm.em.fork().createQueryBuilder(TradeEntity).insert(trades.splice(0, INSERT_BATCH)).execute('run');
      while (fills.length >= INSERT_BATCH || (force && fills.length > 0))
        await orm.em.fork().createQueryBuilder(FillEntity).insert(fills.splice(0, INSERT_BATCH)).execute('run');
    };
    let orders = 0;
    for (const order of syntheticBook(1, { fills: FILLS, orders: Number.POSITIVE_INFINITY })) {
      trades.push(order.trade);
      fills.push(...order.fills);
      orders++;
      if (trades.length >= INSERT_BATCH) await flush(false);
    }
    await flush(true);

    const logger = createLogger({ level: 'warn', secrets: [] });
    const broker = new AlpacaBroker({
      keyId: alpaca.keyId,
      secretKey: alpaca.secretKey,
      baseUrl: alpaca.baseUrl,
      dataUrl: alpaca.dataUrl,
      streamUrl: alpaca.streamUrl,
      dataFeed: 'iex',
      logger,
      timeoutMs: 5_000,
    });
    const repository = new TraderPnlRepository(orm);
    // Cold: a service that has read nothing yet folds every fill (the first report after a start).
    const cold: number[] = [];
    for (let run = 0; run < COLD_RUNS; run++) {
      const fresh = new TraderPnlService(broker, repository, logger);
      const startedAt = performance.now();
      const report = await fresh.report();
      cold.push(performance.now() - startedAt);
      if (report.rows.length !== TRADERS || report.unpricedSymbols.length > 0)
        throw new Error(`expected ${TRADERS} priced traders, got ${report.rows.length} (${report.unpricedSymbols})`);
    }
    // Warm: the running app's service, with a few fills added before each report.
    const service = new TraderPnlService(broker, repository, logger);
    await service.report();
    const warm: number[] = [];
    let nextOrder = orders + 1;
    for (let run = 0; run < RUNS; run++) {
      await insertOrders(orm, nextOrder, NEW_ORDERS_PER_RUN);
      nextOrder += NEW_ORDERS_PER_RUN;
      const startedAt = performance.now();
      await service.report();
      warm.push(performance.now() - startedAt);
    }
    // The first report after a start as the app serves it: the book built in the background once the
    // app is ready (timed too: it is the cold fold, only off any request), a few orders, then the report.
    const warmUp: number[] = [];
    const afterStart: number[] = [];
    for (let run = 0; run < COLD_RUNS; run++) {
      const started = new TraderPnlService(broker, repository, logger);
      const warmUpAt = performance.now();
      await started.warm();
      warmUp.push(performance.now() - warmUpAt);
      await insertOrders(orm, nextOrder, NEW_ORDERS_PER_RUN);
      nextOrder += NEW_ORDERS_PER_RUN;
      const startedAt = performance.now();
      await started.report();
      afterStart.push(performance.now() - startedAt);
    }
    const readStartedAt = performance.now();
    await repository.fillsInOrder();
    const read = performance.now() - readStartedAt;
    const verdict = (value: number) => `goal ≤ ${GOAL_MS} ms${value <= GOAL_MS ? '' : ' — MISSED'}`;
    const scale =
      `${FILLS.toLocaleString('en-US')} fills of ${orders.toLocaleString('en-US')} orders, ${TRADERS} traders, ` +
      `${PORTFOLIOS} portfolios × ${SYMBOLS} symbols`;
    return [
      {
        bench,
        metric: 'report() p50',
        value: ms(median(warm)),
        note: `${verdict(median(warm))}; ${scale}; ${RUNS} runs, ${NEW_ORDERS_PER_RUN} new orders before each`,
      },
      { bench, metric: 'report() p99', value: ms(percentile(warm, 99)), note: verdict(percentile(warm, 99)) },
      {
        bench,
        metric: 'first report after start (warmed in background) p50',
        value: ms(median(afterStart)),
        note:
          `${verdict(median(afterStart))}; ${COLD_RUNS} runs; the background warm-up itself p50 ` +
          `${ms(median(warmUp))}, from 1 s after ready; a report asked before it ends waits for it (≈ cold)`,
      },
      {
        bench,
        metric: 'first report (cold, not warmed) p50',
        value: ms(median(cold)),
        note:
          `${verdict(median(cold))}; folds every fill; ${COLD_RUNS} runs; reading the fills alone ${ms(read)}; ` +
          `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
      },
    ];
  } finally {
    await orm.close(true);
    await db.drop();
  }
}

/** `/portfolio traders` without Slack: the whole report, prices from the Alpaca stand-in through the SDK. */
export async function benchTraders(): Promise<BenchRow[]> {
  const alpaca = await startAlpacaStandIn();
  try {
    for (let i = 0; i < SYMBOLS; i++) {
      alpaca.addAsset({ symbol: symbolAt(i) });
      alpaca.setPrice(symbolAt(i), { last: String(120 + i), prevClose: String(119 + i) });
    }
    const rows: BenchRow[] = [];
    for (const kind of testDatabaseTargets()) {
      if (!kind.available) {
        rows.push({
          bench: `traders (${kind.name})`,
          metric: 'skipped',
          value: '—',
          note: 'set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server',
        });
        continue;
      }
      rows.push(...(await benchKind(kind, alpaca)));
    }
    return rows;
  } finally {
    await alpaca.close();
  }
}
