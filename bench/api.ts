import { performance } from 'node:perf_hooks';
import type { RequiredEntityData } from '@mikro-orm/core';
import { FillEntity, type FillRecord, TradeEntity, type TradeRecord } from '../src/db/entities';
import { initORM, migrateToLatest } from '../src/db/orm';
import { PortfolioRepository } from '../src/db/repositories/portfolio-repository';
import { PositionRepository } from '../src/db/repositories/position-repository';
import { type AlpacaStandIn, startAlpacaStandIn } from '../test/support/alpaca-standin';
import { type SpawnedApp, spawnApp } from '../test/support/app-process';
import { type TestDatabase, type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
import { type SlackStandIn, startSlackStandIn } from '../test/support/slack-standin';
import { FILLS, INSERT_BATCH, PORTFOLIOS, SYMBOLS, symbolAt, syntheticFills } from './portfolio';
import { median, ms, percentile } from './stats';
import type { BenchRow } from './table';

const API_KEY = 'bench-api-key';
/** Alpaca answering an order in 1 s: the broker's share of every order below. */
const BROKER_MS = 1_000;
const BATCHES = 3;
const BATCH_SIZE = 10;
const QUERY_RUNS = 5;
const FILL_WAIT_MS = 10_000;

async function timed(work: () => Promise<Response>): Promise<number> {
  const startedAt = performance.now();
  const response = await work();
  await response.text();
  if (!response.ok) throw new Error(`the API answered ${response.status}`);
  return performance.now() - startedAt;
}

function order(extra: Record<string, unknown>): RequestInit {
  return {
    method: 'POST',
    headers: { 'x-api-key': API_KEY, 'content-type': 'application/json' },
    body: JSON.stringify({
      symbol: 'AAPL',
      quantity: 1,
      side: 'BUY',
      portfolio_name: 'Bench',
      user_id: 'U0BENCH',
      ...extra,
    }),
  };
}

/** BATCHES × BATCH_SIZE orders, each batch sent at once, Alpaca taking BROKER_MS over every one. */
async function orderLatencies(app: SpawnedApp, alpaca: AlpacaStandIn, extra: Record<string, unknown>) {
  const latencies: number[] = [];
  // A first order warms the asset, quote and clock caches, as a running desk's would be.
  await timed(() => fetch(`${app.baseUrl}/api/v1/trade`, order(extra)));
  for (let batch = 0; batch < BATCHES; batch += 1) {
    alpaca.inject({ method: 'POST', path: '/v2/orders', latencyMs: BROKER_MS, times: BATCH_SIZE });
    latencies.push(
      ...(await Promise.all(
        Array.from({ length: BATCH_SIZE }, () => timed(() => fetch(`${app.baseUrl}/api/v1/trade`, order(extra)))),
      )),
    );
  }
  return latencies;
}

async function withStandIns<T>(run: (slack: SlackStandIn, alpaca: AlpacaStandIn) => Promise<T>): Promise<T> {
  const slack = await startSlackStandIn();
  const alpaca = await startAlpacaStandIn({ marketOpen: true, cash: '100000000' });
  try {
    return await run(slack, alpaca);
  } finally {
    await slack.close();
    await alpaca.close();
  }
}

function appOptions(slack: SlackStandIn, alpaca: AlpacaStandIn, db: TestDatabase, extra: Record<string, string>) {
  return { slack, alpaca, database: db.target, env: { LOG_LEVEL: 'info', OMS_API_KEY: API_KEY, ...extra } };
}

/** POST /api/v1/trade: the 201 path (filled within the wait) and the 202 path (a resting limit, no wait). */
async function benchOrders(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `API orders (${kind.name})`;
  return withStandIns(async (slack, alpaca) => {
    const run = async (waitMs: number, extra: Record<string, unknown>) => {
      const db = await kind.create();
      const app = await spawnApp(appOptions(slack, alpaca, db, { API_FILL_WAIT_MS: String(waitMs) }));
      try {
        return await orderLatencies(app, alpaca, extra);
      } finally {
        await app.stop();
        await db.drop();
      }
    };
    const filled = await run(FILL_WAIT_MS, {});
    const resting = await run(0, { order_type: 'limit', limit_price: '100.00' });
    const overhead = resting.map((latency) => latency - BROKER_MS);
    const samples = `${BATCHES} batches of ${BATCH_SIZE} at once; Alpaca answers each order in ${BROKER_MS} ms`;
    return [
      {
        bench,
        metric: 'POST /trade → 201 filled, p50',
        value: ms(median(filled)),
        note: `${samples}; goal: within the fill wait (${FILL_WAIT_MS} ms) + the broker's ${BROKER_MS} ms`,
      },
      { bench, metric: 'POST /trade → 201 filled, p99', value: ms(percentile(filled, 99)), note: 'same goal' },
      {
        bench,
        metric: 'POST /trade → 202 accepted, p99 beyond Alpaca',
        value: ms(percentile(overhead, 99)),
        note: `a resting limit, API_FILL_WAIT_MS=0; p50 ${ms(median(overhead))}; goal ≤ 50 ms`,
      },
    ];
  });
}

/** Trades with one fill each (FILLS of them, SYMBOLS symbols, PORTFOLIOS portfolios) and the positions they make. */
async function seedBooks(db: TestDatabase): Promise<void> {
  const orm = await initORM(db.target);
  try {
    await migrateToLatest(orm);
    const now = new Date();
    let trades: RequiredEntityData<TradeRecord>[] = [];
    let fills: RequiredEntityData<FillRecord>[] = [];
    const flush = async () => {
      await orm.em.fork().createQueryBuilder(TradeEntity).insert(trades).execute('run');
      await orm.em.fork().createQueryBuilder(FillEntity).insert(fills).execute('run');
      trades = [];
      fills = [];
    };
    let id = 0;
    for (const fill of syntheticFills(FILLS)) {
      id += 1;
      trades.push({
        id,
        tradeId: `bench-${id}`,
        symbol: fill.symbol,
        quantity: fill.qty,
        gmv: (Number(fill.qty) * Number(fill.price)).toFixed(2),
        side: fill.side,
        portfolioName: fill.portfolioName,
        userId: 'U0BENCH',
        timestamp: fill.filledAt,
        createdAt: now,
        updatedAt: now,
        status: 'filled',
        source: 'api',
        extendedHours: false,
        alpacaFilledQty: fill.qty,
        alpacaFilledPrice: fill.price,
        alpacaFilledAt: fill.filledAt,
      });
      fills.push({ ...fill, trade: id, source: 'broker', createdAt: now });
      if (trades.length === INSERT_BATCH) await flush();
    }
    if (trades.length > 0) await flush();
    await new PositionRepository(orm).rebuild();
    const portfolios = new PortfolioRepository(orm);
    for (let p = 0; p < PORTFOLIOS; p++) await portfolios.ensure(`Portfolio ${String(p).padStart(2, '0')}`, 'U0BENCH');
  } finally {
    await orm.close(true);
  }
}

/** GET /trades?limit=1000 and GET /portfolio/{name} over FILLS trades and fills. */
async function benchReads(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `API reads (${kind.name})`;
  return withStandIns(async (slack, alpaca) => {
    for (let i = 0; i < SYMBOLS; i++) {
      alpaca.addAsset({ symbol: symbolAt(i) });
      alpaca.setPrice(symbolAt(i), { last: String(100 + (i % 90)), prevClose: String(99 + (i % 90)) });
    }
    const db = await kind.create();
    await seedBooks(db);
    const app = await spawnApp(appOptions(slack, alpaca, db, {}));
    const get = (path: string) => () => fetch(`${app.baseUrl}${path}`, { headers: { 'x-api-key': API_KEY } });
    try {
      const list = get('/api/v1/trades?limit=1000');
      const portfolio = get('/api/v1/portfolio/portfolio%2007');
      const coldList = await timed(list);
      const coldPortfolio = await timed(portfolio);
      const lists: number[] = [];
      const portfolios: number[] = [];
      for (let i = 0; i < QUERY_RUNS; i++) {
        lists.push(await timed(list));
        portfolios.push(await timed(portfolio));
      }
      const scale = `${FILLS.toLocaleString('en-US')} trades and fills, ${SYMBOLS} symbols, ${PORTFOLIOS} portfolios`;
      return [
        {
          bench,
          metric: 'GET /trades?limit=1000',
          value: ms(median(lists)),
          note: `${scale}; median of ${QUERY_RUNS}, first ${ms(coldList)}; goal ≤ 100 ms`,
        },
        {
          bench,
          metric: 'GET /portfolio/{name}, priced',
          value: ms(median(portfolios)),
          note:
            `${SYMBOLS} positions; median of ${QUERY_RUNS} (quotes cached), ` +
            `first ${ms(coldPortfolio)}; goal ≤ 100 ms`,
        },
      ];
    } finally {
      await app.stop();
      await db.drop();
    }
  });
}

export async function benchApi(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of testDatabaseTargets().filter((k) => k.available)) {
    rows.push(...(await benchOrders(kind)));
    rows.push(...(await benchReads(kind)));
  }
  return rows;
}
