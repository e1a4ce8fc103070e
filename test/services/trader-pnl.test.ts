import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { LedgerBroker } from '../../src/broker/ledger-broker';
import { FillEntity } from '../../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { TraderPnlRepository } from '../../src/db/repositories/trader-pnl-repository';
import { APPROVAL_ERROR_CODES } from '../../src/domain/approvals';
import { dec } from '../../src/domain/money';
import type { TradePatch } from '../../src/domain/trade';
import type { TraderPnlReport } from '../../src/domain/trader-pnl';
import { TraderPnlService } from '../../src/services/trader-pnl';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';

const AS_OF = new Date(Date.UTC(2026, 0, 5, 21));
const at = (minute: number) => new Date(Date.UTC(2026, 0, 5, 15, minute));

/** What a report says, in plain values: a kept book and a fresh one must say exactly the same. */
const figures = (report: TraderPnlReport) =>
  report.rows.map((r) => ({ ...r, realized: r.realized.toFixed(), unrealized: r.unrealized?.toFixed() ?? null }));

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(
    `TraderPnlService keeps its book between reports on ${databaseSuiteName(kind)}`,
    () => {
      let db: TestDatabase;
      let orm: Orm;
      let repository: TraderPnlRepository;
      let kept: TraderPnlService;

      /** A fill without an order, with the id given (to stand for a row committed behind a higher id). */
      async function fill(id: number, side: 'BUY' | 'SELL', qty: string, price: string, filledAt: Date) {
        await orm.em
          .fork()
          .createQueryBuilder(FillEntity)
          .insert({
            id,
            executionId: `exec-${id}`,
            trade: null,
            symbol: 'AAPL',
            side,
            qty,
            price,
            portfolioName: 'Growth',
            filledAt,
            source: 'adjustment',
            createdAt: AS_OF,
          })
          .execute('run');
      }

      const fresh = () => new TraderPnlService(new LedgerBroker(), repository, undefined, { now: () => AS_OF });

      beforeAll(async () => {
        db = await kind.create();
        orm = await initORM(db.target);
        await migrateToLatest(orm);
        repository = new TraderPnlRepository(orm);
        kept = fresh();
      });

      afterAll(async () => {
        await orm?.close(true);
        await db?.drop();
      });

      it('continues with fills added in time order', async () => {
        await fill(1, 'BUY', '10', '100', at(1));
        await fill(2, 'BUY', '10', '110', at(2));
        expect(figures(await kept.report())).toMatchObject([{ realized: '0' }]);
        await fill(3, 'SELL', '5', '120', at(3));
        // 5 × (120 − 105) = 75.
        expect(figures(await kept.report())).toMatchObject([{ realized: '75' }]);
        expect(figures(await kept.report())).toEqual(figures(await fresh().report()));
      });

      it('rebuilds when a fill arrives filled before the last one it read', async () => {
        // Filled at minute 0, before everything: the average cost of the later sell changes.
        await fill(4, 'BUY', '10', '40', at(0));
        // 30 sh cost 2,500 before the sell: 600 − 2,500 × 5/30 (416.666667) = 183.333333.
        const report = figures(await kept.report());
        expect(report).toEqual(figures(await fresh().report()));
        expect(report[0]!.realized).toBe('183.333333');
      });

      it('rebuilds when a fill commits behind a higher id it has already read', async () => {
        await fill(10, 'SELL', '1', '90', at(10));
        await kept.report();
        // Id 7 commits after id 10 was read (a slower transaction): only the count shows it.
        await fill(7, 'SELL', '1', '150', at(9));
        // 25 sh cost 2,083.333333: id 7 realizes 150 − 83.333333, then id 10 90 − 83.333333. Without id 7: 190.
        const report = figures(await kept.report());
        expect(report).toEqual(figures(await fresh().report()));
        expect(report[0]!.realized).toBe('256.666667');
      });

      it('warmed, its first report reads only the fills added since', async () => {
        const counted = new TraderPnlRepository(orm);
        const readAll = vi.spyOn(counted, 'fillsInOrder');
        const warmed = new TraderPnlService(new LedgerBroker(), counted, undefined, { now: () => AS_OF });
        await warmed.warm();
        expect(readAll).toHaveBeenCalledTimes(1);
        await fill(11, 'BUY', '1', '100', at(11));
        expect(figures(await warmed.report())).toEqual(figures(await fresh().report()));
        expect(readAll).toHaveBeenCalledTimes(1);
      });

      it('counts the orders a trader placed, not those that never became one', async () => {
        const trades = new TradeRepository(orm);
        const patches: TradePatch[] = [
          { status: 'filled' },
          { status: 'canceled' },
          { status: 'accepted' },
          { status: 'expired' },
          { status: 'failed' },
          { status: 'rejected', errorCode: '40310000' },
          { status: 'pending_approval' },
          { status: 'canceled', errorCode: APPROVAL_ERROR_CODES.withdraw },
          { status: 'expired', errorCode: APPROVAL_ERROR_CODES.expire },
        ];
        for (const [i, patch] of patches.entries()) {
          const { trade } = await trades.insertPending({
            clientOrderId: `count-${i}`,
            source: 'api',
            symbol: 'MSFT',
            side: 'buy',
            quantity: dec(1),
            orderType: 'market',
            timeInForce: 'day',
            extendedHours: false,
            portfolioName: 'Income',
            userId: 'U0COUNTED',
          });
          await trades.update(trade.id, patch);
        }
        const row = (await fresh().report()).rows.find((r) => r.userId === 'U0COUNTED');
        expect(row).toMatchObject({ orders: 4, closingOrders: 0, hitRate: null });
        expect(row?.realized.toFixed()).toBe('0');
      });
    },
  );
}
