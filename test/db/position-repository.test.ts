import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FillEntity, PositionEntity, TradeEntity } from '../../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { PositionRepository, type StoredPosition } from '../../src/db/repositories/position-repository';
import { dec } from '../../src/domain/money';
import { replayFills } from '../../src/domain/positions';
import type { NewFill } from '../../src/domain/trade';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { seedFill } from '../support/fills';
import { createLegacyOmsDatabase } from '../support/legacy-oms';

let executionSequence = 0;
const fill = (overrides: Partial<NewFill> & Pick<NewFill, 'side' | 'qty' | 'price'>): NewFill => ({
  executionId: `exec-${++executionSequence}`,
  tradeId: null,
  symbol: 'AAPL',
  portfolioName: 'Growth',
  filledAt: new Date(Date.UTC(2026, 0, 5, 15, 0, executionSequence)),
  source: 'broker',
  ...overrides,
});

function comparable(positions: StoredPosition[]) {
  return positions
    .map((p) => ({
      portfolioKey: p.portfolioKey,
      symbol: p.symbol,
      qty: p.qty.toFixed(),
      costBasis: p.costBasis.toFixed(),
      realizedPnl: p.realizedPnl.toFixed(),
      fillCount: p.fillCount,
      lastFillAt: p.lastFillAt.toISOString(),
    }))
    .sort((a, b) => `${a.portfolioKey}/${a.symbol}`.localeCompare(`${b.portfolioKey}/${b.symbol}`));
}

async function allPositions(orm: Orm): Promise<StoredPosition[]> {
  const positions = new PositionRepository(orm);
  const keys = await orm.em.fork().find(PositionEntity, {}, { fields: ['portfolioKey'] });
  const perPortfolio = await Promise.all(
    [...new Set(keys.map((k) => k.portfolioKey))].map((key) => positions.listForPortfolio(key)),
  );
  return perPortfolio.flat();
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`positions kept from fills on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orm: Orm;
    let recordFill: (f: NewFill) => Promise<boolean>;
    let positions: PositionRepository;

    beforeAll(async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      recordFill = (f) => seedFill(orm, f);
      positions = new PositionRepository(orm);
    });

    afterAll(async () => {
      await orm?.close(true);
      await db?.drop();
    });

    beforeEach(async () => {
      const em = orm.em.fork();
      await em.nativeDelete(PositionEntity, {});
      await em.nativeDelete(FillEntity, {});
      await em.nativeDelete(TradeEntity, {});
    });

    it(
      'recording a fill updates its position in the same step: ' +
        'partial sells, a round trip to zero, then a fresh start',
      async () => {
        await recordFill(fill({ side: 'buy', qty: dec('10'), price: dec('100') }));
        await recordFill(fill({ side: 'buy', qty: dec('30'), price: dec('120') }));
        await recordFill(fill({ side: 'sell', qty: dec('15'), price: dec('130') }));
        let [aapl] = await positions.listForPortfolio('Growth');
        expect(aapl).toMatchObject({ portfolioKey: 'growth', symbol: 'AAPL', fillCount: 3 });
        expect([aapl!.qty.toFixed(), aapl!.costBasis.toFixed(), aapl!.realizedPnl.toFixed()]).toEqual([
          '25',
          '2875',
          '225',
        ]);

        await recordFill(fill({ side: 'sell', qty: dec('25'), price: dec('100') }));
        [aapl] = await positions.listForPortfolio('growth');
        expect([aapl!.qty.toFixed(), aapl!.costBasis.toFixed(), aapl!.realizedPnl.toFixed()]).toEqual([
          '0',
          '0',
          '-150',
        ]);
        expect(await positions.listOpen()).toEqual([]);

        await recordFill(fill({ side: 'buy', qty: dec('2.5'), price: dec('200.123456') }));
        [aapl] = await positions.listForPortfolio('GROWTH ');
        expect([aapl!.qty.toFixed(), aapl!.costBasis.toFixed(), aapl!.realizedPnl.toFixed()]).toEqual([
          '2.5',
          '500.30864',
          '-150',
        ]);
      },
    );

    it('a redelivered execution changes nothing', async () => {
      const first = fill({ side: 'buy', qty: dec('3'), price: dec('10') });
      expect(await recordFill(first)).toBe(true);
      expect(await recordFill(first)).toBe(false);
      const [position] = await positions.listForPortfolio('Growth');
      expect(position!.qty.toFixed()).toBe('3');
      expect(position!.fillCount).toBe(1);
    });

    it('a fill that arrives late is folded in filled_at order, not arrival order', async () => {
      const early = new Date('2026-01-05T14:31:00Z');
      await recordFill(
        fill({ side: 'buy', qty: dec('10'), price: dec('100'), filledAt: new Date('2026-01-05T14:30:00Z') }),
      );
      await recordFill(
        fill({ side: 'sell', qty: dec('10'), price: dec('110'), filledAt: new Date('2026-01-05T14:32:00Z') }),
      );
      // Bought between the two: in time order the sale closes 20 shares at an average of 150.
      await recordFill(fill({ side: 'buy', qty: dec('10'), price: dec('200'), filledAt: early }));
      const [position] = await positions.listForPortfolio('Growth');
      expect([position!.qty.toFixed(), position!.costBasis.toFixed(), position!.realizedPnl.toFixed()]).toEqual([
        '10',
        '1500',
        '-400',
      ]);
      expect(position!.lastFillAt.toISOString()).toBe('2026-01-05T14:32:00.000Z');
    });

    it('every spelling of a portfolio name is one portfolio', async () => {
      await recordFill(fill({ side: 'buy', qty: dec('4'), price: dec('10'), portfolioName: 'Growth' }));
      await recordFill(fill({ side: 'sell', qty: dec('1'), price: dec('12'), portfolioName: 'growth ' }));
      const list = await positions.listForPortfolio('GROWTH');
      expect(list).toHaveLength(1);
      expect([list[0]!.qty.toFixed(), list[0]!.realizedPnl.toFixed()]).toEqual(['3', '2']);
    });

    it(
      'names that only look different are one portfolio: ' + 'invisible characters, decomposed accents, double spaces',
      async () => {
        await recordFill(fill({ side: 'buy', qty: dec('4'), price: dec('10'), portfolioName: 'Grow\u200Bth' }));
        await recordFill(fill({ side: 'sell', qty: dec('1'), price: dec('12'), portfolioName: 'Growth' }));
        await recordFill(fill({ side: 'buy', qty: dec('2'), price: dec('10'), portfolioName: 'Cafe\u0301' }));
        await recordFill(fill({ side: 'buy', qty: dec('3'), price: dec('10'), portfolioName: 'Caf\u00e9' }));
        await recordFill(fill({ side: 'buy', qty: dec('5'), price: dec('10'), portfolioName: 'Growth  Fund' }));
        await recordFill(fill({ side: 'buy', qty: dec('6'), price: dec('10'), portfolioName: 'Growth Fund' }));
        const held = async (name: string) =>
          (await positions.listForPortfolio(name)).map((p) => [p.portfolioKey, p.qty.toFixed()]);
        expect(await held('Growth')).toEqual([['growth', '3']]);
        expect(await held('caf\u00e9')).toEqual([['caf\u00e9', '5']]);
        expect(await held('growth fund')).toEqual([['growth fund', '11']]);
        const incremental = comparable(await allPositions(orm));
        await positions.rebuild();
        expect(comparable(await allPositions(orm))).toEqual(incremental);
      },
    );

    it('totals per symbol over every portfolio, and realized P&L per portfolio, come from SQL aggregates', async () => {
      await recordFill(fill({ side: 'buy', qty: dec('10'), price: dec('100'), portfolioName: 'Growth' }));
      await recordFill(fill({ side: 'buy', qty: dec('0.1'), price: dec('100.1'), portfolioName: 'Income' }));
      await recordFill(fill({ side: 'buy', qty: dec('0.2'), price: dec('100.2'), portfolioName: 'Income' }));
      await recordFill(
        fill({ side: 'sell', qty: dec('3'), price: dec('90'), portfolioName: 'Income', symbol: 'MSFT' }),
      );
      await recordFill(fill({ side: 'buy', qty: dec('5'), price: dec('10'), portfolioName: 'Growth', symbol: 'TSLA' }));
      await recordFill(
        fill({ side: 'sell', qty: dec('5'), price: dec('12'), portfolioName: 'Growth', symbol: 'TSLA' }),
      );
      const totals = await positions.totalsBySymbol();
      expect(
        totals.map((t) => [t.symbol, t.qty.toFixed(), t.costBasis.toFixed(), t.realizedPnl.toFixed(), t.portfolios]),
      ).toEqual([
        ['AAPL', '10.3', '1030.05', '0', 2],
        ['MSFT', '-3', '-270', '0', 1],
        ['TSLA', '0', '0', '10', 0],
      ]);
      const realized = await positions.realizedByPortfolio();
      expect(Object.fromEntries([...realized].map(([k, v]) => [k, v.toFixed()]))).toEqual({
        growth: '10',
        income: '0',
      });
      expect((await positions.listOpen()).map((p) => `${p.portfolioKey}/${p.symbol}`)).toEqual([
        'growth/AAPL',
        'income/AAPL',
        'income/MSFT',
      ]);
    });

    it(
      'rebuilding from fills gives exactly the books kept fill by fill ' + '(random fills, random arrival order)',
      async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.array(
              fc.record({
                side: fc.constantFrom<'buy' | 'sell'>('buy', 'buy', 'sell'),
                qty: fc.integer({ min: 1, max: 2_000_000 }).map((n) => dec(n).div(1000)),
                price: fc.integer({ min: 1, max: 5_000_000 }).map((n) => dec(n).div(10_000)),
                symbol: fc.constantFrom('AAPL', 'MSFT'),
                portfolioName: fc.constantFrom('Growth', 'growth', 'Income'),
                minute: fc.integer({ min: 0, max: 30 }),
              }),
              { minLength: 1, maxLength: 25 },
            ),
            async (drawn) => {
              const em = orm.em.fork();
              await em.nativeDelete(PositionEntity, {});
              await em.nativeDelete(FillEntity, {});
              for (const f of drawn) {
                await recordFill(fill({ ...f, filledAt: new Date(Date.UTC(2026, 0, 5, 15, f.minute)) }));
              }
              const incremental = comparable(await allPositions(orm));

              // The same books from the pure fold over fills in (filled_at, id) order.
              const stored = await orm.em.fork().find(FillEntity, {}, { orderBy: { filledAt: 'asc', id: 'asc' } });
              for (const position of incremental) {
                const mine = stored.filter(
                  (s) => s.symbol === position.symbol && s.portfolioName.trim().toLowerCase() === position.portfolioKey,
                );
                const expected = replayFills(
                  mine.map((s) => ({
                    side: s.side === 'BUY' ? 'buy' : 'sell',
                    qty: dec(String(s.qty)),
                    price: dec(String(s.price)),
                    filledAt: s.filledAt,
                  })),
                );
                expect(position.qty).toBe(expected.qty.toFixed());
                expect(position.costBasis).toBe(expected.costBasis.toFixed());
                expect(position.realizedPnl).toBe(expected.realizedPnl.toFixed());
              }

              expect(await positions.rebuild()).toBe(incremental.length);
              expect(comparable(await allPositions(orm))).toEqual(incremental);
            },
          ),
          { numRuns: 15 },
        );
      },
    );

    it(
      'the migration folds fills that were stored before positions existed ' + '(an upgraded earlier-OMS database)',
      async () => {
        const legacy = await kind.create();
        const legacyOrm = await initORM(legacy.target);
        try {
          await createLegacyOmsDatabase(legacy.target, [
            {
              trade_id: 'T-1',
              symbol: 'AAPL',
              quantity: 10,
              gmv: '1894.20',
              side: 'BUY',
              portfolio_name: 'Growth',
              user_id: 'U01',
              timestamp: '2024-03-01 14:30:00',
            },
            {
              trade_id: 'T-2',
              symbol: 'AAPL',
              quantity: 4,
              gmv: '800.00',
              side: 'SELL',
              portfolio_name: 'growth ',
              user_id: 'U02',
              timestamp: '2024-03-02 14:30:00',
            },
            {
              trade_id: 'T-3',
              symbol: 'MSFT',
              quantity: 3,
              gmv: '1000.00',
              side: 'SELL',
              portfolio_name: 'Income',
              user_id: 'U02',
              timestamp: '2024-03-04 15:45:10',
            },
          ]);
          await migrateToLatest(legacyOrm);
          const migrated = comparable(await allPositions(legacyOrm));
          expect(migrated.map((p) => [p.portfolioKey, p.symbol, p.qty, p.costBasis, p.realizedPnl])).toEqual([
            // 10 @ 189.42 then 4 sold @ 200: realized 4 × 10.58. The earlier OMS kept GMV only:
            // 1000 / 3 = 333.333333 a share.
            ['growth', 'AAPL', '6', '1136.52', '42.32'],
            ['income', 'MSFT', '-3', '-999.999999', '0'],
          ]);
          await new PositionRepository(legacyOrm).rebuild();
          expect(comparable(await allPositions(legacyOrm))).toEqual(migrated);
        } finally {
          await legacyOrm.close(true);
          await legacy.drop();
        }
      },
    );

    it.runIf(kind.name === 'postgresql')(
      'concurrent fills of one position from several workers all count, ' +
        'in order (PostgreSQL only: SQLite has a single writer)',
      async () => {
        const workers = [orm, await initORM(db.target), await initORM(db.target)];
        try {
          const fills = Array.from({ length: 60 }, (_, i) =>
            fill({
              side: i % 3 === 2 ? 'sell' : 'buy',
              qty: dec(i + 1),
              price: dec(100 + (i % 7)),
              filledAt: new Date(Date.UTC(2026, 0, 5, 15, 0, i % 20)),
            }),
          );
          await Promise.all(fills.map((f, i) => seedFill(workers[i % workers.length]!, f)));
          const incremental = comparable(await allPositions(orm));
          await positions.rebuild();
          expect(comparable(await allPositions(orm))).toEqual(incremental);
          const net = fills.reduce((sum, f) => (f.side === 'buy' ? sum.plus(f.qty) : sum.minus(f.qty)), dec(0));
          expect(incremental[0]!.qty).toBe(net.toFixed());
          expect(incremental[0]!.fillCount).toBe(60);
        } finally {
          for (const worker of workers.slice(1)) await worker.close(true);
        }
      },
    );
  });
}
