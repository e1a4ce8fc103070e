import { describe, expect, it } from 'vitest';
import type { Broker } from '../../src/broker/broker';
import { CachedBroker, DEFAULT_CACHE_SIZES } from '../../src/broker/cached-broker';
import { BrokerError } from '../../src/domain/errors';
import type { BrokerAsset, MarketClock, Snapshot } from '../../src/domain/market';
import { dec } from '../../src/domain/money';

const asset = (symbol: string): BrokerAsset => ({
  symbol,
  name: `${symbol} Inc`,
  exchange: 'NASDAQ',
  tradable: true,
  fractionable: true,
  shortable: true,
  status: 'active',
});
const snapshot = (symbol: string, last = '100'): Snapshot => ({ symbol, lastPrice: dec(last) });

/** A broker whose every method counts its calls; behaviour is overridable per test. */
function fakeBroker(overrides: Partial<Broker> = {}) {
  const calls: Record<string, unknown[][]> = {};
  const record = (name: string, args: unknown[]) => {
    calls[name] ??= [];
    calls[name].push(args);
  };
  const start = Date.parse('2026-03-02T15:00:00Z');
  const base: Broker = {
    kind: 'alpaca',
    getAccount: async () => ({
      accountNumber: 'PA1',
      status: 'ACTIVE',
      currency: 'USD',
      cash: dec(1000),
      equity: dec(1000),
      lastEquity: dec(1000),
      buyingPower: dec(2000),
      portfolioValue: dec(1000),
      patternDayTrader: false,
      tradingBlocked: false,
    }),
    getClock: async (): Promise<MarketClock> => ({
      isOpen: true,
      timestamp: new Date(start),
      nextOpen: new Date(start + 86_400_000),
      nextClose: new Date(start + 3_600_000),
    }),
    getAsset: async (symbol) => {
      if (symbol === 'NOPE') throw new BrokerError('invalid_symbol', 'unknown');
      return asset(symbol);
    },
    listAssets: async () => [asset('AAPL'), asset('MSFT')],
    getSnapshots: async (symbols) => new Map(symbols.filter((s) => s !== 'NODATA').map((s) => [s, snapshot(s)])),
    submitOrder: async () => {
      throw new Error('not used');
    },
    getOrderByClientOrderId: async () => undefined,
    getOrder: async () => {
      throw new Error('not used');
    },
    listOrders: async () => [],
    cancelOrder: async () => undefined,
    listPositions: async () => [],
    getPortfolioHistory: async () => [],
    getDailyBars: async () => new Map(),
    getCalendar: async () => [],
    streamTradeUpdates: () => ({ ready: Promise.resolve(), connected: () => true, close: async () => undefined }),
  };
  const merged = { ...base, ...overrides };
  const counted = Object.fromEntries(
    Object.entries(merged).map(([name, value]) =>
      typeof value === 'function'
        ? [
            name,
            (...args: unknown[]) => {
              record(name, args);
              return (value as (...a: unknown[]) => unknown)(...args);
            },
          ]
        : [name, value],
    ),
  ) as unknown as Broker;
  return { broker: counted, calls, count: (name: string) => calls[name]?.length ?? 0, start };
}

function clockAt(start: number) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('CachedBroker', () => {
  it('answers the clock from cache for 30 s and shares one in-flight request', async () => {
    const { broker, count, start } = fakeBroker();
    const time = clockAt(start);
    const cached = new CachedBroker(broker, { now: time.now });
    await Promise.all(Array.from({ length: 10 }, () => cached.getClock()));
    expect(count('getClock')).toBe(1);
    time.advance(29_000);
    await cached.getClock();
    expect(count('getClock')).toBe(1);
    time.advance(2_000);
    await cached.getClock();
    expect(count('getClock')).toBe(2);
  });

  it('expires a cached clock at the next open or close even inside the 30 s', async () => {
    const { broker, count, start } = fakeBroker({
      getClock: async () => ({
        isOpen: false,
        timestamp: new Date(start),
        nextOpen: new Date(start + 10_000),
        nextClose: new Date(start + 86_400_000),
      }),
    });
    const time = clockAt(start);
    const cached = new CachedBroker(broker, { now: time.now });
    await cached.getClock();
    time.advance(10_000);
    await cached.getClock();
    expect(count('getClock')).toBe(2);
  });

  it('does not cache failures', async () => {
    let fail = true;
    const { broker, count, start } = fakeBroker({
      getAccount: async () => {
        if (fail) throw new BrokerError('unavailable', 'down');
        return fakeBroker().broker.getAccount();
      },
    });
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    await expect(cached.getAccount()).rejects.toThrow('down');
    fail = false;
    await expect(cached.getAccount()).resolves.toMatchObject({ accountNumber: 'PA1' });
    expect(count('getAccount')).toBe(2);
  });

  it('caches the account for 5 s and forgets it after an order or a cancel', async () => {
    const { broker, count, start } = fakeBroker({ submitOrder: async () => ({}) as never });
    const time = clockAt(start);
    const cached = new CachedBroker(broker, { now: time.now });
    await cached.getAccount();
    time.advance(4_000);
    await cached.getAccount();
    expect(count('getAccount')).toBe(1);
    time.advance(1_000);
    await cached.getAccount();
    expect(count('getAccount')).toBe(2);
    await cached.submitOrder({
      clientOrderId: 'c',
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
      qty: dec(1),
      extendedHours: false,
    });
    await cached.getAccount();
    expect(count('getAccount')).toBe(3);
    await cached.cancelOrder('o-1');
    await cached.getAccount();
    expect(count('getAccount')).toBe(4);
  });

  it('lists assets once a day and answers getAsset from the list', async () => {
    const { broker, count, start } = fakeBroker();
    const time = clockAt(start);
    const cached = new CachedBroker(broker, { now: time.now });
    await Promise.all([cached.listAssets(), cached.listAssets()]);
    expect(await cached.getAsset('aapl')).toMatchObject({ symbol: 'AAPL' });
    expect(count('listAssets')).toBe(1);
    expect(count('getAsset')).toBe(0);
    time.advance(23 * 3_600_000);
    await cached.listAssets();
    expect(count('listAssets')).toBe(1);
    time.advance(3_600_000);
    await cached.listAssets();
    expect(count('listAssets')).toBe(2);
  });

  it('asks for an asset missing from the list once, then remembers it', async () => {
    const { broker, count, start } = fakeBroker();
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    await cached.listAssets();
    await Promise.all([cached.getAsset('TSLA'), cached.getAsset('TSLA')]);
    await cached.getAsset('TSLA');
    expect(count('getAsset')).toBe(1);
  });

  it('remembers an unknown symbol briefly', async () => {
    const { broker, count, start } = fakeBroker();
    const time = clockAt(start);
    const cached = new CachedBroker(broker, { now: time.now });
    await expect(cached.getAsset('NOPE')).rejects.toMatchObject({ kind: 'invalid_symbol' });
    await expect(cached.getAsset('nope')).rejects.toMatchObject({ kind: 'invalid_symbol' });
    expect(count('getAsset')).toBe(1);
    time.advance(61_000);
    await expect(cached.getAsset('NOPE')).rejects.toMatchObject({ kind: 'invalid_symbol' });
    expect(count('getAsset')).toBe(2);
  });

  it('caches snapshots 15 s per symbol and asks only for the missing ones, in one batch', async () => {
    const { broker, calls, count, start } = fakeBroker();
    const time = clockAt(start);
    const cached = new CachedBroker(broker, { now: time.now });
    await cached.getSnapshots(['AAPL', 'MSFT']);
    time.advance(10_000);
    const second = await cached.getSnapshots(['AAPL', 'MSFT', 'TSLA', 'NVDA']);
    expect([...second.keys()].sort()).toEqual(['AAPL', 'MSFT', 'NVDA', 'TSLA']);
    expect(count('getSnapshots')).toBe(2);
    expect(calls.getSnapshots?.[1]?.[0]).toEqual(['TSLA', 'NVDA']);
    time.advance(6_000);
    await cached.getSnapshots(['AAPL', 'TSLA']);
    expect(calls.getSnapshots?.[2]?.[0]).toEqual(['AAPL']);
  });

  it('asks Alpaca again for a fresh quote whatever the cache holds, and caches that answer', async () => {
    const { broker, calls, count, start } = fakeBroker();
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    await cached.getSnapshots(['AAPL', 'MSFT']);
    await cached.getFreshSnapshots(['aapl']);
    expect(count('getSnapshots')).toBe(2);
    expect(calls.getSnapshots?.[1]?.[0]).toEqual(['AAPL']);
    await cached.getSnapshots(['AAPL', 'MSFT']);
    expect(count('getSnapshots')).toBe(2);
  });

  it('remembers that a symbol has no snapshot', async () => {
    const { broker, count, start } = fakeBroker();
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    expect((await cached.getSnapshots(['NODATA'])).size).toBe(0);
    expect((await cached.getSnapshots(['NODATA'])).size).toBe(0);
    expect(count('getSnapshots')).toBe(1);
  });

  it('shares an in-flight snapshot request between concurrent callers', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { broker, calls, count, start } = fakeBroker({
      getSnapshots: async (symbols) => {
        await gate;
        return new Map(symbols.map((s) => [s, snapshot(s)]));
      },
    });
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    const first = cached.getSnapshots(['AAPL', 'MSFT']);
    const second = cached.getSnapshots(['MSFT', 'AAPL']);
    const third = cached.getSnapshots(['AAPL', 'TSLA']);
    release();
    const results = await Promise.all([first, second, third]);
    expect(results.map((r) => [...r.keys()].sort())).toEqual([
      ['AAPL', 'MSFT'],
      ['AAPL', 'MSFT'],
      ['AAPL', 'TSLA'],
    ]);
    expect(count('getSnapshots')).toBe(2);
    expect(calls.getSnapshots?.[1]?.[0]).toEqual(['TSLA']);
  });

  it('passes a failed snapshot batch to every waiting caller and retries next time', async () => {
    let fail = true;
    const { broker, count, start } = fakeBroker({
      getSnapshots: async (symbols) => {
        if (fail) throw new BrokerError('unavailable', 'down');
        return new Map(symbols.map((s) => [s, snapshot(s)]));
      },
    });
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    await expect(Promise.all([cached.getSnapshots(['AAPL']), cached.getSnapshots(['AAPL'])])).rejects.toThrow('down');
    fail = false;
    expect((await cached.getSnapshots(['AAPL'])).get('AAPL')?.lastPrice?.toFixed()).toBe('100');
    expect(count('getSnapshots')).toBe(2);
  });

  it(
    'keeps at most the configured number of quotes, ' +
      'dropping the least recently used, and still answers a larger batch',
    async () => {
      const { broker, calls, count, start } = fakeBroker();
      const cached = new CachedBroker(broker, { now: clockAt(start).now, maxEntries: { snapshots: 2 } });
      await cached.getSnapshots(['AAPL', 'MSFT']);
      await cached.getSnapshots(['TSLA']);
      await cached.getSnapshots(['MSFT']);
      expect(count('getSnapshots')).toBe(2);
      await cached.getSnapshots(['AAPL']);
      expect(count('getSnapshots')).toBe(3);
      expect(calls.getSnapshots?.[2]?.[0]).toEqual(['AAPL']);

      const wide = await cached.getSnapshots(['A', 'B', 'C', 'D', 'E']);
      expect([...wide.keys()]).toEqual(['A', 'B', 'C', 'D', 'E']);
    },
  );

  it(
    'bounds the quotes in flight too: ' + 'a caller for an evicted one asks again, and every caller gets its answer',
    async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      const { broker, calls, count, start } = fakeBroker({
        getSnapshots: async (symbols) => {
          await gate;
          return new Map(symbols.map((s) => [s, snapshot(s)]));
        },
      });
      const cached = new CachedBroker(broker, { now: clockAt(start).now, maxEntries: { snapshots: 2 } });
      const first = cached.getSnapshots(['AAPL', 'MSFT', 'TSLA']);
      const second = cached.getSnapshots(['AAPL', 'TSLA']);
      release();
      const results = await Promise.all([first, second]);
      expect(results.map((r) => [...r.keys()])).toEqual([
        ['AAPL', 'MSFT', 'TSLA'],
        ['AAPL', 'TSLA'],
      ]);
      expect(count('getSnapshots')).toBe(2);
      expect(calls.getSnapshots?.[1]?.[0]).toEqual(['AAPL']);
    },
  );

  it('keeps at most the configured number of assets looked up one by one', async () => {
    const { broker, count, start } = fakeBroker();
    const cached = new CachedBroker(broker, { now: clockAt(start).now, maxEntries: { assets: 2 } });
    for (const symbol of ['TSLA', 'NVDA', 'TSLA', 'AMD']) await cached.getAsset(symbol);
    expect(count('getAsset')).toBe(3);
    await cached.getAsset('TSLA');
    expect(count('getAsset')).toBe(3);
    await cached.getAsset('NVDA');
    expect(count('getAsset')).toBe(4);
  });

  it('remembers a bounded number of unknown symbols by default', async () => {
    const { broker, count, start } = fakeBroker({
      getAsset: async () => {
        throw new BrokerError('invalid_symbol', 'unknown');
      },
    });
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    const symbols = Array.from({ length: DEFAULT_CACHE_SIZES.unknownSymbols + 1 }, (_, i) => `Z${i}`);
    for (const symbol of symbols)
      await expect(cached.getAsset(symbol)).rejects.toMatchObject({ kind: 'invalid_symbol' });
    await expect(cached.getAsset(symbols.at(-1)!)).rejects.toMatchObject({ kind: 'invalid_symbol' });
    expect(count('getAsset')).toBe(symbols.length);
    await expect(cached.getAsset(symbols[0]!)).rejects.toMatchObject({ kind: 'invalid_symbol' });
    expect(count('getAsset')).toBe(symbols.length + 1);
  });

  it('passes orders, positions, history and the stream straight through', async () => {
    const { broker, count, start } = fakeBroker();
    const cached = new CachedBroker(broker, { now: clockAt(start).now });
    expect(cached.kind).toBe('alpaca');
    for (let i = 0; i < 2; i++) {
      await cached.listPositions();
      await cached.listOrders({ status: 'open' });
      await cached.getOrderByClientOrderId('c-1');
      await cached.getPortfolioHistory('1M');
      await cached.getDailyBars(['AAPL'], '2026-02-02', '2026-03-02');
    }
    cached.streamTradeUpdates({ onUpdate: () => undefined });
    expect([
      count('listPositions'),
      count('listOrders'),
      count('getOrderByClientOrderId'),
      count('getPortfolioHistory'),
      count('getDailyBars'),
      count('streamTradeUpdates'),
    ]).toEqual([2, 2, 2, 2, 2, 1]);
  });
});
