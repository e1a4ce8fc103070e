import { afterEach, describe, expect, it } from 'vitest';
import { dec, Dec } from '../../src/domain/money';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { MIGRATIONS } from '../../migrations';
import { databaseSuiteName, testDatabaseTargets, type TestDatabase } from '../support/databases';
import { createLegacyOmsDatabase, type LegacyTradeRow } from '../support/legacy-oms';

const ALL_MIGRATIONS = MIGRATIONS.map((m) => m.name);

/** What MikroORM would run to make the database match the entities; empty = they agree exactly. */
async function schemaDrift(orm: Orm): Promise<string> {
  return (await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).trim();
}

const LEGACY_ROWS: LegacyTradeRow[] = [
  { trade_id: 'T-1001', symbol: 'AAPL', quantity: 10, gmv: '1894.20', side: 'BUY', portfolio_name: 'Growth', user_id: 'U01', timestamp: '2024-03-01 14:30:00', created_at: '2024-03-01 14:30:01' },
  { trade_id: 'T-1002', symbol: 'MSFT', quantity: 3, gmv: '1000.00', side: 'SELL', portfolio_name: 'growth ', user_id: 'U02', timestamp: '2024-03-04T15:45:10.250Z' },
  { trade_id: 'T-1003', symbol: 'TSLA', quantity: 7, gmv: '1500', side: 'BUY', portfolio_name: 'Income', user_id: 'U01', timestamp: '2024-03-05 16:00:00', created_at: null },
  { trade_id: 'T-1004', symbol: 'AAPL', quantity: 2, gmv: '380.5', side: 'SELL', portfolio_name: 'Default Portfolio', user_id: 'U03', timestamp: '2024-03-06 09:31:02.5', created_at: '2024-03-06 09:31:03' },
];

/** The earlier OMS wrote naive UTC text; ISO-8601 with a Z parses the same way. */
const utc = (text: string) => new Date(/[zZ]$/.test(text) ? text : `${text.replace(' ', 'T')}Z`);

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`migrations on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase | undefined;
    const orms: Orm[] = [];
    const open = async () => {
      const orm = await initORM(db!.target);
      orms.push(orm);
      return orm;
    };

    afterEach(async () => {
      for (const orm of orms.splice(0)) await orm.close(true);
      await db?.drop();
      db = undefined;
    });

    it('migrating an empty database gives exactly the schema the entities describe', async () => {
      db = await kind.create();
      const orm = await open();
      expect(await migrateToLatest(orm)).toEqual(ALL_MIGRATIONS);
      expect(await schemaDrift(orm)).toBe('');
    });

    it('the schema check notices drift (so an empty diff means something)', async () => {
      db = await kind.create();
      const orm = await open();
      await migrateToLatest(orm);
      await orm.em.getConnection().execute('drop index trades_status_index');
      expect(await schemaDrift(orm)).toContain('trades_status_index');
    });

    it('migrating again applies nothing, in the same process or a new one', async () => {
      db = await kind.create();
      const first = await open();
      await migrateToLatest(first);
      expect(await migrateToLatest(first)).toEqual([]);
      await first.close(true);
      const second = await open();
      expect(await migrateToLatest(second)).toEqual([]);
      expect(await schemaDrift(second)).toBe('');
    });

    it('upgrades a database created by the earlier OMS in place, every old row intact', async () => {
      db = await kind.create();
      await createLegacyOmsDatabase(db.target, LEGACY_ROWS);
      const startedAt = Date.now();
      const orm = await open();
      expect(await migrateToLatest(orm)).toEqual(ALL_MIGRATIONS);
      expect(await schemaDrift(orm)).toBe('');

      const trades = new TradeRepository(orm);
      for (const [index, legacy] of LEGACY_ROWS.entries()) {
        const id = index + 1;
        const trade = await trades.findById(id);
        expect(trade, `legacy row ${legacy.trade_id}`).not.toBeNull();
        expect({
          tradeId: trade!.tradeId,
          symbol: trade!.symbol,
          side: trade!.side,
          portfolioName: trade!.portfolioName,
          userId: trade!.userId,
          timestamp: trade!.timestamp.toISOString(),
        }).toEqual({
          tradeId: legacy.trade_id,
          symbol: legacy.symbol,
          side: legacy.side === 'BUY' ? 'buy' : 'sell',
          portfolioName: legacy.portfolio_name,
          userId: legacy.user_id,
          timestamp: utc(legacy.timestamp).toISOString(),
        });
        expect(trade!.quantity?.eq(legacy.quantity)).toBe(true);
        expect(trade!.gmv?.eq(legacy.gmv)).toBe(true);
        if (legacy.created_at) {
          expect(trade!.createdAt.toISOString()).toBe(utc(legacy.created_at).toISOString());
        } else if (legacy.created_at === null) {
          expect(trade!.createdAt.toISOString()).toBe(utc(legacy.timestamp).toISOString());
        } else {
          // CURRENT_TIMESTAMP when the fixture was written (in the server's zone on PostgreSQL).
          expect(Math.abs(trade!.createdAt.getTime() - startedAt)).toBeLessThan(24 * 3600_000);
        }
        expect(trade!.updatedAt.getTime()).toBe(trade!.createdAt.getTime());
        expect(trade).toMatchObject({
          status: 'filled',
          source: 'legacy',
          clientOrderId: null,
          orderType: null,
          timeInForce: null,
          limitPrice: null,
          stopPrice: null,
          notional: null,
          extendedHours: false,
          errorCode: null,
          errorMessage: null,
          slackChannelId: null,
          slackMessageTs: null,
          marketOpenAtSubmit: null,
          submittedAt: null,
          alpacaOrderId: null,
          alpacaStatus: null,
          alpacaFilledQty: null,
          alpacaFilledPrice: null,
          alpacaFilledAt: null,
        });

        const fills = await trades.listFillsForTrade(id);
        expect(fills).toHaveLength(1);
        const fill = fills[0]!;
        expect(fill).toMatchObject({
          executionId: `legacy:${legacy.trade_id}`,
          tradeId: id,
          symbol: legacy.symbol,
          side: trade!.side,
          portfolioName: legacy.portfolio_name,
          source: 'legacy',
        });
        expect(fill.qty.eq(legacy.quantity)).toBe(true);
        expect(fill.price.eq(dec(legacy.gmv).div(legacy.quantity).toDecimalPlaces(6, Dec.ROUND_HALF_UP))).toBe(true);
        expect(fill.filledAt.toISOString()).toBe(utc(legacy.timestamp).toISOString());
      }
      expect(await trades.listUnsettled()).toEqual([]);

      // One portfolio per case-insensitive name, spelled and owned as first used.
      const portfolios = await new PortfolioRepository(orm).list();
      expect(portfolios.map((p) => [p.name, p.createdBy])).toEqual([
        ['Default Portfolio', 'U03'],
        ['Growth', 'U01'],
        ['Income', 'U01'],
      ]);

      // New rows continue after the old ids.
      const { trade } = await trades.insertPending({
        clientOrderId: 'slack-view-1',
        source: 'slack',
        symbol: 'NVDA',
        side: 'buy',
        quantity: dec('0.5'),
        orderType: 'market',
        timeInForce: 'day',
        extendedHours: false,
        portfolioName: 'Growth',
        userId: 'U01',
      });
      expect(trade.id).toBe(LEGACY_ROWS.length + 1);

      expect(await migrateToLatest(orm)).toEqual([]);
      expect(await schemaDrift(orm)).toBe('');
    });
  });
}

const postgres = testDatabaseTargets().find((kind) => kind.name === 'postgresql')!;

// Several workers may share one PostgreSQL database and all migrate at start-up (SQLite is one worker).
describe.skipIf(!postgres.available)(`concurrent start-up on ${databaseSuiteName(postgres)}`, () => {
  let db: TestDatabase | undefined;
  const orms: Orm[] = [];
  afterEach(async () => {
    for (const orm of orms.splice(0)) await orm.close(true);
    await db?.drop();
    db = undefined;
  });

  it('workers migrating one database at the same time apply each migration once', async () => {
    db = await postgres.create();
    for (let i = 0; i < 3; i++) orms.push(await initORM(db.target));
    const applied = await Promise.all(orms.map((orm) => migrateToLatest(orm)));
    expect(applied.flat()).toEqual(ALL_MIGRATIONS);
    expect(await schemaDrift(orms[0]!)).toBe('');
  });
});
