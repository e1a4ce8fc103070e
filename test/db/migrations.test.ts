import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../migrations';
import { initORM, loadMigrator, migrateToLatest, type Orm } from '../../src/db/orm';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { PositionRepository } from '../../src/db/repositories/position-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { Dec, dec } from '../../src/domain/money';
import { normalizePortfolioName } from '../../src/domain/portfolio-name';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import {
  createLegacyOmsDatabase,
  type HandAddedAlpacaColumn,
  type LegacySchema,
  type LegacyTradeRow,
} from '../support/legacy-oms';

const ALL_MIGRATIONS = MIGRATIONS.map((m) => m.name);

/** What MikroORM would run to make the database match the entities; empty = they agree exactly. */
async function schemaDrift(orm: Orm): Promise<string> {
  return (await orm.getSchemaGenerator().getUpdateSchemaSQL({ wrap: false })).trim();
}

const LEGACY_ROWS: LegacyTradeRow[] = [
  {
    trade_id: 'T-1001',
    symbol: 'AAPL',
    quantity: 10,
    gmv: '1894.20',
    side: 'BUY',
    portfolio_name: 'Growth',
    user_id: 'U01',
    timestamp: '2024-03-01 14:30:00',
    created_at: '2024-03-01 14:30:01',
  },
  {
    trade_id: 'T-1002',
    symbol: 'MSFT',
    quantity: 3,
    gmv: '1000.00',
    side: 'SELL',
    portfolio_name: 'growth ',
    user_id: 'U02',
    timestamp: '2024-03-04T15:45:10.250Z',
  },
  {
    trade_id: 'T-1003',
    symbol: 'TSLA',
    quantity: 7,
    gmv: '1500',
    side: 'BUY',
    portfolio_name: 'Income',
    user_id: 'U01',
    timestamp: '2024-03-05 16:00:00',
    created_at: null,
  },
  {
    trade_id: 'T-1004',
    symbol: 'AAPL',
    quantity: 2,
    gmv: '380.5',
    side: 'SELL',
    portfolio_name: 'Default Portfolio',
    user_id: 'U03',
    timestamp: '2024-03-06 09:31:02.123456',
    created_at: '2024-03-06 09:31:03',
  },
];

/** Rows the earlier OMS sent to Alpaca by hand (only in databases with the hand-added Alpaca columns). */
/** A legacy row and, for one sent to Alpaca, what the upgrade should make of it. */
type LegacyCase = LegacyTradeRow & { expectedStatus?: string; expectedFill?: { qty: number; price?: number } };

const SENT_TO_ALPACA_ROWS: LegacyCase[] = [
  {
    trade_id: 'T-2001',
    symbol: 'AAPL',
    quantity: 4,
    gmv: '758.00',
    side: 'BUY',
    portfolio_name: 'Growth',
    user_id: 'U01',
    timestamp: '2024-03-07 14:59:59.500000',
    created_at: '2024-03-07 14:59:59.600000',
    alpaca_order_id: '61e69015-8549-4bfd-b9c3-01e75843f47d',
    alpaca_status: 'filled',
    alpaca_filled_qty: 4,
    alpaca_filled_price: 189.5,
    alpaca_filled_at: '2024-03-07 15:00:00.123456',
    expectedStatus: 'filled',
    expectedFill: { qty: 4, price: 189.5 },
  },
  {
    trade_id: 'T-2002',
    symbol: 'MSFT',
    quantity: 5,
    gmv: '2000.00',
    side: 'BUY',
    portfolio_name: 'Income',
    user_id: 'U02',
    timestamp: null,
    created_at: '2024-03-08 15:00:00.250000',
    alpaca_order_id: 'b0b6dd9d-8b9b-48a9-ba46-b9d54906e415',
    alpaca_status: 'canceled',
    alpaca_filled_qty: 0,
    alpaca_filled_price: null,
    alpaca_filled_at: null,
    expectedStatus: 'canceled',
  },
];

/** The ways an earlier OMS database can look (see test/support/legacy-oms.ts). */
const LEGACY_VARIANTS: { label: string; schema: LegacySchema; alpacaColumns: HandAddedAlpacaColumn[] }[] = [
  { label: 'SQLAlchemy create_all', schema: 'sqlalchemy', alpacaColumns: [] },
  {
    label: 'SQLAlchemy create_all, every Alpaca column added by hand',
    schema: 'sqlalchemy',
    alpacaColumns: ['alpaca_order_id', 'alpaca_filled_price', 'alpaca_filled_qty', 'alpaca_status', 'alpaca_filled_at'],
  },
  {
    label: 'SQLAlchemy create_all, some Alpaca columns added by hand',
    schema: 'sqlalchemy',
    alpacaColumns: ['alpaca_order_id', 'alpaca_status', 'alpaca_filled_qty'],
  },
  { label: 'hand-written DDL', schema: 'hand-written', alpacaColumns: [] },
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

    for (const variant of LEGACY_VARIANTS) {
      it(`upgrades an earlier OMS database (${variant.label}) in place, every old row intact`, async () => {
        db = await kind.create();
        const rows: LegacyCase[] = [...LEGACY_ROWS, ...(variant.alpacaColumns.length > 0 ? SENT_TO_ALPACA_ROWS : [])];
        await createLegacyOmsDatabase(db.target, rows, variant);
        const startedAt = Date.now();
        const orm = await open();
        expect(await migrateToLatest(orm)).toEqual(ALL_MIGRATIONS);
        expect(await schemaDrift(orm)).toBe('');

        const trades = new TradeRepository(orm);
        const has = (column: HandAddedAlpacaColumn) => variant.alpacaColumns.includes(column);
        for (const [index, legacy] of rows.entries()) {
          const id = index + 1;
          const trade = await trades.findById(id);
          expect(trade, `legacy row ${legacy.trade_id}`).not.toBeNull();
          const placedAt = legacy.timestamp ?? legacy.created_at!;
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
            // Every stored portfolio name is in normal form ('growth ' loses its space).
            portfolioName: normalizePortfolioName(legacy.portfolio_name),
            userId: legacy.user_id,
            timestamp: utc(placedAt).toISOString(),
          });
          expect(trade!.quantity?.eq(legacy.quantity)).toBe(true);
          expect(trade!.gmv?.eq(legacy.gmv)).toBe(true);
          if (legacy.created_at) {
            expect(trade!.createdAt.toISOString()).toBe(utc(legacy.created_at).toISOString());
          } else if (legacy.created_at === null) {
            expect(trade!.createdAt.toISOString()).toBe(utc(placedAt).toISOString());
          } else {
            // The column default when the fixture was written (in the server's zone on PostgreSQL).
            expect(Math.abs(trade!.createdAt.getTime() - startedAt)).toBeLessThan(24 * 3600_000);
          }
          expect(trade!.updatedAt.getTime()).toBe(trade!.createdAt.getTime());
          const sent = has('alpaca_order_id') && legacy.alpaca_order_id ? legacy : undefined;
          expect(trade).toMatchObject({
            status: sent ? legacy.expectedStatus : 'filled',
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
            alpacaOrderId: sent ? legacy.alpaca_order_id : null,
            alpacaStatus: has('alpaca_status') ? (legacy.alpaca_status ?? null) : null,
          });
          const kept = (column: HandAddedAlpacaColumn) => (has(column) ? legacy[column] : undefined) ?? null;
          expect(trade!.alpacaFilledQty?.toNumber() ?? null).toBe(kept('alpaca_filled_qty'));
          expect(trade!.alpacaFilledPrice?.toNumber() ?? null).toBe(kept('alpaca_filled_price'));
          const filledAt = kept('alpaca_filled_at');
          expect(trade!.alpacaFilledAt?.toISOString() ?? null).toBe(
            typeof filledAt === 'string' ? utc(filledAt).toISOString() : null,
          );

          const fills = await trades.listFillsForTrade(id);
          const filled = sent ? (legacy.expectedFill ?? null) : { qty: legacy.quantity, price: undefined };
          if (!filled) {
            expect(fills).toEqual([]);
            continue;
          }
          expect(fills).toHaveLength(1);
          const fill = fills[0]!;
          expect(fill).toMatchObject({
            executionId: `legacy:${legacy.trade_id}`,
            tradeId: id,
            symbol: legacy.symbol,
            side: trade!.side,
            portfolioName: normalizePortfolioName(legacy.portfolio_name),
            source: 'legacy',
          });
          expect(fill.qty.toNumber()).toBe(filled.qty);
          const bookedPrice = dec(legacy.gmv).div(legacy.quantity).toDecimalPlaces(6, Dec.ROUND_HALF_UP);
          expect(fill.price.toNumber()).toBe(filled.price ?? bookedPrice.toNumber());
          const filledAtText = sent ? kept('alpaca_filled_at') : null;
          expect(fill.filledAt.toISOString()).toBe(
            utc(typeof filledAtText === 'string' ? filledAtText : placedAt).toISOString(),
          );
        }

        // One portfolio per case-insensitive name, spelled and owned as first used.
        const portfolios = await new PortfolioRepository(orm).list();
        expect(portfolios.map((p) => [p.name, p.createdBy])).toEqual([
          ['Default Portfolio', 'U03'],
          ['Growth', 'U01'],
          ['Income', 'U01'],
        ]);
        // The positions hold exactly the fills: Growth bought 10 AAPL (plus 4 sent to Alpaca and filled there).
        const growth = await new PositionRepository(orm).listForPortfolio('Growth');
        const aapl = growth.find((p) => p.symbol === 'AAPL');
        expect(aapl?.qty.toNumber()).toBe(variant.alpacaColumns.length > 0 && has('alpaca_order_id') ? 14 : 10);

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
        expect(trade.id).toBe(rows.length + 1);

        await orm.close(true);
        const again = await open();
        expect(await migrateToLatest(again)).toEqual([]);
        expect(await schemaDrift(again)).toBe('');
        expect(await new TradeRepository(again).findById(rows.length + 1)).toMatchObject({ tradeId: trade.tradeId });
      });
    }

    describe('portfolio names stored before names were normalised', () => {
      const NORMALISE = 'Migration20251202000000_normalize_portfolio_names';
      const BEFORE = ALL_MIGRATIONS[ALL_MIGRATIONS.indexOf(NORMALISE) - 1]!;
      const AFTER = ALL_MIGRATIONS.slice(ALL_MIGRATIONS.indexOf(NORMALISE));
      /** Datetimes as MikroORM stores them: epoch milliseconds on SQLite, timestamptz on PostgreSQL. */
      const at = (minute: number) =>
        kind.name === 'postgresql' ? new Date(Date.UTC(2026, 0, 5, 15, minute)) : Date.UTC(2026, 0, 5, 15, minute);

      /** Portfolios (ids 1…n, in order) and one bought fill and trade each, written as the earlier code wrote them. */
      async function seedOldBooks(
        orm: Orm,
        books: [name: string, symbol: string, qty: number, price: number][],
      ): Promise<void> {
        await (await loadMigrator(orm)).up({ to: 'Migration20251124000000_initial_schema' });
        const knex = orm.em.getKnex();
        for (const [i, [name, symbol, qty, price]] of books.entries()) {
          await knex('portfolios').insert({
            name,
            name_key: name.trim().toLowerCase(),
            created_by: `U0${i + 1}`,
            created_at: at(i),
          });
          const row = { symbol, side: 'BUY', portfolio_name: name };
          await knex('trades').insert({
            ...row,
            trade_id: `T-${i}`,
            quantity: qty,
            gmv: qty * price,
            user_id: 'U01',
            timestamp: at(i),
            created_at: at(i),
            updated_at: at(i),
            status: 'filled',
            source: 'legacy',
          });
          await knex('fills').insert({
            ...row,
            execution_id: `exec-${i}`,
            qty,
            price,
            filled_at: at(i),
            source: 'broker',
            created_at: at(i),
          });
        }
        // Folds the fills into positions keyed the old way (trim + lower-case).
        await (await loadMigrator(orm)).up({ to: BEFORE });
      }

      const distinct = async (orm: Orm, table: string) =>
        ((await orm.em.getKnex()(table).distinct('portfolio_name')) as { portfolio_name: string }[])
          .map((r) => r.portfolio_name)
          .sort();

      it(
        'one portfolio per name that looks the same (the earliest kept), ' +
          'every copy of a name rewritten, positions refolded',
        async () => {
          db = await kind.create();
          const orm = await open();
          await seedOldBooks(orm, [
            ['Growth', 'AAPL', 10, 100],
            ['Grow\u200Bth', 'AAPL', 10, 200],
            ['Cafe\u0301', 'MSFT', 1, 400],
            ['Growth  Fund', 'SPY', 2, 500],
            ['Income', 'TSLA', 3, 100],
            ['CAF\u00c9', 'MSFT', 1, 410],
          ]);
          const knex = orm.em.getKnex();
          await knex('book_adjustments').insert({
            portfolio_name: 'Grow\u200Bth',
            symbol: 'AAPL',
            qty: 0,
            price: 1,
            reason: 'test',
            user_id: 'U01',
            created_at: at(9),
          });
          await knex('user_preferences').insert([
            { user_id: 'U02', home_portfolio_id: 2, updated_at: at(9) },
            { user_id: 'U06', home_portfolio_id: 6, updated_at: at(9) },
            { user_id: 'U04', home_portfolio_id: 4, updated_at: at(9) },
          ]);

          expect(await migrateToLatest(orm)).toEqual(AFTER);

          const portfolios = await new PortfolioRepository(orm).list();
          expect(portfolios.map((p) => [p.id, p.name, p.createdBy])).toEqual([
            [3, 'Caf\u00e9', 'U03'],
            [1, 'Growth', 'U01'],
            [4, 'Growth Fund', 'U04'],
            [5, 'Income', 'U05'],
          ]);
          const keys = (await knex('portfolios').select('id', 'name_key').orderBy('id')) as {
            id: number;
            name_key: string;
          }[];
          expect(keys.map((k) => k.name_key)).toEqual(['growth', 'caf\u00e9', 'growth fund', 'income']);
          // Whoever had a merged portfolio on their Home tab now has the one it merged into.
          const preferences = (await knex('user_preferences')
            .select('user_id', 'home_portfolio_id')
            .orderBy('user_id')) as { user_id: string; home_portfolio_id: number }[];
          expect(preferences.map((p) => [p.user_id, Number(p.home_portfolio_id)])).toEqual([
            ['U02', 1],
            ['U04', 4],
            ['U06', 3],
          ]);

          // Copies keep their case (lookups ignore it) but lose invisible differences.
          for (const table of ['trades', 'fills'])
            expect(await distinct(orm, table), table).toEqual([
              'CAF\u00c9',
              'Caf\u00e9',
              'Growth',
              'Growth Fund',
              'Income',
            ]);
          expect(await distinct(orm, 'book_adjustments')).toEqual(['Growth']);

          const positions = new PositionRepository(orm);
          const openPositions = async () =>
            (await positions.listOpen()).map((p) => [
              p.portfolioKey,
              p.symbol,
              p.qty.toFixed(),
              p.costBasis.toFixed(),
              p.fillCount,
            ]);
          const migrated = await openPositions();
          expect(migrated).toEqual([
            ['caf\u00e9', 'MSFT', '2', '810', 2],
            ['growth', 'AAPL', '20', '3000', 2],
            ['growth fund', 'SPY', '2', '1000', 1],
            ['income', 'TSLA', '3', '300', 1],
          ]);
          await positions.rebuild();
          expect(await openPositions()).toEqual(migrated);

          // What a trader types finds the merged portfolio and all of its holdings.
          const lookups = new PortfolioRepository(orm);
          expect((await lookups.findByName('Grow\u200Bth'))?.id).toBe(1);
          expect((await positions.listForPortfolio('GROWTH')).map((p) => p.qty.toFixed())).toEqual(['20']);
          expect((await lookups.findByName('growth  fund'))?.id).toBe(4);

          expect(await migrateToLatest(orm)).toEqual([]);
          expect(await schemaDrift(orm)).toBe('');
        },
      );

      it('books whose names are already in normal form are left exactly as they were', async () => {
        db = await kind.create();
        const orm = await open();
        await seedOldBooks(orm, [
          ['Growth', 'AAPL', 10, 100],
          ['income', 'AAPL', 5, 110],
        ]);
        const knex = orm.em.getKnex();
        const snapshot = async () =>
          Promise.all(
            ['portfolios', 'trades', 'fills', 'positions'].map((table) => knex(table).select('*').orderBy('id')),
          );
        const before = await snapshot();
        expect((await (await loadMigrator(orm)).up({ to: NORMALISE })).map((m) => m.name)).toEqual([NORMALISE]);
        expect(await snapshot()).toEqual(before);
      });
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
