import { performance } from 'node:perf_hooks';
import type { RequiredEntityData } from '@mikro-orm/core';
import { MAX_SYMBOLS_PER_SNAPSHOT_REQUEST } from '../src/broker/alpaca-broker';
import { LedgerBroker } from '../src/broker/ledger-broker';
import { FillEntity, type FillRecord } from '../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../src/db/orm';
import { OrderHistoryRepository } from '../src/db/repositories/order-history-repository';
import { PortfolioRepository } from '../src/db/repositories/portfolio-repository';
import { PositionRepository } from '../src/db/repositories/position-repository';
import { UserPreferenceRepository } from '../src/db/repositories/user-preference-repository';
import { dec } from '../src/domain/money';
import { PortfolioService } from '../src/services/portfolio-service';
import { HOME_ACTIONS } from '../src/slack/home/home-view';
import { type SpawnedApp, spawnApp } from '../test/support/app-process';
import { type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
import { seedFill } from '../test/support/fills';
import { median, ms, sleep } from './stats';
import type { BenchRow } from './table';

const RENDER_SIZES = [10, 100, 500];
const WARM_RUNS = 10;
export const FILLS = 100_000;
export const SYMBOLS = 500;
export const PORTFOLIOS = 20;
/** SQLite turns a multi-row insert into a compound SELECT, limited to 500 terms. */
export const INSERT_BATCH = 400;
const INCREMENTAL_SAMPLES = 500;
const QUERY_RUNS = 5;
const QUIET_APP = { LOG_LEVEL: 'warn' };

/** Distinct listed symbols for the stand-in: BAAA, BAAB, … */
export const symbolAt = (i: number) =>
  `B${String.fromCharCode(65 + Math.floor(i / 676), 65 + (Math.floor(i / 26) % 26), 65 + (i % 26))}`;

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** `/portfolio <name>` from the command leaving Slack to the reply arriving, and the broker requests in between. */
async function timedCommand(t: SpawnedApp, text: string): Promise<{ ms: number; requests: number }> {
  const before = t.alpaca.requests.length;
  const startedAt = performance.now();
  const command = await t.slack.slashCommand({ command: '/portfolio', text });
  await until(() => t.slack.responses.some((r) => r.url === command.responseUrl), 30_000, `/portfolio ${text}`);
  const reply = t.slack.responses.find((r) => r.url === command.responseUrl)!;
  if (reply.error) throw new Error(`Slack refused /portfolio ${text}: ${reply.error}`);
  return { ms: performance.now() - startedAt, requests: t.alpaca.requests.length - before };
}

/** A Home tab render: from the action to the first views.publish, and the broker requests before it. */
async function timedHome(
  t: SpawnedApp,
  userId: string,
  act: () => Promise<unknown>,
): Promise<{ ms: number; requests: number }> {
  const publishes = () => t.slack.callsTo('views.publish').filter((c) => c.args.user_id === userId);
  const before = publishes().length;
  const requestsBefore = t.alpaca.requests.length;
  const startedAt = performance.now();
  await act();
  await until(() => publishes().length > before, 30_000, 'the Home tab');
  const call = publishes()[before]!;
  if (!(call.response as { ok: boolean }).ok)
    throw new Error(`Slack refused the Home tab: ${JSON.stringify(call.response)}`);
  const elapsed = performance.now() - startedAt;
  const requests = t.alpaca.requests.slice(requestsBefore).filter((r) => r.at <= call.at).length;
  // Let a second publish (the month of equity, first time only) finish before the next measurement.
  await sleep(200);
  return { ms: elapsed, requests };
}

/** Seeds a portfolio of `size` positions in symbols never priced before, so its first render is cold. */
async function seedPortfolio(
  t: SpawnedApp,
  orm: Orm,
  name: string,
  size: number,
  firstSymbol: number,
): Promise<number> {
  const portfolio = await new PortfolioRepository(orm).ensure(name, 'U0BENCH');
  for (let i = 0; i < size; i++) {
    const symbol = symbolAt(firstSymbol + i);
    t.alpaca.addAsset({ symbol });
    t.alpaca.setPrice(symbol, { last: String(20 + (i % 50)), prevClose: String(19 + (i % 50)) });
    await seedFill(orm, {
      executionId: `${name}-${i}`,
      tradeId: null,
      symbol,
      side: 'buy',
      qty: dec(i + 1),
      price: dec(18 + (i % 50)),
      portfolioName: name,
      filledAt: new Date(),
      source: 'broker',
    });
  }
  return portfolio.id;
}

/**
 * The real app, in its own process, against the stand-ins. For each size, `/portfolio <name>` and the Home tab each get
 * their own portfolio of fresh symbols, so the first render is cold (no cached quote); then the
 * same render warm (quotes cached 15 s, the account 5 s).
 */
async function benchRenders(): Promise<BenchRow[]> {
  const bench = 'portfolio render';
  const db = await testDatabaseTargets()[0]!.create();
  let t: SpawnedApp | undefined;
  let orm: Orm | undefined;
  const rows: BenchRow[] = [];
  try {
    t = await spawnApp({ database: db.target, env: QUIET_APP, alpacaOptions: { marketOpen: true } });
    orm = await initORM(db.target);
    const user = 'U0BENCHHOME';
    // An empty portfolio first, so the picker exists and the tab's default shows no quotes.
    await new PortfolioRepository(orm).ensure('A (empty)', 'U0BENCH');
    // The first Home tab also fetches the market clock (asked about twice a day) and the month of equity.
    await timedHome(t, user, () => t!.slack.appHomeOpened(user));
    let symbols = 0;
    for (const size of RENDER_SIZES) {
      const listed = `Bench ${size}`;
      await seedPortfolio(t, orm, listed, size, symbols);
      const homeId = await seedPortfolio(t, orm, `Bench ${size} home`, size, symbols + size);
      symbols += 2 * size;

      const cold = await timedCommand(t, listed);
      const warm: number[] = [];
      for (let run = 0; run < WARM_RUNS; run++) warm.push((await timedCommand(t, listed)).ms);
      rows.push({
        bench,
        metric: `/portfolio <name>, ${size} positions`,
        value: ms(cold.ms),
        note: `cold: ${cold.requests} broker request(s); warm p50 ${ms(median(warm))}`,
      });

      // Refreshed (untimed) so the picker offers the new portfolio; the tab still shows the previous one.
      await timedHome(t, user, () =>
        t!.slack.blockAction({ userId: user, viewId: t!.slack.homeView(user)!.id, actionId: HOME_ACTIONS.refresh }),
      );
      // Past the account's 5 s cache too, so the picked portfolio's render is fully cold.
      await sleep(5_500);
      const viewId = t.slack.homeView(user)!.id;
      const picked = await timedHome(t, user, () =>
        t!.slack.blockAction({
          userId: user,
          viewId,
          actionId: HOME_ACTIONS.pickPortfolio,
          selectedOption: String(homeId),
        }),
      );
      const warmHome: number[] = [];
      for (let run = 0; run < WARM_RUNS; run++)
        warmHome.push((await timedHome(t, user, () => t!.slack.appHomeOpened(user))).ms);
      rows.push({
        bench,
        metric: `Home tab, ${size} positions`,
        value: ms(picked.ms),
        note: `cold: ${picked.requests} broker request(s) before the publish; warm p50 ${ms(median(warmHome))}`,
      });
    }
    // Past every cache (quotes 15 s, account 5 s), so this is the cold cost of all portfolios at once.
    await sleep(16_000);
    const overview = await timedCommand(t, '');
    rows.push({
      bench,
      metric: `/portfolio (all), ${symbols} positions`,
      value: ms(overview.ms),
      note:
        `cold: ${overview.requests} broker request(s) = account + quotes (at ` +
        `most ${MAX_SYMBOLS_PER_SNAPSHOT_REQUEST} symbols per snapshot request)`,
    });
    return rows;
  } finally {
    await orm?.close(true);
    await t?.stop();
    await db.drop();
  }
}

/** Buys and sells per (portfolio, symbol), in time order, about ten per position. */
export function* syntheticFills(count: number) {
  const start = Date.UTC(2025, 0, 2, 14, 30);
  for (let i = 0; i < count; i++) {
    const key = i % (PORTFOLIOS * SYMBOLS);
    const round = Math.floor(i / (PORTFOLIOS * SYMBOLS));
    yield {
      executionId: `agg-${i}`,
      symbol: symbolAt(key % SYMBOLS),
      portfolioName: `Portfolio ${String(Math.floor(key / SYMBOLS)).padStart(2, '0')}`,
      // Three buys then a sell of half, repeatedly: partial sells and growing positions.
      side: round % 4 === 3 ? ('SELL' as const) : ('BUY' as const),
      qty: round % 4 === 3 ? String(((round % 7) + 1) * 2) : String((round % 7) + 1 + (i % 3) / 4),
      price: (100 + (key % 97) + round * 0.37).toFixed(2),
      filledAt: new Date(start + i * 1000),
    };
  }
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const startedAt = performance.now();
  const value = await work();
  return { ms: performance.now() - startedAt, value };
}

async function medianOf(runs: number, work: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(work)).ms);
  return median(times);
}

/** 100,000 fills, 500 symbols, 20 portfolios: the positions the views read, and what keeping them costs. */
async function benchAggregate(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `positions aggregate (${kind.name})`;
  const db = await kind.create();
  const orm = await initORM(db.target);
  try {
    await migrateToLatest(orm);
    const now = new Date();
    const batch: RequiredEntityData<FillRecord>[] = [];
    const flush = async () => {
      await orm.em.fork().createQueryBuilder(FillEntity).insert(batch.splice(0)).execute('run');
    };
    for (const fill of syntheticFills(FILLS)) {
      batch.push({ ...fill, trade: null, source: 'broker' as const, createdAt: now });
      if (batch.length === INSERT_BATCH) await flush();
    }
    if (batch.length > 0) await flush();

    const positions = new PositionRepository(orm);
    const rebuild = await timed(() => positions.rebuild());
    const portfolios = new PortfolioRepository(orm);
    for (let p = 0; p < PORTFOLIOS; p++) await portfolios.ensure(`Portfolio ${String(p).padStart(2, '0')}`, 'U0BENCH');

    const onePortfolio = await medianOf(QUERY_RUNS, () => positions.listForPortfolio('Portfolio 07'));
    const allOpen = await timed(() => positions.listOpen());
    const allOpenMs = await medianOf(QUERY_RUNS, () => positions.listOpen());
    const perSymbol = await medianOf(QUERY_RUNS, () => positions.totalsBySymbol());
    // The whole /portfolio report without a broker: the books, valued, for every portfolio.
    const service = new PortfolioService(
      new LedgerBroker(),
      portfolios,
      positions,
      new OrderHistoryRepository(orm),
      new UserPreferenceRepository(orm),
    );
    const overview = await medianOf(QUERY_RUNS, () => service.overview());

    const incremental: number[] = [];
    for (let i = 0; i < INCREMENTAL_SAMPLES; i++) {
      const fill = {
        executionId: `live-${i}`,
        tradeId: null,
        symbol: symbolAt(i % SYMBOLS),
        side: 'buy' as const,
        qty: dec(1),
        price: dec(123.45),
        portfolioName: 'Portfolio 03',
        filledAt: new Date(),
        source: 'broker' as const,
      };
      incremental.push((await timed(() => seedFill(orm, fill))).ms);
    }
    const late = await timed(() =>
      seedFill(orm, {
        executionId: 'late',
        tradeId: null,
        symbol: symbolAt(1),
        side: 'buy',
        qty: dec(1),
        price: dec(100),
        portfolioName: 'Portfolio 01',
        filledAt: new Date(Date.UTC(2025, 0, 1)),
        source: 'broker',
      }),
    );

    const scale = `${FILLS.toLocaleString('en-US')} fills, ${SYMBOLS} symbols, ${PORTFOLIOS} portfolios`;
    return [
      {
        bench,
        metric: 'one portfolio’s positions',
        value: ms(onePortfolio),
        note: `${scale}; median of ${QUERY_RUNS}; goal ≤ 1,000 ms`,
      },
      {
        bench,
        metric: 'all open positions',
        value: ms(allOpenMs),
        note: `${allOpen.value.length.toLocaleString('en-US')} rows; median of ${QUERY_RUNS}`,
      },
      {
        bench,
        metric: 'per-symbol totals (GROUP BY)',
        value: ms(perSymbol),
        note: `over every portfolio; median of ${QUERY_RUNS}`,
      },
      {
        bench,
        metric: '/portfolio report, books only',
        value: ms(overview),
        note: `every portfolio valued (no broker); median of ${QUERY_RUNS}`,
      },
      {
        bench,
        metric: 'fill + position update',
        value: ms(median(incremental)),
        note: `one transaction per fill, median of ${INCREMENTAL_SAMPLES}`,
      },
      {
        bench,
        metric: 'late fill (replays its position)',
        value: ms(late.ms),
        note: 'filled_at before the last applied fill',
      },
      {
        bench,
        metric: 'rebuild from fills',
        value: ms(rebuild.ms),
        note: `${rebuild.value.toLocaleString('en-US')} positions rewritten (maintenance, not on the read path)`,
      },
    ];
  } finally {
    await orm.close(true);
    await db.drop();
  }
}

export async function benchPortfolio(): Promise<BenchRow[]> {
  const rows = await benchRenders();
  for (const kind of testDatabaseTargets()) {
    if (!kind.available) {
      rows.push({
        bench: `positions aggregate (${kind.name})`,
        metric: 'skipped',
        value: '—',
        note: 'set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server',
      });
      continue;
    }
    rows.push(...(await benchAggregate(kind)));
  }
  return rows;
}
