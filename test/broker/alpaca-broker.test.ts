import { afterEach, describe, expect, it } from 'vitest';
import { AlpacaBroker, type AlpacaBrokerOptions } from '../../src/broker/alpaca-broker';
import type { TradeUpdateEvent, TradeUpdateSubscription } from '../../src/broker/broker';
import { CachedBroker } from '../../src/broker/cached-broker';
import { PACER_BUSY_MESSAGE } from '../../src/broker/request-pacer';
import { BrokerError } from '../../src/domain/errors';
import { dec } from '../../src/domain/money';
import type { OrderIntent } from '../../src/domain/order';
import { addDays, weekdaysBetween } from '../../src/domain/value-history';
import { createLogger } from '../../src/logger';
import { type AlpacaStandIn, type AlpacaStandInOptions, startAlpacaStandIn } from '../support/alpaca-standin';

/**
 * The Alpaca adapter with the real SDK, over HTTP and WebSocket, against the local Alpaca
 * stand-in. The logger has no secrets configured, so any key that reached a log line would show.
 */

const FAKE_KEY = 'PKFAKEBROKERKEY';
const FAKE_SECRET = 'fakeBrokerSecret9v8u7t6s5r4q3p2o1n0mLkJi';

const logLines: string[] = [];
const brokerErrors: BrokerError[] = [];
const running: { standIn: AlpacaStandIn; subscriptions: TradeUpdateSubscription[] }[] = [];

afterEach(async () => {
  for (const { standIn, subscriptions } of running.splice(0)) {
    for (const subscription of subscriptions) await subscription.close();
    await standIn.close();
  }
});

async function setUp(
  opts: AlpacaStandInOptions = {},
  keys = { keyId: FAKE_KEY, secretKey: FAKE_SECRET },
  brokerOptions: Partial<AlpacaBrokerOptions> = {},
) {
  const standIn = await startAlpacaStandIn({ keyId: FAKE_KEY, secretKey: FAKE_SECRET, marketOpen: true, ...opts });
  const entry = { standIn, subscriptions: [] as TradeUpdateSubscription[] };
  running.push(entry);
  const logger = createLogger({
    level: 'debug',
    secrets: [],
    destination: { write: (line: string) => void logLines.push(line) },
  });
  const broker = new AlpacaBroker({
    ...keys,
    baseUrl: standIn.baseUrl,
    dataUrl: standIn.dataUrl,
    streamUrl: standIn.streamUrl,
    dataFeed: 'iex',
    logger,
    timeoutMs: 5_000,
    reconnect: { initialMs: 50, maxMs: 200 },
    ...brokerOptions,
  });
  const subscribe = () => {
    const updates: TradeUpdateEvent[] = [];
    const connectionChanges: boolean[] = [];
    const subscription = broker.streamTradeUpdates({
      onUpdate: (u) => void updates.push(u),
      onConnectionChange: (c) => void connectionChanges.push(c),
    });
    entry.subscriptions.push(subscription);
    return { subscription, updates, connectionChanges };
  };
  return { standIn, broker, subscribe };
}

/** Awaits a rejection and returns it as a BrokerError (kept for the no-secrets check at the end). */
async function brokerFailure(promise: Promise<unknown>): Promise<BrokerError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BrokerError);
  brokerErrors.push(err as BrokerError);
  return err as BrokerError;
}

async function waitFor(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let sequence = 0;
function marketBuy(symbol: string, qty: string, overrides: Partial<OrderIntent> = {}): OrderIntent {
  sequence += 1;
  return {
    clientOrderId: `test-${Date.now()}-${sequence}`,
    symbol,
    side: 'buy',
    type: 'market',
    timeInForce: 'day',
    qty: dec(qty),
    extendedHours: false,
    ...overrides,
  };
}

describe('AlpacaBroker against the Alpaca stand-in', () => {
  it('maps the account, the clock and assets', async () => {
    const { standIn, broker } = await setUp({ cash: '25000.5' });
    const account = await broker.getAccount();
    expect(account).toMatchObject({
      accountNumber: 'PA3STANDIN00',
      status: 'ACTIVE',
      currency: 'USD',
      patternDayTrader: false,
      tradingBlocked: false,
    });
    expect(account.cash.toFixed()).toBe('25000.5');
    expect(account.buyingPower.toFixed()).toBe('25000.5');

    const open = await broker.getClock();
    expect(open.isOpen).toBe(true);
    expect(open.nextClose.getTime()).toBeGreaterThan(open.timestamp.getTime());
    standIn.setMarketOpen(false);
    expect((await broker.getClock()).isOpen).toBe(false);

    standIn.addAsset({
      symbol: 'BRK.B',
      name: 'Berkshire Hathaway Inc. Class B',
      fractionable: false,
      exchange: 'NYSE',
    });
    expect(await broker.getAsset('brk.b')).toEqual({
      symbol: 'BRK.B',
      name: 'Berkshire Hathaway Inc. Class B',
      exchange: 'NYSE',
      tradable: true,
      fractionable: false,
      shortable: true,
      status: 'active',
    });
    const assets = await broker.listAssets();
    expect(assets.find((a) => a.symbol === 'AAPL')).toMatchObject({
      name: 'Apple Inc. Common Stock',
      tradable: true,
      fractionable: true,
    });
    expect(standIn.requestCount({ path: '/v2/assets' })).toBe(1);
  });

  it('places a market order and follows it to the fill through the stream, with the execution id', async () => {
    const { broker, subscribe } = await setUp();
    const { subscription, updates } = subscribe();
    await subscription.ready;
    expect(subscription.connected()).toBe(true);

    const intent = marketBuy('AAPL', '10');
    const placed = await broker.submitOrder(intent);
    expect(placed).toMatchObject({
      clientOrderId: intent.clientOrderId,
      symbol: 'AAPL',
      side: 'buy',
      type: 'market',
      timeInForce: 'day',
    });
    expect(placed.qty?.toFixed()).toBe('10');

    await waitFor(() => updates.some((u) => u.event === 'fill'));
    const fill = updates.find((u) => u.event === 'fill');
    expect(fill?.order).toMatchObject({ id: placed.id, clientOrderId: intent.clientOrderId, status: 'filled' });
    expect(fill?.execution?.id).toMatch(/.+/);
    expect(fill?.execution?.qty.toFixed()).toBe('10');
    expect(fill?.execution?.price.toFixed()).toBe('189.44');
    expect(fill?.order.filledAvgPrice?.toFixed()).toBe('189.44');

    const positions = await broker.listPositions();
    expect(positions.find((p) => p.symbol === 'AAPL')?.qty.toFixed()).toBe('10');
    expect((await broker.getOrder(placed.id)).status).toBe('filled');
    expect((await broker.listOrders({ status: 'closed' })).map((o) => o.id)).toContain(placed.id);
  });

  it('cancels an order queued while the market is closed', async () => {
    const { broker, subscribe } = await setUp({ marketOpen: false });
    const { subscription, updates } = subscribe();
    await subscription.ready;
    const placed = await broker.submitOrder(marketBuy('MSFT', '1'));
    expect(placed.status).toBe('accepted');
    expect((await broker.listOrders({ status: 'open' })).map((o) => o.id)).toEqual([placed.id]);
    await broker.cancelOrder(placed.id);
    await waitFor(() => updates.some((u) => u.event === 'canceled'));
    expect((await broker.getOrder(placed.id)).status).toBe('canceled');
  });

  it('refuses a second order with the same client_order_id', async () => {
    const { standIn, broker } = await setUp();
    const intent = marketBuy('AAPL', '1');
    await broker.submitOrder(intent);
    const err = await brokerFailure(broker.submitOrder(intent));
    expect(err.kind).toBe('duplicate_client_order_id');
    expect(err.details).toMatchObject({ status: 422, code: 40010001 });
    expect(standIn.orders()).toHaveLength(1);
  });

  it("reports insufficient buying power with Alpaca's figures", async () => {
    const { standIn, broker } = await setUp();
    standIn.setBuyingPower('100');
    const err = await brokerFailure(broker.submitOrder(marketBuy('AAPL', '10')));
    expect(err.kind).toBe('insufficient_buying_power');
    expect(err.details.buyingPower?.toFixed()).toBe('100');
    expect(err.details.costBasis?.isPositive()).toBe(true);
    expect(err.message).toMatch(
      /^Not enough buying power: the order needs about \$[\d,]+\.\d\d and the account has \$100\.00 available\.$/,
    );
  });

  it('reports the pattern-day-trader refusal', async () => {
    const { standIn, broker } = await setUp();
    standIn.setPatternDayTraderBlocked(true);
    expect((await brokerFailure(broker.submitOrder(marketBuy('AAPL', '1')))).kind).toBe('pattern_day_trader');
  });

  it('reports an unknown symbol, on lookup and on an order', async () => {
    const { broker } = await setUp();
    const lookup = await brokerFailure(broker.getAsset('ZZZZ'));
    expect(lookup.kind).toBe('invalid_symbol');
    expect(lookup.message).toContain('ZZZZ');
    expect((await brokerFailure(broker.submitOrder(marketBuy('ZZZZ', '1')))).kind).toBe('invalid_symbol');
  });

  it('marks a 500 on POST /v2/orders as ambiguous, and the order is then found by client_order_id', async () => {
    const { standIn, broker } = await setUp();
    standIn.inject({ method: 'POST', path: '/v2/orders', status: 500, afterHandling: true });
    const intent = marketBuy('AAPL', '2');
    const err = await brokerFailure(broker.submitOrder(intent));
    expect(err.kind).toBe('unavailable');
    expect(err.ambiguous).toBe(true);
    expect(standIn.requestCount({ method: 'POST', path: '/v2/orders' })).toBe(1);
    const found = await broker.getOrderByClientOrderId(intent.clientOrderId);
    expect(found?.clientOrderId).toBe(intent.clientOrderId);
    expect(found?.id).toBe(standIn.order(intent.clientOrderId)?.id);
  });

  it('marks a dropped connection on POST as ambiguous', async () => {
    const { standIn, broker } = await setUp();
    standIn.inject({ method: 'POST', path: '/v2/orders', dropConnection: true, afterHandling: true });
    const intent = marketBuy('AAPL', '1');
    const err = await brokerFailure(broker.submitOrder(intent));
    expect(err).toMatchObject({ kind: 'unavailable', details: { ambiguous: true } });
    expect(await broker.getOrderByClientOrderId(intent.clientOrderId)).toBeDefined();
  });

  it('answers undefined for a client_order_id Alpaca does not know', async () => {
    const { broker } = await setUp();
    expect(await broker.getOrderByClientOrderId('never-sent')).toBeUndefined();
  });

  it('retries a failed GET but never a POST', async () => {
    const { standIn, broker } = await setUp();
    standIn.inject({ method: 'GET', path: '/v2/account', status: 503 });
    expect((await broker.getAccount()).accountNumber).toBe('PA3STANDIN00');
    expect(standIn.requestCount({ method: 'GET', path: '/v2/account' })).toBe(2);

    standIn.inject({ method: 'POST', path: '/v2/orders', status: 503 });
    const err = await brokerFailure(broker.submitOrder(marketBuy('AAPL', '1')));
    expect(err).toMatchObject({ kind: 'unavailable', details: { ambiguous: true, status: 503 } });
    expect(standIn.requestCount({ method: 'POST', path: '/v2/orders' })).toBe(1);
  });

  it('maps 429 to rate_limited with a wait', async () => {
    const { standIn, broker } = await setUp();
    standIn.inject({ method: 'POST', path: '/v2/orders', status: 429 });
    const err = await brokerFailure(broker.submitOrder(marketBuy('AAPL', '1')));
    expect(err.kind).toBe('rate_limited');
    expect(err.ambiguous).toBe(false);
    expect(err.details.retryAfterMs).toBeGreaterThanOrEqual(0);
  });

  it('asks for 50 snapshots in one request and tolerates a null one', async () => {
    const { standIn, broker } = await setUp({ defaultAssets: false });
    const symbols = Array.from(
      { length: 50 },
      (_, i) => `X${String.fromCharCode(65 + Math.floor(i / 26))}${String.fromCharCode(65 + (i % 26))}`,
    );
    symbols.forEach((symbol, i) => {
      standIn.addAsset({ symbol });
      standIn.setPrice(symbol, { last: `${100 + i}.25`, bid: `${100 + i}.2`, ask: `${100 + i}.3`, prevClose: '99.5' });
    });
    standIn.setNoSnapshot('XAJ');
    const snapshots = await broker.getSnapshots(symbols);
    expect(standIn.requestCount({ path: '/v2/stocks/snapshots' })).toBe(1);
    expect(standIn.requests.find((r) => r.path === '/v2/stocks/snapshots')?.query).toMatchObject({ feed: 'iex' });
    expect(snapshots.size).toBe(49);
    expect(snapshots.has('XAJ')).toBe(false);
    const first = snapshots.get('XAA');
    expect(first?.lastPrice?.toFixed()).toBe('100.25');
    expect(first?.bid?.toFixed()).toBe('100.2');
    expect(first?.ask?.toFixed()).toBe('100.3');
    expect(first?.prevClose?.toFixed()).toBe('99.5');
    expect(await broker.getSnapshots([])).toEqual(new Map());
    expect(standIn.requestCount({ path: '/v2/stocks/snapshots' })).toBe(1);
  });

  it('maps portfolio history', async () => {
    const { standIn, broker } = await setUp();
    const day = 86_400_000;
    const now = Date.now();
    standIn.setPortfolioHistory([
      { t: new Date(now - 2 * day), equity: '100000' },
      { t: new Date(now - day), equity: '100250.75' },
    ]);
    const history = await broker.getPortfolioHistory('1M');
    expect(history.map((p) => p.equity.toFixed())).toEqual(['100000', '100250.75']);
    expect(history[1]?.at.getTime()).toBe(Math.floor((now - day) / 1000) * 1000);
  });

  it('gets daily closes of several symbols by New York date, unadjusted, on the configured feed', async () => {
    const { standIn, broker } = await setUp();
    // Nov 27 2025 is Thanksgiving: no bar. Dates straddle the end of daylight saving time (Nov 2).
    standIn.setDailyBars('AAPL', [
      { date: '2025-10-30', close: '270.1' },
      { date: '2025-10-31', close: '270.37' },
      { date: '2025-11-03', close: '269.05' },
      { date: '2025-11-26', close: '277.55' },
      { date: '2025-11-28', close: '278.85' },
    ]);
    standIn.setDailyBars('MSFT', [{ date: '2025-11-03', close: '517.03' }]);

    const bars = await broker.getDailyBars(['aapl', 'MSFT', 'NOBARS', 'AAPL'], '2025-10-31', '2025-11-28');
    expect([...bars.keys()].sort()).toEqual(['AAPL', 'MSFT']);
    expect(bars.get('AAPL')?.map((b) => [b.date, b.close.toFixed()])).toEqual([
      ['2025-10-31', '270.37'],
      ['2025-11-03', '269.05'],
      ['2025-11-26', '277.55'],
      ['2025-11-28', '278.85'],
    ]);
    expect(bars.get('MSFT')?.map((b) => [b.date, b.close.toFixed()])).toEqual([['2025-11-03', '517.03']]);

    const [request] = standIn.requests.filter((r) => r.path === '/v2/stocks/bars');
    expect(request?.api).toBe('data');
    expect(request?.query).toMatchObject({
      symbols: 'AAPL,MSFT,NOBARS',
      timeframe: '1Day',
      feed: 'iex',
      adjustment: 'raw',
      sort: 'asc',
      limit: '10000',
    });
  });

  it('follows next_page_token until every bar is in, one paced request per page', async () => {
    const { standIn, broker } = await setUp();
    // 3 × 3,500 bars: more than one page of 10,000 (Alpaca counts the limit over all symbols).
    const dates = weekdaysBetween('2012-01-02', addDays('2012-01-02', 4_899)).slice(0, 3_500);
    for (const symbol of ['AAPL', 'MSFT', 'SPY']) {
      standIn.setDailyBars(
        symbol,
        dates.map((date, i) => ({ date, close: String(100 + i / 100) })),
      );
    }
    const bars = await broker.getDailyBars(['SPY', 'MSFT', 'AAPL'], dates[0]!, dates.at(-1)!);
    expect([...bars.values()].map((b) => b.length)).toEqual([3_500, 3_500, 3_500]);
    expect(bars.get('MSFT')?.at(-1)).toMatchObject({ date: dates.at(-1), close: dec('134.99') });
    const pages = standIn.requests.filter((r) => r.path === '/v2/stocks/bars');
    expect(pages.map((r) => r.query.page_token === undefined)).toEqual([true, false]);
    expect(pages.map((r) => r.status)).toEqual([200, 200]);
  });

  it('on the SIP feed, ends the window 15 minutes ago, as a plan without real-time SIP requires', async () => {
    const { standIn, broker } = await setUp({}, undefined, { dataFeed: 'sip' });
    const today = new Date().toISOString().slice(0, 10);
    standIn.setDailyBars('AAPL', [{ date: '2025-11-03', close: '269.05' }]);
    const bars = await broker.getDailyBars(['AAPL'], '2025-11-03', today);
    expect(bars.get('AAPL')?.map((b) => b.date)).toEqual(['2025-11-03']);
    const [request] = standIn.requests.filter((r) => r.path === '/v2/stocks/bars');
    expect(request?.query.feed).toBe('sip');
    expect(Date.parse(request!.query.end!)).toBeLessThanOrEqual(Date.now() - 15 * 60_000);
  });

  it('reports an unavailable market-data host as a BrokerError', async () => {
    const { standIn, broker } = await setUp();
    standIn.inject({ path: '/v2/stocks/bars', status: 503, times: 5 });
    const err = await brokerFailure(broker.getDailyBars(['AAPL'], '2025-11-03', '2025-11-28'));
    expect(err.kind).toBe('unavailable');
  });

  it(
    'with the read queue full, still sends an order and its client_order_id lookups first, ' +
      'and refuses a flood of reads at once',
    async () => {
      const intervalMs = 2_000;
      // 6 requests per window, 2 of them kept for orders: 4 reads go, 2 wait, the rest are refused.
      const { standIn, broker } = await setUp({}, undefined, {
        pacing: { limit: 6, intervalMs, reservedForOrders: 2, maxQueuedReads: 2 },
      });
      const accountRequests = () => standIn.requestCount({ method: 'GET', path: '/v2/account' });
      const lookups = () => standIn.requests.filter((r) => r.path === '/v2/orders:by_client_order_id');
      const began = Date.now();
      const flood = Array.from({ length: 10 }, () => broker.getAccount());

      const refused = await Promise.all(flood.slice(6).map((read) => brokerFailure(read)));
      for (const err of refused)
        expect(err).toMatchObject({ kind: 'rate_limited', message: PACER_BUSY_MESSAGE, ambiguous: false });
      expect(Date.now() - began).toBeLessThan(intervalMs / 4);
      await Promise.all(flood.slice(0, 4));
      expect(accountRequests()).toBe(4);

      const intent = marketBuy('AAPL', '1');
      const placed = await broker.submitOrder(intent);
      expect((await broker.getOrderByClientOrderId(intent.clientOrderId))?.id).toBe(placed.id);
      expect(Date.now() - began).toBeLessThan(intervalMs / 2);
      expect(accountRequests()).toBe(4);
      expect(standIn.requestCount({ method: 'POST', path: '/v2/orders' })).toBe(1);

      // The window is now full: the next lookup is paced too, and still goes ahead of the queued reads.
      const [again, ...queued] = await Promise.all([
        broker.getOrderByClientOrderId(intent.clientOrderId),
        flood[4],
        flood[5],
      ]);
      expect(again?.id).toBe(placed.id);
      expect(queued.map((account) => account?.accountNumber)).toEqual(['PA3STANDIN00', 'PA3STANDIN00']);
      const firstRead = standIn.requests.find((r) => r.path === '/v2/account')!;
      const secondLookup = lookups()[1]!;
      expect(secondLookup.at - firstRead.at).toBeGreaterThanOrEqual(intervalMs - 100);
      const queuedReads = standIn.requests.filter((r) => r.path === '/v2/account').slice(4);
      for (const read of queuedReads)
        expect(standIn.requests.indexOf(read)).toBeGreaterThan(standIn.requests.indexOf(secondLookup));
    },
  );

  it('behind CachedBroker, sends one clock request for 10 rapid calls', async () => {
    const { standIn, broker } = await setUp();
    const cached = new CachedBroker(broker);
    await Promise.all(Array.from({ length: 5 }, () => cached.getClock()));
    for (let i = 0; i < 5; i++) await cached.getClock();
    expect(standIn.requestCount({ path: '/v2/clock' })).toBe(1);
  });

  it('reconnects the stream after a drop and keeps delivering updates', async () => {
    const { standIn, broker, subscribe } = await setUp();
    const { subscription, updates, connectionChanges } = subscribe();
    await subscription.ready;
    standIn.dropStreamConnections();
    await waitFor(() => connectionChanges.includes(false));
    await waitFor(() => subscription.connected());
    expect(connectionChanges).toEqual([true, false, true]);
    await standIn.waitForStreamListening();

    const placed = await broker.submitOrder(marketBuy('TSLA', '3'));
    await waitFor(() => updates.some((u) => u.event === 'fill' && u.order.id === placed.id));
    expect(updates.filter((u) => u.order.id === placed.id).map((u) => u.event)).toEqual(['new', 'fill']);

    await subscription.close();
    expect(subscription.connected()).toBe(false);
    expect(connectionChanges.at(-1)).toBe(false);
  });

  it('refuses wrong keys as unauthorized, on REST and on the stream', async () => {
    const { broker, subscribe } = await setUp(
      {},
      { keyId: 'PKWRONGKEY', secretKey: 'wrongSecret00000000000000000000000000000' },
    );
    expect((await brokerFailure(broker.getAccount())).kind).toBe('unauthorized');
    const { subscription } = subscribe();
    const refusal = await brokerFailure(subscription.ready);
    expect(refusal.kind).toBe('unauthorized');
    expect(subscription.connected()).toBe(false);
  });

  it('rejects `ready` when the subscription is closed before the stream ever listened', async () => {
    const { standIn } = await setUp();
    const unreachable = new AlpacaBroker({
      keyId: FAKE_KEY,
      secretKey: FAKE_SECRET,
      baseUrl: standIn.baseUrl,
      dataUrl: standIn.dataUrl,
      streamUrl: `${standIn.streamUrl.replace('/stream', '/no-such-stream')}`,
      dataFeed: 'iex',
      logger: createLogger({
        level: 'debug',
        secrets: [],
        destination: { write: (line: string) => void logLines.push(line) },
      }),
      reconnect: { initialMs: 20, maxMs: 50 },
    });
    const subscription = unreachable.streamTradeUpdates({ onUpdate: () => undefined });
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(subscription.connected()).toBe(false);
    await subscription.close();
    expect((await brokerFailure(subscription.ready)).kind).toBe('unavailable');
  });

  it('never puts a key or secret into a BrokerError or a log line', () => {
    expect(brokerErrors.length).toBeGreaterThanOrEqual(11);
    expect(logLines.length).toBeGreaterThan(0);
    const secrets = [FAKE_KEY, FAKE_SECRET, 'PKWRONGKEY', 'wrongSecret00000000000000000000000000000'];
    for (const err of brokerErrors) {
      const serialized = JSON.stringify({ ...err, message: err.message, stack: err.stack });
      for (const secret of secrets) expect(serialized).not.toContain(secret);
    }
    const logs = logLines.join('\n');
    for (const secret of secrets) expect(logs).not.toContain(secret);
  });
});
