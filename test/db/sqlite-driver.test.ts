import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { PositionRepository } from '../../src/db/repositories/position-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';

/**
 * test/fixtures/made-by-sqlite3.sqlite was written by this app on its previous SQLite driver
 * (sqlite3 5.1.7 through @mikro-orm/sqlite), fully migrated, with a filled fractional limit order
 * (its fill and position) and one order still pending. better-sqlite3 must open it as it is.
 */
describe('SQLite files written by the previous driver', () => {
  let dir: string | undefined;
  let orm: Orm | undefined;
  afterEach(async () => {
    await orm?.close(true);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'open unchanged: nothing re-applied, every value reads back the same, ' +
      'WAL and foreign keys on, and new orders are booked',
    async () => {
      dir = await mkdtemp(join(tmpdir(), 'slack-oms-sqlite3-file-'));
      const path = join(dir, 'oms.sqlite');
      await copyFile(new URL('../fixtures/made-by-sqlite3.sqlite', import.meta.url), path);
      orm = await initORM({ kind: 'sqlite', url: path });
      const recorded = (
        await orm.em.fork().getConnection().execute<{ name: string }[]>('select name from mikro_orm_migrations')
      ).map((row) => row.name.replace(/\.[jt]s$/, ''));
      expect(recorded).toContain('Migration20251124000000_initial_schema');
      // Only migrations written after the file was made apply; none it already has runs again.
      const applied = await migrateToLatest(orm);
      expect(applied.filter((name) => recorded.includes(name))).toEqual([]);
      expect([...recorded, ...applied].sort()).toEqual(MIGRATIONS.map((m) => m.name).sort());

      const connection = orm.em.fork().getConnection();
      expect(await connection.execute('pragma journal_mode')).toEqual([{ journal_mode: 'wal' }]);
      expect(await connection.execute('pragma foreign_keys')).toEqual([{ foreign_keys: 1 }]);

      const trades = new TradeRepository(orm);
      const filled = await trades.findByClientOrderId('oms-VFIXTURE1');
      expect(filled).toMatchObject({
        status: 'filled',
        symbol: 'AAPL',
        side: 'buy',
        orderType: 'limit',
        portfolioName: 'Growth',
        alpacaOrderId: 'a-fixture-1',
      });
      expect(filled!.quantity!.toFixed()).toBe('10.5');
      expect(filled!.limitPrice!.toFixed()).toBe('189.25');
      expect(filled!.alpacaFilledPrice!.toFixed()).toBe('189.123456');
      expect(filled!.createdAt.toISOString()).toBe('2026-11-30T15:00:00.000Z');
      expect(filled!.alpacaFilledAt!.toISOString()).toBe('2026-11-30T15:00:01.000Z');
      const [fill] = await trades.listFillsForTrade(filled!.id);
      expect([fill!.executionId, fill!.qty.toFixed(), fill!.price.toFixed()]).toEqual([
        'exec-fixture-1',
        '10.5',
        '189.123456',
      ]);
      const [position] = await new PositionRepository(orm).listForPortfolio('Growth');
      expect([position!.symbol, position!.qty.toFixed()]).toEqual(['AAPL', '10.5']);
      expect(await trades.findByClientOrderId('oms-VFIXTURE2')).toMatchObject({
        status: 'pending_submit',
        timeInForce: 'gtc',
      });

      const { trade } = await trades.insertPending({
        clientOrderId: 'oms-VAFTER',
        source: 'slack',
        symbol: 'AAPL',
        side: 'sell',
        quantity: dec(4),
        orderType: 'market',
        timeInForce: 'day',
        extendedHours: false,
        portfolioName: 'Growth',
        userId: 'U0TRADER',
      });
      await trades.applyUnderLock({ id: trade.id }, () => ({
        fills: [
          {
            executionId: 'exec-after',
            tradeId: trade.id,
            symbol: 'AAPL',
            side: 'sell',
            qty: dec(4),
            price: dec(190),
            portfolioName: 'Growth',
            filledAt: new Date(),
            source: 'broker',
          },
        ],
        patch: { status: 'filled' },
      }));
      const [after] = await new PositionRepository(orm).listForPortfolio('Growth');
      expect(after!.qty.toFixed()).toBe('6.5');
    },
  );
});
