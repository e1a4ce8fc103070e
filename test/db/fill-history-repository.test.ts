import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FillEntity, PositionEntity, TradeEntity } from '../../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { FillHistoryRepository } from '../../src/db/repositories/fill-history-repository';
import { dec } from '../../src/domain/money';
import type { NewFill } from '../../src/domain/trade';
import type { ValueFill } from '../../src/domain/value-history';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { seedFill } from '../support/fills';

let executionSequence = 0;
const fill = (
  portfolioName: string,
  side: 'buy' | 'sell',
  qty: string,
  symbol: string,
  price: string,
  filledAt: string,
): NewFill => ({
  executionId: `exec-${++executionSequence}`,
  tradeId: null,
  symbol,
  side,
  qty: dec(qty),
  price: dec(price),
  portfolioName,
  filledAt: new Date(filledAt),
  source: 'broker',
});

const readable = (fills: ValueFill[]) =>
  fills.map((f) => `${f.filledAt.toISOString()} ${f.side} ${f.qty.toFixed()} ${f.symbol} @ ${f.price.toFixed()}`);

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`fill history for valuations on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orm: Orm;
    let history: FillHistoryRepository;

    beforeAll(async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      history = new FillHistoryRepository(orm);
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
      'sums what each portfolio held before the period into one fill per symbol, ' +
        'at its last price, then lists the period’s fills in order',
      async () => {
        for (const f of [
          fill('Growth', 'buy', '10', 'AAPL', '150', '2025-10-01T14:00:00Z'),
          fill('growth', 'buy', '0.1', 'AAPL', '155.5', '2025-10-02T14:00:00Z'), // another spelling: one portfolio
          fill('Growth', 'sell', '4', 'AAPL', '160.25', '2025-10-03T14:00:00Z'), // partial sell
          fill('Growth', 'buy', '5', 'MSFT', '400', '2025-10-06T14:00:00Z'),
          fill('Growth', 'sell', '5', 'MSFT', '410', '2025-10-07T14:00:00Z'), // closed before the period
          fill('Hedge', 'sell', '3', 'TSLA', '250', '2025-10-08T14:00:00Z'), // a short
          fill('Growth', 'buy', '2', 'MSFT', '420', '2025-11-03T15:00:00Z'),
          fill('Growth', 'sell', '1', 'AAPL', '170', '2025-11-03T15:00:00Z'),
          fill('Income', 'buy', '7', 'SPY', '600', '2025-11-04T15:00:00Z'), // a portfolio new in the period
        ]) {
          await seedFill(orm, f);
        }
        const histories = await history.historySince(new Date('2025-11-01T04:00:00Z'));
        expect([...histories.keys()].sort()).toEqual(['growth', 'hedge', 'income']);
        expect(readable(histories.get('growth')!.fills)).toEqual([
          '2025-10-03T14:00:00.000Z buy 6.1 AAPL @ 160.25',
          '2025-11-03T15:00:00.000Z buy 2 MSFT @ 420',
          '2025-11-03T15:00:00.000Z sell 1 AAPL @ 170',
        ]);
        expect(readable(histories.get('hedge')!.fills)).toEqual(['2025-10-08T14:00:00.000Z sell 3 TSLA @ 250']);
        expect(readable(histories.get('income')!.fills)).toEqual(['2025-11-04T15:00:00.000Z buy 7 SPY @ 600']);
      },
    );

    it('is empty without fills', async () => {
      expect((await history.historySince(new Date('2025-11-01T04:00:00Z'))).size).toBe(0);
    });
  });
}
