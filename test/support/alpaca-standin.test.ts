import {
  Alpaca,
  type AlpacaClientOptions,
  ApiError,
  AuthError,
  FetchError,
  NotFoundError,
  PermissionError,
  RateLimitError,
  streaming,
  ValidationError,
} from '@alpacahq/alpaca-trade-api';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type AlpacaStandIn, type AlpacaStandInOptions, startAlpacaStandIn } from './alpaca-standin';

/**
 * Drives the stand-in with the real SDK (@alpacahq/alpaca-trade-api 4.0.2), its hosts rewritten
 * by a `pre` middleware exactly as the broker adapter does it.
 */

const running: { standIn: AlpacaStandIn; streams: streaming.TradingStream[] }[] = [];

afterEach(async () => {
  for (const { standIn, streams } of running.splice(0)) {
    for (const s of streams) s.disconnect();
    await standIn.close();
  }
});

async function start(opts: AlpacaStandInOptions = {}) {
  const standIn = await startAlpacaStandIn(opts);
  const entry = { standIn, streams: [] as streaming.TradingStream[] };
  running.push(entry);
  const client = (overrides: Partial<AlpacaClientOptions> = {}) =>
    new Alpaca({
      keyId: standIn.keyId,
      secret: standIn.secretKey,
      middleware: [
        {
          pre: async (ctx) => ({
            url: ctx.url
              .replace('https://paper-api.alpaca.markets', standIn.baseUrl)
              .replace('https://data.alpaca.markets', standIn.dataUrl),
            init: ctx.init,
          }),
        },
      ],
      ...overrides,
    });
  const openStream = (credentials = { keyId: standIn.keyId, secret: standIn.secretKey }) => {
    const stream = new streaming.TradingStream({
      url: standIn.streamUrl,
      credentials,
      initialReconnectMs: 50,
      reconnectJitter: 0,
      pingIntervalMs: 0,
    });
    entry.streams.push(stream);
    const updates: streaming.TradeUpdate[] = [];
    stream.onTradeUpdate((u) => updates.push(u));
    stream.onConnect(() => stream.subscribeTradeUpdates());
    stream.connect();
    return { stream, updates };
  };
  return { standIn, alpaca: client(), client, openStream };
}

async function eventually<T>(read: () => T | undefined, timeoutMs = 3000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
}

async function errorBody(err: unknown): Promise<Record<string, unknown>> {
  if (!(err instanceof ApiError)) throw err;
  return (await err.response.clone().json()) as Record<string, unknown>;
}

describe('Alpaca stand-in driven by the real SDK', () => {
  it('serves the account, clock, assets and a 404 for an unknown asset', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true, cash: '25000', accountNumber: 'PA3TEST' });
    const account = await alpaca.trading.account.getAccount();
    expect(account).toMatchObject({
      accountNumber: 'PA3TEST',
      cash: '25000',
      buyingPower: '25000',
      currency: 'USD',
      status: 'ACTIVE',
    });

    const clock = await alpaca.trading.clock.legacyClock();
    expect(clock.isOpen).toBe(true);
    expect(clock.nextClose.getTime()).toBeLessThan(clock.nextOpen.getTime());

    const assets = await alpaca.trading.assets.getV2Assets({ status: 'active' });
    expect(assets.map((a) => a.symbol)).toEqual(expect.arrayContaining(['AAPL', 'MSFT', 'TSLA', 'SPY']));
    const aapl = await alpaca.trading.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: 'AAPL' });
    expect(aapl).toMatchObject({ symbol: 'AAPL', tradable: true, fractionable: true, exchange: 'NASDAQ' });

    const missing = await rejection(alpaca.trading.assets.getV2AssetsSymbolOrAssetId({ symbolOrAssetId: 'NOPE' }));
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing).toMatchObject({ status: 404, code: 40410000, message: 'asset not found' });
    expect(standIn.requestCount({ method: 'GET', path: '/v2/assets/NOPE' })).toBe(1);
  });

  it('refuses wrong keys with 401 40110000 and the stream with an unauthorized frame', async () => {
    const { standIn, client, openStream } = await start();
    const err = await rejection(client({ secret: 'wrong', retry: false }).trading.account.getAccount());
    expect(err).toBeInstanceOf(AuthError);
    expect(err).toMatchObject({ status: 401, code: 40110000, message: 'request is not authorized' });

    const { stream } = openStream({ keyId: standIn.keyId, secret: 'wrong' });
    const auth = await stream.waitForAuthenticationResult(3000);
    expect(auth).toMatchObject({ authenticated: false, status: 'server_rejected' });
  });

  it('places a market order that fills at the ask and streams new + fill with an execution id', async () => {
    const { alpaca, standIn, openStream } = await start({ marketOpen: true });
    const { stream, updates } = openStream();
    expect(await stream.waitForAuthentication(3000)).toBe(true);
    await standIn.waitForStreamListening();

    const placed = await alpaca.trading.orders.market({
      symbol: 'AAPL',
      qty: 10,
      side: 'buy',
      clientOrderId: 'trade-1',
    });
    expect(placed).toMatchObject({ clientOrderId: 'trade-1', status: 'pending_new', qty: '10', filledQty: '0' });

    const fill = await eventually(() => updates.find((u) => u.event === 'fill'));
    expect(updates.map((u) => u.event)).toEqual(['new', 'fill']);
    expect(fill).toMatchObject({ price: '189.44', qty: '10', positionQty: '10' });
    expect(fill.executionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fill.order).toMatchObject({ id: placed.id, status: 'filled', filledQty: '10', filledAvgPrice: '189.44' });

    const fetched = await alpaca.trading.orders.getOrderByClientOrderId({ clientOrderId: 'trade-1' });
    expect(fetched).toMatchObject({ id: placed.id, status: 'filled' });
    const position = await alpaca.trading.positions.getOpenPosition({ symbolOrAssetId: 'AAPL' });
    expect(position).toMatchObject({ qty: '10', avgEntryPrice: '189.44', side: 'long' });
    expect((await alpaca.trading.account.getAccount()).cash).toBe('98105.6');
    expect(standIn.positions()).toEqual([{ symbol: 'AAPL', qty: '10', avg_entry_price: '189.44' }]);
  });

  it('keeps a non-marketable limit order open, cancels it with 204, then answers 422', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    const order = await alpaca.trading.orders.limit({ symbol: 'MSFT', qty: 2, side: 'buy', limitPrice: 400 });
    expect(standIn.order(order.id!)?.status).toBe('new');
    const open = await alpaca.trading.orders.getAllOrders({ status: 'open' });
    expect(open.map((o) => o.id)).toEqual([order.id]);

    await alpaca.trading.orders.deleteOrderByOrderID({ orderId: order.id! });
    expect(standIn.requests.at(-1)).toMatchObject({ method: 'DELETE', status: 204 });
    expect(standIn.order(order.id!)?.status).toBe('canceled');

    const again = await rejection(alpaca.trading.orders.deleteOrderByOrderID({ orderId: order.id! }));
    expect(again).toBeInstanceOf(ValidationError);
    expect(again).toMatchObject({ status: 422, message: 'order is already in "canceled" state' });

    standIn.setPrice('MSFT', { last: '399.90', bid: '399.85', ask: '399.95' });
    const resting = await alpaca.trading.orders.limit({ symbol: 'MSFT', qty: 1, side: 'buy', limitPrice: 399 });
    standIn.setPrice('MSFT', { last: '398.50', bid: '398.45', ask: '398.55' });
    expect(standIn.order(resting.id!)).toMatchObject({ status: 'filled', filled_avg_price: '398.55' });
  });

  it('rejects a reused client_order_id with 422 40010001', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    await alpaca.trading.orders.market({ symbol: 'TSLA', qty: 1, side: 'buy', clientOrderId: 'same-id' });
    const err = await rejection(
      alpaca.trading.orders.market({ symbol: 'TSLA', qty: 1, side: 'buy', clientOrderId: 'same-id' }),
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ status: 422, code: 40010001, message: 'client_order_id must be unique' });
    expect(standIn.orders()).toHaveLength(1);
  });

  it('refuses a buy beyond buying power with 403 40310000 and the figures', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    standIn.setBuyingPower('1000');
    const err = await rejection(alpaca.trading.orders.market({ symbol: 'AAPL', qty: 10, side: 'buy' }));
    expect(err).toBeInstanceOf(PermissionError);
    expect(err).toMatchObject({ status: 403, code: 40310000, message: 'insufficient buying power' });
    expect(await errorBody(err)).toEqual({
      code: 40310000,
      message: 'insufficient buying power',
      buying_power: '1000',
      cost_basis: '1894.4',
    });
    expect(standIn.orders()).toHaveLength(0);
  });

  it('queues a day order while closed and fills it at the open, with the fill on the stream', async () => {
    const { alpaca, standIn, openStream } = await start({ marketOpen: false });
    const { stream, updates } = openStream();
    await stream.waitForAuthentication(3000);
    await standIn.waitForStreamListening();

    const order = await alpaca.trading.orders.market({ symbol: 'SPY', qty: 3, side: 'buy', clientOrderId: 'queued' });
    expect(order.status).toBe('accepted');
    expect((await alpaca.trading.clock.legacyClock()).isOpen).toBe(false);
    expect(updates).toEqual([]);

    standIn.setMarketOpen(true);
    const fill = await eventually(() => updates.find((u) => u.event === 'fill'));
    expect(updates.map((u) => u.event)).toEqual(['new', 'fill']);
    expect(fill.order).toMatchObject({ clientOrderId: 'queued', status: 'filled', filledAvgPrice: '520.02' });
  });

  it('reports partial fills with a weighted average price', async () => {
    const { alpaca, standIn, openStream } = await start({ marketOpen: true, fillMode: 'manual' });
    const { updates } = openStream();
    await standIn.waitForStreamListening();
    const order = await alpaca.trading.orders.market({
      symbol: 'AAPL',
      qty: 10,
      side: 'buy',
      clientOrderId: 'partial',
    });
    expect(standIn.order('partial')?.status).toBe('new');

    standIn.fill('partial', '4', '100');
    standIn.fill(order.id!, '6', '101');
    await eventually(() => updates.find((u) => u.event === 'fill'));
    expect(updates.map((u) => [u.event, u.qty, u.price, u.positionQty])).toEqual([
      ['new', undefined, undefined, undefined],
      ['partial_fill', '4', '100', '4'],
      ['fill', '6', '101', '10'],
    ]);
    expect(new Set(updates.map((u) => u.executionId)).size).toBe(3);
    expect(await alpaca.trading.orders.getOrderByOrderID({ orderId: order.id! })).toMatchObject({
      status: 'filled',
      filledQty: '10',
      filledAvgPrice: '100.6',
    });
    expect(() => standIn.fill('partial', '1')).toThrow(/already filled/);
  });

  it('serves snapshots, with null for a symbol Alpaca has none for', async () => {
    const { alpaca, standIn } = await start();
    standIn.addAsset({ symbol: 'KUBTY', exchange: 'OTC' });
    standIn.setPrice('KUBTY', { last: '30' });
    standIn.setNoSnapshot('KUBTY');
    const snapshots = await alpaca.marketData.stocks.stockSnapshots({ symbols: 'AAPL,KUBTY', feed: 'iex' });
    expect(snapshots.KUBTY).toBeNull();
    expect(snapshots.AAPL).toMatchObject({
      latestTrade: { p: 189.42 },
      latestQuote: { bp: 189.4, ap: 189.44 },
      prevDailyBar: { c: 187.15 },
    });
    expect(standIn.requestCount({ path: '/v2/stocks/snapshots' })).toBe(1);
    expect(standIn.requests.at(-1)).toMatchObject({ api: 'data', query: { symbols: 'AAPL,KUBTY', feed: 'iex' } });
  });

  it('answers 429 with X-RateLimit headers over the per-minute budget, without performing the request', async () => {
    const { client, standIn } = await start({ marketOpen: true, rateLimitPerMinute: 3 });
    const alpaca = client({ retry: false });
    for (let i = 0; i < 3; i++) await alpaca.trading.account.getAccount();
    const err = await rejection(alpaca.trading.orders.market({ symbol: 'AAPL', qty: 1, side: 'buy' }));
    expect(err).toBeInstanceOf(RateLimitError);
    expect(err).toMatchObject({ status: 429, code: 42910000, message: 'rate limit exceeded' });
    const limited = err as RateLimitError;
    expect(limited.rateLimit).toMatchObject({ limit: 3, remaining: 0 });
    expect(limited.rateLimit?.reset?.getTime()).toBeGreaterThan(Date.now());
    expect(standIn.orders()).toHaveLength(0);
    // The market-data host keeps its own budget.
    await alpaca.marketData.stocks.stockLatestTrades({ symbols: 'AAPL' });
  });

  it('injects a 500 after placing the order: the order exists afterwards', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    standIn.inject({ method: 'POST', path: '/v2/orders', status: 500, afterHandling: true });
    const err = await rejection(
      alpaca.trading.orders.market({ symbol: 'AAPL', qty: 1, side: 'buy', clientOrderId: 'ambiguous' }),
    );
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 500 });
    const found = await alpaca.trading.orders.getOrderByClientOrderId({ clientOrderId: 'ambiguous' });
    expect(found).toMatchObject({ clientOrderId: 'ambiguous', status: 'filled' });

    const unknown = await rejection(alpaca.trading.orders.getOrderByClientOrderId({ clientOrderId: 'never-sent' }));
    expect(unknown).toMatchObject({ status: 404, code: 40410000 });
  });

  it('drops connections before or after handling, and consumes faults as asked', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    standIn.inject({ method: 'POST', path: '/v2/orders', dropConnection: true });
    expect(
      await rejection(alpaca.trading.orders.market({ symbol: 'AAPL', qty: 1, side: 'buy', clientOrderId: 'lost' })),
    ).toBeInstanceOf(FetchError);
    expect(standIn.order('lost')).toBeUndefined();

    standIn.inject({ method: 'POST', path: '/v2/orders', dropConnection: true, afterHandling: true });
    expect(
      await rejection(alpaca.trading.orders.market({ symbol: 'AAPL', qty: 1, side: 'buy', clientOrderId: 'placed' })),
    ).toBeInstanceOf(FetchError);
    expect(standIn.order('placed')?.status).toBe('filled');
    expect(standIn.requests.filter((r) => r.method === 'POST').map((r) => r.status)).toEqual([0, 0]);

    // GETs are retried by the SDK: two 503s are absorbed, the third attempt succeeds.
    standIn.inject({ method: 'GET', path: /^\/v2\/account$/, status: 503, times: 2 });
    await alpaca.trading.account.getAccount();
    expect(standIn.requests.filter((r) => r.path === '/v2/account').map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('adds latency to every request', async () => {
    const { alpaca, standIn } = await start();
    standIn.setLatency(150);
    const began = Date.now();
    await alpaca.trading.clock.legacyClock();
    expect(Date.now() - began).toBeGreaterThanOrEqual(140);
  });

  it('lets the SDK reconnect after the stream is dropped and delivers later events on the new connection', async () => {
    const { alpaca, standIn, openStream } = await start({ marketOpen: true });
    const { stream, updates } = openStream();
    let reconnected = 0;
    stream.onReconnected(() => reconnected++);
    await standIn.waitForStreamListening();
    expect(standIn.streamConnectionCount()).toBe(1);

    standIn.dropStreamConnections();
    expect(standIn.streamConnectionCount()).toBe(0);
    await standIn.waitForStreamListening(5000);
    await eventually(() => (reconnected > 0 ? true : undefined));
    expect(standIn.streamConnectionCount()).toBe(1);

    await alpaca.trading.orders.market({ symbol: 'TSLA', qty: 1, side: 'buy', clientOrderId: 'after-reconnect' });
    const fill = await eventually(() => updates.find((u) => u.event === 'fill'));
    expect(fill.order.clientOrderId).toBe('after-reconnect');
  });

  it('sends trade_updates as binary frames, as Alpaca does on paper', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    const socket = new WebSocket(standIn.streamUrl);
    const frames: { binary: boolean; data: any }[] = [];
    socket.on('message', (data, isBinary) => frames.push({ binary: isBinary, data: JSON.parse(data.toString()) }));
    await new Promise((r) => socket.once('open', r));
    socket.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
    socket.send(
      JSON.stringify({ action: 'authenticate', data: { key_id: standIn.keyId, secret_key: standIn.secretKey } }),
    );
    socket.send(JSON.stringify({ action: 'listen', data: { streams: ['trade_updates'] } }));
    await standIn.waitForStreamListening();
    await alpaca.trading.orders.market({ symbol: 'AAPL', qty: 1, side: 'buy' });
    await eventually(() => (frames.length >= 5 ? true : undefined));
    socket.terminate();

    expect(frames.every((f) => f.binary)).toBe(true);
    expect(frames.slice(0, 3).map((f) => f.data)).toEqual([
      { stream: 'authorization', data: { action: 'listen', status: 'unauthorized' } },
      { stream: 'authorization', data: { action: 'authenticate', status: 'authorized' } },
      { stream: 'listening', data: { streams: ['trade_updates'] } },
    ]);
    expect(frames[4]?.data).toMatchObject({
      stream: 'trade_updates',
      data: {
        event: 'fill',
        price: '189.44',
        qty: '1',
        position_qty: '1',
        order: { symbol: 'AAPL', status: 'filled' },
      },
    });
  });

  it.each([
    ['a wash trade against an open opposite order', 403, 40310000, /^potential wash trade detected/],
    [
      'a sale of more than is held',
      403,
      40310000,
      /^insufficient qty available for order \(requested: 5, available: 2\)$/,
    ],
    ['a sub-penny limit price', 422, 42210000, /^invalid limit_price 189\.555\. sub-penny increment/],
    ['fractional shares on a limit order', 422, 42210000, /^fractional orders must be market orders$/],
    ['fractional shares of a non-fractionable asset', 422, 42210000, /^asset "BRK\.A" is not fractionable$/],
    ['extended hours on a market order', 422, 42210000, /^only type="limit" is allowed for extended hours orders$/],
    ['an unknown symbol', 422, 42210000, /^asset "XYZQ" not found$/],
    ['an untradable asset', 422, 42210000, /^asset "OLDCO" is not tradable$/],
    ['pattern day trading protection', 403, 40310100, /^trade denied due to pattern day trading protection$/],
    ['a client_order_id over 128 characters', 422, 40010001, /^client_order_id must be no more than 128/],
  ] as const)('refuses %s the way Alpaca does', async (scenario, status, code, message) => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    standIn.addAsset({ symbol: 'BRK.A', fractionable: false });
    standIn.setPrice('BRK.A', { last: '600000' });
    standIn.addAsset({ symbol: 'OLDCO', tradable: false });
    standIn.setPosition('AAPL', '2', '150');
    const orders = alpaca.trading.orders;
    const attempt: Record<string, () => Promise<unknown>> = {
      'a wash trade against an open opposite order': async () => {
        await orders.limit({ symbol: 'AAPL', qty: 1, side: 'sell', limitPrice: 200 });
        return orders.market({ symbol: 'AAPL', qty: 1, side: 'buy' });
      },
      'a sale of more than is held': () => orders.market({ symbol: 'AAPL', qty: 5, side: 'sell' }),
      'a sub-penny limit price': () => orders.limit({ symbol: 'AAPL', qty: 1, side: 'buy', limitPrice: '189.555' }),
      'fractional shares on a limit order': () =>
        orders.limit({ symbol: 'AAPL', qty: '0.5', side: 'buy', limitPrice: 180 }),
      'fractional shares of a non-fractionable asset': () =>
        orders.market({ symbol: 'BRK.A', qty: '0.001', side: 'buy' }),
      'extended hours on a market order': () =>
        orders.submit({ type: 'market', symbol: 'AAPL', qty: 1, side: 'buy', extendedHours: true }),
      'an unknown symbol': () => orders.market({ symbol: 'XYZQ', qty: 1, side: 'buy' }),
      'an untradable asset': () => orders.market({ symbol: 'OLDCO', qty: 1, side: 'buy' }),
      'pattern day trading protection': () => {
        standIn.setPatternDayTraderBlocked(true);
        return orders.market({ symbol: 'AAPL', qty: 1, side: 'buy' });
      },
      'a client_order_id over 128 characters': () =>
        orders.market({ symbol: 'AAPL', qty: 1, side: 'buy', clientOrderId: 'x'.repeat(129) }),
    };
    const before = standIn.orders().length;
    const err = await rejection(attempt[scenario]!());
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status, code });
    expect((err as ApiError).message).toMatch(message);
    expect(standIn.orders().length).toBe(
      scenario === 'a wash trade against an open opposite order' ? before + 1 : before,
    );
  });

  it('answers GET /v2/orders filters, portfolio history and FILL activities', async () => {
    const { alpaca, standIn } = await start({ marketOpen: true });
    await alpaca.trading.orders.market({ symbol: 'AAPL', qty: 1, side: 'buy', clientOrderId: 'a' });
    await alpaca.trading.orders.limit({ symbol: 'MSFT', qty: 1, side: 'buy', limitPrice: 300, clientOrderId: 'b' });
    const external = standIn.placeExternalOrder({ symbol: 'TSLA', side: 'buy', qty: '2', clientOrderId: 'elsewhere' });
    expect(external.client_order_id).toBe('elsewhere');

    const closed = await alpaca.trading.orders.getAllOrders({ status: 'closed', direction: 'asc' });
    expect(closed.map((o) => o.clientOrderId)).toEqual(['a', 'elsewhere']);
    const msft = await alpaca.trading.orders.getAllOrders({ status: 'all', symbols: 'MSFT' });
    expect(msft.map((o) => o.clientOrderId)).toEqual(['b']);
    expect(await alpaca.trading.orders.getAllOrders({ status: 'all', limit: 1 })).toHaveLength(1);

    const day = 86_400_000;
    standIn.setPortfolioHistory([
      { t: new Date(Date.now() - 3 * day), equity: '100000' },
      { t: new Date(Date.now() - 2 * day), equity: '101000' },
      { t: new Date(Date.now() - 40 * day), equity: '90000' },
    ]);
    const history = await alpaca.trading.portfolioHistory.getAccountPortfolioHistory({ period: '1W', timeframe: '1D' });
    expect(history).toMatchObject({
      equity: [100000, 101000],
      profitLoss: [0, 1000],
      profitLossPct: [0, 0.01],
      baseValue: 100000,
      timeframe: '1D',
    });

    const activities = await alpaca.trading.accountActivities.getAccountActivitiesByActivityType({
      activityType: 'FILL',
    });
    expect(activities.map((a) => (a as { symbol?: string }).symbol)).toEqual(['TSLA', 'AAPL']);

    standIn.setPosition('AAPL', '0', '0');
    standIn.setPosition('NVDA', '3', '120.5');
    expect(standIn.positions()).toEqual([
      { symbol: 'TSLA', qty: '2', avg_entry_price: '248.55' },
      { symbol: 'NVDA', qty: '3', avg_entry_price: '120.5' },
    ]);
  });
});
