import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker';
import { LedgerBroker } from '../../src/broker/ledger-broker';
import { FillEntity, PortfolioEntity, PositionEntity, TradeEntity, UserPreferenceEntity } from '../../src/db/entities';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { OrderHistoryRepository } from '../../src/db/repositories/order-history-repository';
import { PortfolioRepository } from '../../src/db/repositories/portfolio-repository';
import { PositionRepository } from '../../src/db/repositories/position-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { UserPreferenceRepository } from '../../src/db/repositories/user-preference-repository';
import { BrokerError } from '../../src/domain/errors';
import type {
  BrokerAccount,
  BrokerPosition,
  MarketClock,
  PortfolioHistoryPoint,
  Snapshot,
} from '../../src/domain/market';
import { type Dec, dec } from '../../src/domain/money';
import { PortfolioService } from '../../src/services/portfolio-service';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { seedFill } from '../support/fills';

/** A broker that answers from fixed data, counts every call, and can be told to fail. */
class FakeBroker implements Broker {
  readonly kind = 'alpaca' as const;
  calls: string[] = [];
  snapshotRequests: string[][] = [];
  down = false;
  prices = new Map<string, Snapshot>();
  positions: BrokerPosition[] = [];
  history: PortfolioHistoryPoint[] = [];
  clock: MarketClock = {
    isOpen: true,
    timestamp: new Date(),
    nextOpen: new Date(Date.now() + 86_400_000),
    nextClose: new Date(Date.now() + 3_600_000),
  };
  account: BrokerAccount = {
    accountNumber: 'PA1',
    status: 'ACTIVE',
    currency: 'USD',
    cash: dec('1000'),
    equity: dec('10250.50'),
    lastEquity: dec('10000'),
    buyingPower: dec('2000'),
    portfolioValue: dec('10250.50'),
    patternDayTrader: false,
    tradingBlocked: false,
  };

  private answer<T>(name: string, value: T): Promise<T> {
    this.calls.push(name);
    return this.down
      ? Promise.reject(new BrokerError('unavailable', 'Alpaca is unavailable right now (HTTP 503).', { status: 503 }))
      : Promise.resolve(value);
  }

  price(symbol: string, last: string, prevClose: string): void {
    this.prices.set(symbol, { symbol, lastPrice: dec(last), prevClose: dec(prevClose) });
  }

  getAccount = () => this.answer('account', this.account);
  getClock = () => this.answer('clock', this.clock);
  getSnapshots = (symbols: readonly string[]) => {
    this.snapshotRequests.push([...symbols]);
    return this.answer('snapshots', new Map([...this.prices].filter(([s]) => symbols.includes(s))));
  };
  listPositions = () => this.answer('positions', this.positions);
  getPortfolioHistory = () => this.answer('history', this.history);
  getDailyBars = async () => new Map();
  getCalendar = async () => [];
  getAsset = () => Promise.reject(new Error('not used'));
  listAssets = () => Promise.reject(new Error('not used'));
  submitOrder = () => Promise.reject(new Error('not used'));
  getOrderByClientOrderId = () => Promise.reject(new Error('not used'));
  getOrder = () => Promise.reject(new Error('not used'));
  listOrders = () => Promise.reject(new Error('not used'));
  cancelOrder = () => Promise.reject(new Error('not used'));
  streamTradeUpdates = () => {
    throw new Error('not used');
  };
}

let sequence = 0;
const money = (value: Dec | undefined) => value?.toDecimalPlaces(2).toFixed(2);

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`PortfolioService on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let orm: Orm;
    let broker: FakeBroker;
    let now: Date;
    let service: PortfolioService;
    const build = (b: Broker) =>
      new PortfolioService(
        b,
        new PortfolioRepository(orm),
        new PositionRepository(orm),
        new OrderHistoryRepository(orm),
        new UserPreferenceRepository(orm),
        { now: () => now },
      );
    const buy = (portfolioName: string, symbol: string, qty: string, price: string) =>
      seedFill(orm, {
        executionId: `x${++sequence}`,
        tradeId: null,
        symbol,
        side: 'buy',
        qty: dec(qty),
        price: dec(price),
        portfolioName,
        filledAt: new Date(Date.UTC(2026, 0, 5, 15, 0, sequence)),
        source: 'broker',
      });
    const sell = (portfolioName: string, symbol: string, qty: string, price: string) =>
      seedFill(orm, {
        executionId: `x${++sequence}`,
        tradeId: null,
        symbol,
        side: 'sell',
        qty: dec(qty),
        price: dec(price),
        portfolioName,
        filledAt: new Date(Date.UTC(2026, 0, 5, 15, 0, sequence)),
        source: 'broker',
      });

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
      await em.nativeDelete(UserPreferenceEntity, {});
      await em.nativeDelete(PositionEntity, {});
      await em.nativeDelete(FillEntity, {});
      await em.nativeDelete(TradeEntity, {});
      await em.nativeDelete(PortfolioEntity, {});
      now = new Date();
      broker = new FakeBroker();
      broker.price('AAPL', '189.42', '187.15');
      broker.price('MSFT', '415.10', '412.30');
      service = build(broker);
      const portfolios = new PortfolioRepository(orm);
      await portfolios.ensure('Growth', 'U1');
      await portfolios.ensure('Income', 'U2');
      await buy('Growth', 'AAPL', '10', '180');
      await buy('Growth', 'MSFT', '2', '400');
      await sell('Growth', 'MSFT', '1', '420');
      await buy('Income', 'AAPL', '0.5', '190');
    });

    it('lists every portfolio priced from one snapshot batch plus the account: two broker requests', async () => {
      const overview = await service.overview();
      expect(broker.calls.sort()).toEqual(['account', 'snapshots']);
      expect(broker.snapshotRequests).toEqual([['AAPL', 'MSFT']]);
      const [growth, income] = overview.portfolios;
      expect(growth).toMatchObject({ name: 'Growth' });
      // AAPL 10 × 189.42 + MSFT 1 × 415.10; cost 1800 + 400.
      expect(money(growth!.totals.marketValue)).toBe('2309.30');
      expect(money(growth!.totals.unrealizedPnl)).toBe('109.30');
      expect(money(growth!.totals.dayChange)).toBe('25.50');
      expect(money(growth!.totals.realizedPnl)).toBe('20.00');
      expect(money(income!.totals.marketValue)).toBe('94.71');
      expect(overview.totals.positions).toBe(3);
      expect(money(overview.totals.marketValue)).toBe('2404.01');
      expect(overview.account).toMatchObject({ kind: 'ok' });
      expect(overview.account.kind === 'ok' && money(overview.account.todayPnl)).toBe('250.50');
    });

    it(
      'one portfolio by any spelling of its name, ' + 'with realized P&L and the latest orders: one broker request',
      async () => {
        const trades = new TradeRepository(orm);
        await trades.insertPending({
          clientOrderId: 'c-1',
          source: 'slack',
          symbol: 'AAPL',
          side: 'buy',
          quantity: dec(1),
          orderType: 'market',
          timeInForce: 'day',
          extendedHours: false,
          portfolioName: 'growth ',
          userId: 'U1',
        });
        const lookup = await service.portfolio('  GROWTH ');
        expect(broker.calls).toEqual(['snapshots']);
        expect(lookup.kind).toBe('found');
        if (lookup.kind !== 'found') return;
        const { detail } = lookup;
        expect(
          detail.positions.map((p) => [
            p.symbol,
            p.qty.toFixed(),
            money(p.avgCost),
            money(p.lastPrice),
            money(p.marketValue),
            money(p.unrealizedPnl),
            money(p.unrealizedPct),
            money(p.dayChange),
          ]),
        ).toEqual([
          ['AAPL', '10', '180.00', '189.42', '1894.20', '94.20', '5.23', '22.70'],
          ['MSFT', '1', '400.00', '415.10', '415.10', '15.10', '3.78', '2.80'],
        ]);
        expect(money(detail.totals.realizedPnl)).toBe('20.00');
        expect(detail.recentOrders.map((o) => [o.symbol, o.status])).toEqual([['AAPL', 'pending_submit']]);
      },
    );

    it('a miss suggests close names', async () => {
      expect(await service.portfolio('grwth')).toEqual({
        kind: 'not_found',
        query: 'grwth',
        suggestions: ['Growth'],
        known: 2,
      });
      const long = await service.portfolio('x'.repeat(5000));
      expect(long).toMatchObject({ kind: 'not_found', suggestions: [] });
    });

    it('a symbol with no snapshot is named and kept out of the totals', async () => {
      broker.prices.delete('MSFT');
      const lookup = await service.portfolio('Growth');
      if (lookup.kind !== 'found') throw new Error('expected the portfolio');
      expect(lookup.detail.pricing).toEqual({ source: 'alpaca', missing: ['MSFT'] });
      expect(lookup.detail.totals.unpriced).toEqual(['MSFT']);
      expect(money(lookup.detail.totals.marketValue)).toBe('1894.20');
    });

    it('a broker outage degrades every report instead of failing it', async () => {
      broker.down = true;
      const overview = await service.overview();
      expect(overview.pricing).toEqual({ source: 'unavailable', error: 'Alpaca is unavailable right now (HTTP 503).' });
      expect(overview.account).toEqual({ kind: 'unavailable', error: 'Alpaca is unavailable right now (HTTP 503).' });
      expect(money(overview.totals.costBasis)).toBe('2295.00');
      expect((await service.account()).market.kind).toBe('unavailable');
      expect((await service.compareWithBroker()).broker.kind).toBe('unavailable');
      const home = await service.home('U1', { loadTrend: true });
      expect([home.account.kind, home.market.kind, home.trend.kind, home.selected?.pricing.source]).toEqual([
        'unavailable',
        'unavailable',
        'unavailable',
        'unavailable',
      ]);
    });

    it('ledger-only mode shows the books without asking anything of a broker', async () => {
      const ledger = build(new LedgerBroker());
      const overview = await ledger.overview();
      expect(overview.pricing).toEqual({ source: 'ledger' });
      expect(overview.account).toEqual({ kind: 'ledger' });
      expect(overview.totals.positions).toBe(3);
      expect((await ledger.compareWithBroker()).broker).toEqual({ kind: 'ledger' });
      const home = await ledger.home('U1', { loadTrend: true });
      expect([home.account.kind, home.trend.kind, home.market.kind]).toEqual(['ledger', 'ledger', 'ok']);
    });

    it('compares the broker with the books per symbol, mismatches first', async () => {
      broker.positions = [
        {
          symbol: 'AAPL',
          qty: dec('10.5'),
          avgEntryPrice: dec(180),
          currentPrice: dec('189.42'),
          marketValue: dec('1988.91'),
        },
        { symbol: 'MSFT', qty: dec('2'), avgEntryPrice: dec(400) },
        { symbol: 'TSLA', qty: dec('3'), avgEntryPrice: dec(250) },
      ];
      const comparison = await service.compareWithBroker();
      expect(broker.calls).toEqual(['positions']);
      expect(comparison.mismatches).toBe(2);
      expect(
        comparison.rows.map((r) => [r.symbol, r.books.toFixed(), r.broker?.toFixed(), r.difference?.toFixed()]),
      ).toEqual([
        ['MSFT', '1', '2', '1'],
        ['TSLA', '0', '3', '3'],
        ['AAPL', '10.5', '10.5', '0'],
      ]);
    });

    it(
      'the Home tab: remembered portfolio, ' + 'the clock asked for only after its next transition, the trend cached',
      async () => {
        const incomeId = (await new PortfolioRepository(orm).findByName('Income'))!.id;
        broker.history = [
          { at: new Date('2025-12-10T21:00:00Z'), equity: dec(10000) },
          { at: new Date('2026-01-08T21:00:00Z'), equity: dec('10250.50') },
        ];
        let home = await service.home('U9');
        expect(home.selected?.name).toBe('Growth');
        expect(home.trend).toEqual({ kind: 'pending' });
        expect(broker.calls.sort()).toEqual(['account', 'clock', 'snapshots']);

        expect(await service.chooseHomePortfolio('U9', incomeId)).toBe(true);
        expect(await service.chooseHomePortfolio('U9', 999_999)).toBe(false);
        broker.calls = [];
        home = await service.home('U9', { loadTrend: true });
        expect(home.selected?.name).toBe('Income');
        expect(home.trend.kind === 'ok' && money(home.trend.trend.change)).toBe('250.50');
        expect(broker.calls.sort()).toEqual(['account', 'history', 'snapshots']);

        broker.calls = [];
        await service.home('U9', { loadTrend: true });
        expect(broker.calls.sort()).toEqual(['account', 'snapshots']);

        now = new Date(broker.clock.nextClose.getTime() + 1000);
        broker.calls = [];
        await service.home('U9');
        expect(broker.calls).toContain('clock');
      },
    );
  });
}
