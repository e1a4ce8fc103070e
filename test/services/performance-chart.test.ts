import { afterEach, describe, expect, it } from 'vitest';
import { LedgerBroker } from '../../src/broker/ledger-broker';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { FillHistoryRepository } from '../../src/db/repositories/fill-history-repository';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { newYorkDate } from '../../src/domain/market-hours';
import { dec } from '../../src/domain/money';
import { addDays, weekdaysBetween } from '../../src/domain/value-history';
import { createLogger } from '../../src/logger';
import { CHART_TTL_MS, PerformanceChartService } from '../../src/services/performance-chart';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { type CoreInstance, startCore } from '../support/core';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { seedFill } from '../support/fills';

/** New York midnight starting a date, plus a minute: always in the past for a date up to today. */
function justAfterNewYorkMidnight(date: string): Date {
  const midnight = ['04', '05']
    .map((h) => new Date(`${date}T${h}:00:00Z`))
    .find((t) => newYorkDate(t) === date && newYorkDate(new Date(t.getTime() - 60_000)) !== date)!;
  return new Date(midnight.getTime() + 60_000);
}

/** Noon in New York on a date (16:00 or 17:00 UTC): safely inside that New York day. */
const noonOf = (date: string) => new Date(`${date}T17:00:00Z`);

const logger = createLogger({ level: 'silent', secrets: [] });

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the performance chart on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase | undefined;
    let alpaca: AlpacaStandIn | undefined;
    let core: CoreInstance | undefined;
    let orm: Orm | undefined;

    afterEach(async () => {
      await core?.close();
      await orm?.close(true);
      await alpaca?.close();
      await db?.drop();
      core = undefined;
      orm = undefined;
    });

    // The last five weekdays up to today (New York): D[0] … D[4].
    const today = newYorkDate(new Date());
    const D = weekdaysBetween(addDays(today, -9), today).slice(-5);

    async function seedBooks(target: Orm) {
      let n = 0;
      const fill = (
        portfolioName: string,
        side: 'buy' | 'sell',
        qty: string,
        symbol: string,
        price: string,
        at: Date,
      ) =>
        seedFill(target, {
          executionId: `chart-${++n}`,
          tradeId: null,
          symbol,
          side,
          qty: dec(qty),
          price: dec(price),
          portfolioName,
          filledAt: at,
          source: 'broker',
        });
      await fill('Growth', 'buy', '10', 'AAA', '9', noonOf(addDays(today, -40))); // held before the month
      await fill('Growth', 'buy', '4', 'BBB', '49.5', noonOf(D[0]!));
      await fill('growth', 'buy', '5', 'AAA', '11', noonOf(D[1]!)); // another spelling of Growth
      await fill('Growth', 'sell', '6', 'AAA', '12', noonOf(D[2]!)); // a partial sell: 15 → 9
      await fill('Growth', 'buy', '3', 'CCC', '20.5', noonOf(D[3]!)); // bought mid-period
      await fill('Unpriced', 'buy', '2', 'ZZZ', '7.25', noonOf(D[1]!)); // a symbol with no bars at all
      await fill('Closed', 'buy', '1', 'AAA', '8', noonOf(addDays(today, -50)));
      await fill('Closed', 'sell', '1', 'AAA', '8.5', noonOf(addDays(today, -45))); // nothing held this month
      await new PortfolioRepository(target).ensure('Growth', 'U0TRADER');
    }

    function seedMarket(standIn: AlpacaStandIn) {
      const bars = (closes: (string | undefined)[]) =>
        closes.flatMap((close, i) => (close === undefined ? [] : [{ date: D[i]!, close }]));
      standIn.setDailyBars('AAA', bars(['10', '11', '12', '13', '14']));
      standIn.setDailyBars('BBB', bars(['50', undefined, '52', '53', '55'])); // no bar on D[1]
      standIn.setDailyBars('CCC', bars([undefined, undefined, '20', '21', '22']));
      standIn.setPortfolioHistory(
        ['100000', '100500', '99800.25', '101000', '101250.5'].map((equity, i) => ({
          t: justAfterNewYorkMidnight(D[i]!),
          equity,
        })),
      );
    }

    async function setUp(now: () => Date = () => new Date()) {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      await seedBooks(orm);
      alpaca = await startAlpacaStandIn({ marketOpen: true });
      seedMarket(alpaca);
      core = await startCore({ database: db.target, alpaca });
      const service = new PerformanceChartService(
        core.broker,
        new FillHistoryRepository(core.orm),
        new PortfolioRepository(core.orm),
        { logger, now },
      );
      return { service, standIn: alpaca };
    }

    it('values each portfolio at each close from its fills, beside the account equity, and draws them', async () => {
      const { service } = await setUp();
      const chart = await service.chart();
      expect(chart).toBeDefined();
      const { model } = chart!;
      expect(model.equity?.points).toEqual([
        { date: D[0], value: 100_000 },
        { date: D[1], value: 100_500 },
        { date: D[2], value: 99_800.25 },
        { date: D[3], value: 101_000 },
        { date: D[4], value: 101_250.5 },
      ]);
      // By hand:  D0: AAA 10×10 + BBB 4×50                    = 300
      //           D1: AAA 15×11 + BBB 4×50 (no bar: D0's close) = 365
      //           D2: AAA  9×12 + BBB 4×52                      = 316
      //           D3: AAA  9×13 + BBB 4×53 + CCC 3×21            = 392
      //           D4: AAA  9×14 + BBB 4×55 + CCC 3×22            = 412
      // Unpriced holds ZZZ from D1 on, at its fill price (2 × 7.25); Closed held nothing this month.
      expect(model.portfolios).toEqual([
        {
          label: 'Growth',
          points: [300, 365, 316, 392, 412].map((value, i) => ({ date: D[i], value })),
        },
        { label: 'Unpriced', points: [1, 2, 3, 4].map((i) => ({ date: D[i], value: 14.5 })) },
      ]);
      expect(chart!.png.subarray(1, 4).toString()).toBe('80,78,71'); // "PNG"
      expect(chart!.altText).toMatch(
        /^Account equity, last month: [▁▂▃▄▅▆▇█]+ \$100,000\.00 → \$101,250\.50, \+\$1,250\.50 \(\+1\.25%\)/,
      );
      expect(chart!.altText).toContain('Growth: ');
      expect(chart!.altText).toContain('$412.00.');
    });

    it('shares one build between concurrent callers and keeps it 15 minutes', async () => {
      let now = Date.now();
      const { service, standIn } = await setUp(() => new Date(now));
      const requests = () => [
        standIn.requestCount({ path: '/v2/account/portfolio/history' }),
        standIn.requestCount({ path: '/v2/stocks/bars' }),
      ];
      const [a, b, c] = await Promise.all([service.chart(), service.chart(), service.chart()]);
      expect(b).toBe(a);
      expect(c).toBe(a);
      expect(requests()).toEqual([1, 1]);
      now += CHART_TTL_MS - 1_000;
      expect(await service.chart()).toBe(a);
      expect(requests()).toEqual([1, 1]);
      now += 2_000;
      const fresh = await service.chart();
      expect(fresh).not.toBe(a);
      expect(fresh!.generatedAt.getTime()).toBe(now);
      expect(requests()).toEqual([2, 2]);
    });

    it('answers undefined, without throwing, when Alpaca does not answer', async () => {
      const { service, standIn } = await setUp();
      standIn.inject({ path: '/v2/account/portfolio/history', status: 503, times: 20 });
      await expect(service.chart()).resolves.toBeUndefined();
    });

    it('in ledger mode, values holdings at their latest fill prices and draws no equity', async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      await seedBooks(orm);
      const service = new PerformanceChartService(
        new LedgerBroker(),
        new FillHistoryRepository(orm),
        new PortfolioRepository(orm),
        { logger },
      );
      const chart = await service.chart();
      expect(chart?.model.equity).toBeUndefined();
      const growth = chart?.model.portfolios.find((p) => p.label === 'Growth');
      // Weekdays stand in for trading days; D4: AAA 9 × 12 (last fill) + BBB 4 × 49.5 + CCC 3 × 20.5 = 367.5.
      expect(growth?.points.at(-1)).toEqual({ date: D[4], value: 367.5 });
      expect(chart?.altText).toContain('no history from the broker');
    });
  });
}
