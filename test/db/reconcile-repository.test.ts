import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import {
  adjustmentExecutionId,
  type NewOrderFinding,
  ReconcileRepository,
} from '../../src/db/repositories/reconcile-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import { comparePositions, type PositionPlan, planPositionUpdates } from '../../src/domain/reconciliation';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { ReconcileQueries } from '../support/reconcile-queries';

const NO_COUNTS = {
  symbolsChecked: 0,
  ordersChecked: 0,
  ordersRepaired: 0,
  ordersAdopted: 0,
  ordersExternal: 0,
  brokerRequests: 0,
};

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`ReconcileRepository on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orm: Orm;
    let repository: ReconcileQueries;
    let trades: TradeRepository;

    beforeEach(async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
      repository = new ReconcileQueries(orm);
      trades = new TradeRepository(orm);
    });
    afterEach(async () => {
      await orm?.close(true);
      await db?.drop();
    });

    // Findings are stored the way a run stores them: with the run finished in the same transaction.
    const record = async (runId: number, plan: PositionPlan, orderFindings: readonly NewOrderFinding[]) =>
      (await repository.completeRun(runId, plan, orderFindings, NO_COUNTS)).changes;

    const fill = (n: number, portfolioName: string, symbol: string, qty: string, side: 'buy' | 'sell' = 'buy') =>
      trades.recordFill({
        executionId: `f${n}`,
        tradeId: null,
        symbol,
        side,
        qty: dec(qty),
        price: dec(10),
        portfolioName,
        filledAt: new Date(),
        source: 'broker',
      });

    it('sums signed fills per portfolio spelling and symbol, exactly, leaving out what nets to zero', async () => {
      await fill(1, 'Growth', 'AAPL', '0.1');
      await fill(2, 'Growth', 'AAPL', '0.2');
      await fill(3, 'growth', 'AAPL', '1');
      await fill(4, 'Income', 'MSFT', '2');
      await fill(5, 'Income', 'MSFT', '2', 'sell');
      const holdings = (await repository.bookHoldings())
        .map((h) => [h.portfolioName, h.symbol, h.qty.toFixed()])
        .sort();
      expect(holdings).toEqual([
        ['Growth', 'AAPL', '0.3'],
        ['growth', 'AAPL', '1'],
      ]);
      expect((await repository.bookTotal('AAPL')).toFixed()).toBe('1.3');
      expect((await repository.bookTotal('MSFT')).toFixed()).toBe('0');
    });

    it(
      'a finding that returns after being resolved reopens its row as new, ' +
        'without its old alert or acknowledgement',
      async () => {
        const run = await repository.startRun('schedule');
        const found = comparePositions(
          [{ portfolioName: 'Growth', symbol: 'AAPL', qty: dec(10) }],
          [{ symbol: 'AAPL', qty: dec(12) }],
        ).discrepancies;
        const first = await record(run.id, planPositionUpdates([], found, new Set()), []);
        const id = first.created[0]!.id;
        await repository.attachAlert([id], 'C0ALERTS', '1.000100');
        await repository.acknowledgeAlert('C0ALERTS', '1.000100', 'U0ADMIN');
        const open = await repository.openPositionFindings();
        const resolved = await record(run.id, planPositionUpdates(open, [], new Set()), []);
        expect(resolved.resolved.map((d) => d.id)).toEqual([id]);
        expect(await repository.countOpen()).toBe(0);

        const again = await record(
          run.id,
          planPositionUpdates(await repository.openPositionFindings(), found, new Set()),
          [],
        );
        expect(again.created.map((d) => d.id)).toEqual([id]);
        expect(again.created[0]).toMatchObject({ resolvedAt: null, acknowledgedBy: null, slackMessageTs: null });
      },
    );

    it('stores an order finding once per key, already resolved', async () => {
      const run = await repository.startRun('manual');
      const finding = {
        key: 'external:abc',
        kind: 'order_external' as const,
        symbol: 'TSLA',
        details: {
          order: { id: 'abc', clientOrderId: 'web-1', side: 'buy' as const, status: 'filled', filledQty: '3' },
        },
      };
      const empty = { create: [], change: [], keep: [], resolve: [] };
      expect((await record(run.id, empty, [finding])).created).toHaveLength(1);
      expect((await record(run.id, empty, [finding])).created).toHaveLength(0);
      expect((await repository.findDiscrepancyByKey('external:abc'))!.resolvedAt).toBeInstanceOf(Date);
    });

    it('finds adjustments whose fill was never written, until it is', async () => {
      const adjustment = await repository.insertAdjustment({
        portfolioName: 'Growth',
        symbol: 'AAPL',
        qty: dec(-2),
        price: dec('189.5'),
        reason: 'sold by hand',
        userId: 'U0ADMIN',
        discrepancyId: null,
      });
      expect((await repository.adjustmentsWithoutFill()).map((a) => a.id)).toEqual([adjustment.id]);
      await trades.recordFill({
        executionId: adjustmentExecutionId(adjustment.id),
        tradeId: null,
        symbol: 'AAPL',
        side: 'sell',
        qty: dec(2),
        price: dec('189.5'),
        portfolioName: 'Growth',
        filledAt: new Date(),
        source: 'adjustment',
      });
      expect(await repository.adjustmentsWithoutFill()).toEqual([]);
      expect(adjustment.qty.toFixed()).toBe('-2');
    });

    it(
      kind.name === 'postgresql'
        ? 'lets one run at a time through, across connections'
        : 'runs every caller (SQLite is one instance)',
      async () => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => (release = resolve));
        const first = repository.exclusively(() => held.then(() => 'first'));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const other = new ReconcileRepository(orm);
        if (kind.name === 'postgresql') {
          expect(await other.exclusively(async () => 'second')).toEqual({ ran: false });
          release();
          expect(await first).toEqual({ ran: true, value: 'first' });
          expect(await other.exclusively(async () => 'third')).toEqual({ ran: true, value: 'third' });
        } else {
          expect(await other.exclusively(async () => 'second')).toEqual({ ran: true, value: 'second' });
          release();
          expect(await first).toEqual({ ran: true, value: 'first' });
        }
      },
    );
  });
}
