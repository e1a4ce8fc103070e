import type { EntityName } from '@mikro-orm/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FillEntity, PortfolioEntity, TradeEntity } from '../../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import type { NewFill, NewTrade } from '../../src/domain/trade';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';

const order = (clientOrderId: string, overrides: Partial<NewTrade> = {}): NewTrade => ({
  clientOrderId,
  source: 'slack',
  symbol: 'AAPL',
  side: 'buy',
  quantity: dec('1.123456789'),
  orderType: 'limit',
  timeInForce: 'day',
  limitPrice: dec('189.4275'),
  extendedHours: true,
  portfolioName: 'Growth',
  userId: 'U01',
  slackChannelId: 'C01',
  marketOpenAtSubmit: false,
  ...overrides,
});

const execution = (executionId: string, tradeId: number | null, overrides: Partial<NewFill> = {}): NewFill => ({
  executionId,
  tradeId,
  symbol: 'AAPL',
  side: 'buy',
  qty: dec('0.5'),
  price: dec('189.420001'),
  portfolioName: 'Growth',
  filledAt: new Date('2025-01-02T15:04:05.678Z'),
  source: 'broker',
  ...overrides,
});

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`repositories on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orm: Orm;
    let clock: Date;
    let trades: TradeRepository;
    let portfolios: PortfolioRepository;

    beforeAll(async () => {
      db = await kind.create();
      orm = await initORM(db.target);
      await migrateToLatest(orm);
    });

    afterAll(async () => {
      await orm?.close(true);
      await db?.drop();
    });

    beforeEach(async () => {
      const em = orm.em.fork();
      await em.nativeDelete(FillEntity, {});
      await em.nativeDelete(TradeEntity, {});
      await em.nativeDelete(PortfolioEntity, {});
      clock = new Date('2025-01-02T14:30:00.123Z');
      trades = new TradeRepository(orm, () => clock);
      portfolios = new PortfolioRepository(orm, () => clock);
    });

    const countRows = <T extends object>(entity: EntityName<T>) => orm.em.fork().count(entity);

    describe('TradeRepository', () => {
      it('writes a pending trade and reads it back exactly (decimals, booleans, times)', async () => {
        const { trade, created } = await trades.insertPending(order('view-1'));
        expect(created).toBe(true);
        expect(trade).toMatchObject({
          clientOrderId: 'view-1',
          status: 'pending_submit',
          source: 'slack',
          symbol: 'AAPL',
          side: 'buy',
          orderType: 'limit',
          timeInForce: 'day',
          extendedHours: true,
          portfolioName: 'Growth',
          userId: 'U01',
          slackChannelId: 'C01',
          marketOpenAtSubmit: false,
          notional: null,
          stopPrice: null,
          gmv: null,
          alpacaOrderId: null,
        });
        expect(trade.quantity?.toFixed()).toBe('1.123456789');
        expect(trade.limitPrice?.toFixed()).toBe('189.4275');
        expect(trade.timestamp.toISOString()).toBe(clock.toISOString());
        expect(trade.createdAt.toISOString()).toBe(clock.toISOString());
        expect(trade.tradeId).toMatch(/^[0-9a-f-]{36}$/);
        expect(await trades.findByClientOrderId('view-1')).toEqual(trade);
        expect(await trades.findByClientOrderId('view-unknown')).toBeNull();
      });

      it('a notional order has no quantity until it fills', async () => {
        const { trade } = await trades.insertPending(
          order('view-notional', {
            quantity: null,
            notional: dec('250.5'),
            orderType: 'market',
            limitPrice: null,
            extendedHours: false,
          }),
        );
        expect(trade.quantity).toBeNull();
        expect(trade.notional?.toFixed()).toBe('250.5');
      });

      it('insertPending twice with one client_order_id keeps one row and returns the first', async () => {
        const first = await trades.insertPending(order('view-dup'));
        const second = await trades.insertPending(order('view-dup', { symbol: 'MSFT', quantity: dec(99) }));
        expect(second.created).toBe(false);
        expect(second.trade).toEqual(first.trade);
        expect(await countRows(TradeEntity)).toBe(1);
      });

      it('20 concurrent insertPending calls with one client_order_id create exactly one row', async () => {
        const results = await Promise.all(Array.from({ length: 20 }, () => trades.insertPending(order('view-race'))));
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(new Set(results.map((r) => r.trade.id)).size).toBe(1);
        expect(await countRows(TradeEntity)).toBe(1);
      });

      it('update applies a patch, stamps updated_at, and finds the row by Alpaca order id', async () => {
        const { trade } = await trades.insertPending(order('view-upd'));
        clock = new Date('2025-01-02T14:31:00Z');
        const filledAt = new Date('2025-01-02T14:30:59.999Z');
        const updated = await trades.update(trade.id, {
          status: 'filled',
          alpacaOrderId: '61e69015-8549-4bfd-b9c3-01e75843f47d',
          alpacaStatus: 'filled',
          alpacaFilledQty: dec('1.123456789'),
          alpacaFilledPrice: dec('189.421234'),
          alpacaFilledAt: filledAt,
          submittedAt: new Date('2025-01-02T14:30:01Z'),
          gmv: dec('212.81'),
          slackMessageTs: '1735828200.000100',
        });
        expect(updated.status).toBe('filled');
        expect(updated.alpacaFilledQty?.toFixed()).toBe('1.123456789');
        expect(updated.alpacaFilledPrice?.toFixed()).toBe('189.421234');
        expect(updated.gmv?.toFixed()).toBe('212.81');
        expect(updated.alpacaFilledAt?.toISOString()).toBe(filledAt.toISOString());
        expect(updated.updatedAt.toISOString()).toBe(clock.toISOString());
        expect(updated.createdAt.toISOString()).toBe(trade.createdAt.toISOString());
        expect(await trades.findById(trade.id)).toEqual(updated);

        const cleared = await trades.update(trade.id, {
          errorCode: '40310000',
          errorMessage: 'insufficient buying power',
        });
        expect(cleared).toMatchObject({
          errorCode: '40310000',
          errorMessage: 'insufficient buying power',
          status: 'filled',
        });
        await expect(trades.update(987654, { status: 'failed' })).rejects.toThrow(/No trade with id 987654/);
      });

      it('listUnsettled returns pending and non-terminal orders, oldest first', async () => {
        const statuses = [
          'pending_submit',
          'submitted',
          'accepted',
          'partially_filled',
          'filled',
          'canceled',
          'expired',
          'rejected',
          'failed',
        ] as const;
        for (const status of statuses) {
          const { trade } = await trades.insertPending(order(`view-${status}`));
          if (status !== 'pending_submit') await trades.update(trade.id, { status });
        }
        const unsettled = await trades.listUnsettled();
        expect(unsettled.map((t) => t.status)).toEqual(['pending_submit', 'submitted', 'accepted', 'partially_filled']);
      });

      it('recordFill stores an execution once, however often it is delivered', async () => {
        const { trade } = await trades.insertPending(order('view-fill'));
        expect(await trades.recordFill(execution('exec-1', trade.id))).toBe(true);
        expect(await trades.recordFill(execution('exec-1', trade.id, { qty: dec(7) }))).toBe(false);
        const concurrent = await Promise.all(
          Array.from({ length: 10 }, () =>
            trades.recordFill(execution('exec-2', trade.id, { qty: dec('0.623456789') })),
          ),
        );
        expect(concurrent.filter(Boolean)).toHaveLength(1);

        const fills = await trades.listFillsForTrade(trade.id);
        expect(
          fills.map((f) => [f.executionId, f.qty.toFixed(), f.price.toFixed(), f.side, f.filledAt.toISOString()]),
        ).toEqual([
          ['exec-1', '0.5', '189.420001', 'buy', '2025-01-02T15:04:05.678Z'],
          ['exec-2', '0.623456789', '189.420001', 'buy', '2025-01-02T15:04:05.678Z'],
        ]);
        expect(await countRows(FillEntity)).toBe(2);
      });

      it('a fill need not belong to a known trade (ledger adjustments, adopted broker fills)', async () => {
        expect(await trades.recordFill(execution('ledger:adjust-1', null, { source: 'ledger' }))).toBe(true);
        expect(await countRows(FillEntity)).toBe(1);
      });
    });

    describe('PortfolioRepository', () => {
      it('ensure creates once and matches names case-insensitively, keeping the first spelling', async () => {
        const growth = await portfolios.ensure('Growth', 'U01');
        expect(growth).toMatchObject({ name: 'Growth', createdBy: 'U01' });
        expect(growth.createdAt.toISOString()).toBe(clock.toISOString());
        expect(await portfolios.ensure('  gROWTH ', 'U02')).toEqual(growth);
        expect(await portfolios.findByName('GROWTH')).toEqual(growth);
        expect(await portfolios.findByName('Income')).toBeNull();
      });

      it('names that only look different are one portfolio, stored in their normal form', async () => {
        const growth = await portfolios.ensure('Grow\u200Bth', 'U01');
        expect(growth.name).toBe('Growth');
        expect(await portfolios.ensure('Growth', 'U02')).toEqual(growth);
        const cafe = await portfolios.ensure('Cafe\u0301', 'U01');
        expect(cafe.name).toBe('Caf\u00e9');
        expect(await portfolios.ensure('Caf\u00e9', 'U02')).toEqual(cafe);
        const fund = await portfolios.ensure('Growth  Fund', 'U01');
        expect(fund.name).toBe('Growth Fund');
        // A fresh repository has no cache: these are matched in the database.
        const fresh = new PortfolioRepository(orm);
        expect(await fresh.findByName('GROW\u200BTH')).toEqual(growth);
        expect(await fresh.findByName('CAF\u00c9')).toEqual(cafe);
        expect(await fresh.findByName('growth\u00a0fund')).toEqual(fund);
        expect(await countRows(PortfolioEntity)).toBe(3);
      });

      it('concurrent ensure calls for one name create one portfolio', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => portfolios.ensure(i % 2 ? 'Swing' : 'swing', `U0${i}`)),
        );
        expect(new Set(results.map((p) => p.id)).size).toBe(1);
        expect(await countRows(PortfolioEntity)).toBe(1);
      });

      it('lists portfolios alphabetically regardless of case', async () => {
        for (const name of ['income', 'Default Portfolio', 'Growth']) await portfolios.ensure(name, 'U01');
        expect((await portfolios.list()).map((p) => p.name)).toEqual(['Default Portfolio', 'Growth', 'income']);
      });

      it('refuses an empty name', async () => {
        await expect(portfolios.ensure('   ', 'U01')).rejects.toThrow(/empty/);
      });
    });
  });
}
