import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaOpenApi, type ApiDocument } from './alpaca/openapi';
import { type AlpacaStandIn, startAlpacaStandIn } from './alpaca-standin';

/**
 * Every endpoint the stand-in serves, answered for real and validated against Alpaca's official
 * OpenAPI documents in ../shared/alpaca-openapi (outside the repository; skipped visibly when
 * absent). Error bodies are checked against the trading document's `Error` schema, the only error
 * body either document defines.
 */

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const documentsDir = path.resolve(repoRoot, '..', 'shared', 'alpaca-openapi');
const openApi = AlpacaOpenApi.load(documentsDir);
const suiteName = openApi
  ? "Alpaca stand-in responses match Alpaca's OpenAPI documents"
  : `Alpaca stand-in vs OpenAPI documents — SKIPPED: ${documentsDir} not found`;

interface Answer {
  status: number;
  headers: Headers;
  text: string;
  body: any;
}

describe.skipIf(!openApi)(suiteName, () => {
  const docs = openApi!;
  let standIn: AlpacaStandIn;
  const validated = new Set<string>();

  beforeAll(async () => {
    standIn = await startAlpacaStandIn({ marketOpen: true });
  });
  afterAll(async () => {
    await standIn?.close();
  });

  async function call(
    api: ApiDocument,
    method: string,
    template: string,
    options: { path?: string; query?: Record<string, string>; body?: unknown; secret?: string } = {},
  ): Promise<Answer> {
    const base = api === 'trading' ? standIn.baseUrl : standIn.dataUrl;
    const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
    const res = await fetch(`${base}${options.path ?? template}${query}`, {
      method,
      headers: {
        'APCA-API-KEY-ID': standIn.keyId,
        'APCA-API-SECRET-KEY': options.secret ?? standIn.secretKey,
        ...(options.body === undefined ? {} : { 'Content-Type': 'application/json' }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
    const text = await res.text();
    for (const header of ['X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset']) {
      expect(res.headers.get(header), `${header} on ${method} ${template}`).toMatch(/^\d+$/);
    }
    return { status: res.status, headers: res.headers, text, body: text === '' ? undefined : JSON.parse(text) };
  }

  /** A success: the status must be one the document lists, and the body must match its schema. */
  function expectDocumented(api: ApiDocument, method: string, template: string, answer: Answer): void {
    expect(docs.documentedStatuses(api, method, template), `${method} ${template}`).toContain(String(answer.status));
    const validate = docs.responseValidator(api, method, template, answer.status);
    if (validate) {
      expect(validate(answer.body), `${method} ${template} ${answer.status}:\n${docs.describeErrors(validate)}`).toBe(
        true,
      );
    } else {
      expect(answer.text, `${method} ${template} ${answer.status} has no documented body`).toBe('');
    }
    validated.add(`${api} ${method} ${template}`);
  }

  function expectErrorBody(answer: Answer, status: number, code: number, message: RegExp | string): void {
    expect(answer.status).toBe(status);
    const validate = docs.componentValidator('trading', 'Error');
    expect(validate(answer.body), docs.describeErrors(validate)).toBe(true);
    expect(answer.body.code).toBe(code);
    if (typeof message === 'string') expect(answer.body.message).toBe(message);
    else expect(answer.body.message).toMatch(message);
  }

  it('serves only operations that exist in the documents, at their documented paths', () => {
    const endpoints = standIn.endpoints();
    expect(endpoints.length).toBeGreaterThan(15);
    for (const e of endpoints)
      expect(docs.hasOperation(e.api, e.method, e.path), `${e.method} ${e.path} (${e.api})`).toBe(true);
  });

  it('account, clock, calendar and assets', async () => {
    expectDocumented('trading', 'GET', '/v2/account', await call('trading', 'GET', '/v2/account'));
    expectDocumented('trading', 'GET', '/v2/clock', await call('trading', 'GET', '/v2/clock'));
    const calendar = await call('trading', 'GET', '/v2/calendar', {
      query: { start: '2025-06-02', end: '2025-06-09' },
    });
    expectDocumented('trading', 'GET', '/v2/calendar', calendar);
    expect(calendar.body.map((d: { date: string }) => d.date)).toEqual([
      '2025-06-02',
      '2025-06-03',
      '2025-06-04',
      '2025-06-05',
      '2025-06-06',
      '2025-06-09',
    ]);
    expectDocumented(
      'trading',
      'GET',
      '/v2/assets',
      await call('trading', 'GET', '/v2/assets', { query: { status: 'active', asset_class: 'us_equity' } }),
    );
    expectDocumented(
      'trading',
      'GET',
      '/v2/assets/{symbol_or_asset_id}',
      await call('trading', 'GET', '/v2/assets/{symbol_or_asset_id}', { path: '/v2/assets/AAPL' }),
    );
  });

  it('orders in every state the stand-in produces, one by one and listed', async () => {
    const post = async (body: Record<string, unknown>) => {
      const answer = await call('trading', 'POST', '/v2/orders', { body });
      expectDocumented('trading', 'POST', '/v2/orders', answer);
      return answer.body as { id: string; client_order_id: string };
    };
    await post({
      symbol: 'AAPL',
      qty: '2',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: 'oa-filled',
    });
    await post({
      symbol: 'MSFT',
      notional: '250.50',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: 'oa-notional',
    });
    await post({
      symbol: 'TSLA',
      qty: '1',
      side: 'buy',
      type: 'stop',
      stop_price: '300',
      time_in_force: 'gtc',
      client_order_id: 'oa-stop',
    });
    const partial = await post({
      symbol: 'SPY',
      qty: '10',
      side: 'buy',
      type: 'limit',
      limit_price: '500',
      time_in_force: 'day',
      client_order_id: 'oa-partial',
    });
    standIn.fill(partial.id, '3', '499.50');
    for (const [id, finish] of [
      ['oa-canceled', () => standIn.cancel('oa-canceled')],
      ['oa-rejected', () => standIn.reject('oa-rejected', 'risk check')],
      ['oa-expired', () => standIn.expire('oa-expired')],
    ] as const) {
      await post({
        symbol: 'SPY',
        qty: '1',
        side: 'buy',
        type: 'limit',
        limit_price: '400',
        time_in_force: 'day',
        client_order_id: id,
      });
      finish();
    }
    standIn.setMarketOpen(false);
    await post({
      symbol: 'AAPL',
      qty: '1',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: 'oa-queued',
    });

    const all = await call('trading', 'GET', '/v2/orders', {
      query: { status: 'all', limit: '500', direction: 'asc' },
    });
    standIn.setMarketOpen(true);
    expectDocumented('trading', 'GET', '/v2/orders', all);
    expect(new Set(all.body.map((o: { status: string }) => o.status))).toEqual(
      new Set(['filled', 'new', 'partially_filled', 'canceled', 'rejected', 'expired', 'accepted']),
    );
    expectDocumented(
      'trading',
      'GET',
      '/v2/orders/{order_id}',
      await call('trading', 'GET', '/v2/orders/{order_id}', { path: `/v2/orders/${partial.id}` }),
    );
    expectDocumented(
      'trading',
      'GET',
      '/v2/orders:by_client_order_id',
      await call('trading', 'GET', '/v2/orders:by_client_order_id', { query: { client_order_id: 'oa-notional' } }),
    );
  });

  it('cancel one (204, no body) and cancel all (207)', async () => {
    const order = await call('trading', 'POST', '/v2/orders', {
      body: { symbol: 'MSFT', qty: '1', side: 'buy', type: 'limit', limit_price: '300', time_in_force: 'gtc' },
    });
    expectDocumented(
      'trading',
      'DELETE',
      '/v2/orders/{order_id}',
      await call('trading', 'DELETE', '/v2/orders/{order_id}', { path: `/v2/orders/${order.body.id}` }),
    );
    await call('trading', 'POST', '/v2/orders', {
      body: { symbol: 'MSFT', qty: '1', side: 'buy', type: 'limit', limit_price: '301', time_in_force: 'gtc' },
    });
    const cancelAll = await call('trading', 'DELETE', '/v2/orders');
    expectDocumented('trading', 'DELETE', '/v2/orders', cancelAll);
    expect(cancelAll.body.length).toBeGreaterThan(0);
  });

  it('positions, portfolio history and activities', async () => {
    standIn.setPosition('NVDA', '4', '120.25');
    expectDocumented('trading', 'GET', '/v2/positions', await call('trading', 'GET', '/v2/positions'));
    expectDocumented(
      'trading',
      'GET',
      '/v2/positions/{symbol_or_asset_id}',
      await call('trading', 'GET', '/v2/positions/{symbol_or_asset_id}', { path: '/v2/positions/AAPL' }),
    );
    expectDocumented(
      'trading',
      'GET',
      '/v2/account/portfolio/history',
      await call('trading', 'GET', '/v2/account/portfolio/history', { query: { period: '1M', timeframe: '1D' } }),
    );
    standIn.setPortfolioHistory([
      { t: new Date(Date.now() - 2 * 86_400_000), equity: '100000' },
      { t: new Date(Date.now() - 86_400_000), equity: '100512.37' },
    ]);
    const history = await call('trading', 'GET', '/v2/account/portfolio/history', { query: { period: '1W' } });
    expectDocumented('trading', 'GET', '/v2/account/portfolio/history', history);
    expect(history.body.equity).toEqual([100000, 100512.37]);
    const fills = await call('trading', 'GET', '/v2/account/activities/{activity_type}', {
      path: '/v2/account/activities/FILL',
    });
    expectDocumented('trading', 'GET', '/v2/account/activities/{activity_type}', fills);
    expect(fills.body.length).toBeGreaterThan(0);
    expectDocumented(
      'trading',
      'GET',
      '/v2/account/activities',
      await call('trading', 'GET', '/v2/account/activities', { query: { activity_types: 'FILL' } }),
    );
  });

  it('market data: snapshots, latest trades and quotes, bars', async () => {
    expectDocumented(
      'data',
      'GET',
      '/v2/stocks/snapshots',
      await call('data', 'GET', '/v2/stocks/snapshots', { query: { symbols: 'AAPL,MSFT', feed: 'iex' } }),
    );
    expectDocumented(
      'data',
      'GET',
      '/v2/stocks/{symbol}/snapshot',
      await call('data', 'GET', '/v2/stocks/{symbol}/snapshot', {
        path: '/v2/stocks/AAPL/snapshot',
        query: { feed: 'iex' },
      }),
    );
    expectDocumented(
      'data',
      'GET',
      '/v2/stocks/trades/latest',
      await call('data', 'GET', '/v2/stocks/trades/latest', { query: { symbols: 'AAPL,TSLA', feed: 'iex' } }),
    );
    expectDocumented(
      'data',
      'GET',
      '/v2/stocks/quotes/latest',
      await call('data', 'GET', '/v2/stocks/quotes/latest', { query: { symbols: 'AAPL,TSLA', feed: 'iex' } }),
    );
    for (const timeframe of ['1Day', '1Min']) {
      expectDocumented(
        'data',
        'GET',
        '/v2/stocks/bars',
        await call('data', 'GET', '/v2/stocks/bars', { query: { symbols: 'SPY', timeframe } }),
      );
    }
  });

  it('daily bars: seeded history, sorted by symbol then time, paged by next_page_token', async () => {
    standIn.setDailyBars('MSFT', [
      { date: '2025-11-26', close: '485.5' },
      { date: '2025-11-24', close: '474' },
      { date: '2025-11-25', close: '476.99' },
    ]);
    standIn.setDailyBars('AAPL', [
      { date: '2025-11-24', close: '275.92' },
      { date: '2025-11-25', close: '276.97' },
    ]);
    const query = {
      symbols: 'MSFT,AAPL',
      timeframe: '1Day',
      start: '2025-11-25T00:00:00Z',
      end: '2025-11-28',
      limit: '2',
    };
    const first = await call('data', 'GET', '/v2/stocks/bars', { query });
    expectDocumented('data', 'GET', '/v2/stocks/bars', first);
    // Nov 25 is stamped at New York midnight (05:00 UTC), inside the window; Nov 24 is not.
    expect(first.body.bars).toEqual({
      AAPL: [{ t: '2025-11-25T05:00:00Z', o: 276.97, h: 276.97, l: 276.97, c: 276.97, v: 100000, n: 1000, vw: 276.97 }],
      MSFT: [expect.objectContaining({ t: '2025-11-25T05:00:00Z', c: 476.99 })],
    });
    expect(first.body.next_page_token).toEqual(expect.any(String));
    const second = await call('data', 'GET', '/v2/stocks/bars', {
      query: { ...query, page_token: first.body.next_page_token },
    });
    expectDocumented('data', 'GET', '/v2/stocks/bars', second);
    expect(second.body).toEqual({ bars: { MSFT: [expect.objectContaining({ c: 485.5 })] }, next_page_token: null });

    const newestFirst = await call('data', 'GET', '/v2/stocks/bars', {
      query: { ...query, limit: '10', sort: 'desc' },
    });
    expect(newestFirst.body.bars.MSFT.map((b: { c: number }) => b.c)).toEqual([485.5, 476.99]);

    const invalid: Record<string, string>[] = [
      { timeframe: '2Day' },
      { limit: '10001' },
      { sort: 'up' },
      { page_token: 'bm9wZQ==' },
    ];
    for (const bad of invalid) {
      const refused = await call('data', 'GET', '/v2/stocks/bars', { query: { ...query, ...bad } });
      expect(docs.documentedStatuses('data', 'GET', '/v2/stocks/bars')).toContain(String(refused.status));
      expectErrorBody(refused, 400, 40010001, /^invalid /);
    }
  });

  it(
    'documents no null snapshot, ' +
      'which Alpaca nonetheless returns (alpacahq/alpaca-py#157): the deviation is deliberate',
    async () => {
      standIn.setNoSnapshot('TSLA');
      const answer = await call('data', 'GET', '/v2/stocks/snapshots', { query: { symbols: 'AAPL,TSLA' } });
      expect(answer.body.TSLA).toBeNull();
      const validate = docs.responseValidator('data', 'GET', '/v2/stocks/snapshots', 200)!;
      expect(validate(answer.body)).toBe(false);
      const { TSLA: _missing, ...documented } = answer.body;
      expect(validate(documented), docs.describeErrors(validate)).toBe(true);
    },
  );

  it('error bodies match the documented Error schema, with the statuses the operations list', async () => {
    const unauthorized = await call('trading', 'GET', '/v2/account', { secret: 'wrong' });
    expectErrorBody(unauthorized, 401, 40110000, 'request is not authorized');

    const unknownAsset = await call('trading', 'GET', '/v2/assets/{symbol_or_asset_id}', { path: '/v2/assets/NOPE' });
    expectErrorBody(unknownAsset, 404, 40410000, 'asset not found');
    expect(docs.documentedStatuses('trading', 'GET', '/v2/assets/{symbol_or_asset_id}')).toContain('404');

    expectErrorBody(
      await call('trading', 'GET', '/v2/orders/{order_id}', { path: `/v2/orders/${crypto.randomUUID()}` }),
      404,
      40410000,
      'order not found',
    );
    expectErrorBody(
      await call('trading', 'GET', '/v2/positions/{symbol_or_asset_id}', { path: '/v2/positions/TSLA' }),
      404,
      40410000,
      'position does not exist',
    );

    const order = {
      symbol: 'AAPL',
      qty: '1',
      side: 'buy',
      type: 'market',
      time_in_force: 'day',
      client_order_id: 'err-dup',
    };
    await call('trading', 'POST', '/v2/orders', { body: order });
    const duplicate = await call('trading', 'POST', '/v2/orders', { body: order });
    expectErrorBody(duplicate, 422, 40010001, 'client_order_id must be unique');
    const subPenny = await call('trading', 'POST', '/v2/orders', {
      body: { ...order, client_order_id: 'err-penny', type: 'limit', limit_price: '150.001' },
    });
    expectErrorBody(subPenny, 422, 42210000, /sub-penny increment does not fulfill minimum pricing criteria$/);
    const tooBig = await call('trading', 'POST', '/v2/orders', {
      body: { ...order, client_order_id: 'err-bp', qty: '100000' },
    });
    expectErrorBody(tooBig, 403, 40310000, 'insufficient buying power');
    expect(tooBig.body).toMatchObject({ buying_power: expect.any(String), cost_basis: '18944000' });
    expect(docs.documentedStatuses('trading', 'POST', '/v2/orders')).toEqual(expect.arrayContaining(['403', '422']));

    const filled = standIn.order('err-dup')!;
    const notCancelable = await call('trading', 'DELETE', '/v2/orders/{order_id}', { path: `/v2/orders/${filled.id}` });
    expectErrorBody(notCancelable, 422, 42210000, 'order is already in "filled" state');
    expect(docs.documentedStatuses('trading', 'DELETE', '/v2/orders/{order_id}')).toContain('422');

    standIn.inject({ path: '/v2/clock', status: 500 });
    expectErrorBody(await call('trading', 'GET', '/v2/clock'), 500, 50010000, 'internal server error');
    expect(docs.documentedStatuses('trading', 'GET', '/v2/clock')).toContain('500');
  });

  it('429 once the per-minute budget is spent, with the documented X-RateLimit headers', async () => {
    const limited = await startAlpacaStandIn({ rateLimitPerMinute: 2 });
    try {
      const headers = { 'APCA-API-KEY-ID': limited.keyId, 'APCA-API-SECRET-KEY': limited.secretKey };
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await fetch(`${limited.baseUrl}/v2/clock`, { headers }));
      expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
      const last = answers[2]!;
      expect(last.headers.get('X-RateLimit-Limit')).toBe('2');
      expect(last.headers.get('X-RateLimit-Remaining')).toBe('0');
      expect(Number(last.headers.get('X-RateLimit-Reset')) * 1000).toBeGreaterThan(Date.now());
      expect(docs.documentedStatuses('trading', 'GET', '/v2/clock')).toContain('429');
      const validate = docs.componentValidator('trading', 'Error');
      const body = await last.json();
      expect(validate(body), docs.describeErrors(validate)).toBe(true);
      expect(body).toEqual({ code: 42910000, message: 'rate limit exceeded' });
    } finally {
      await limited.close();
    }
  });

  it('validated a documented answer for every endpoint the stand-in serves', () => {
    const served = standIn.endpoints().map((e) => `${e.api} ${e.method} ${e.path}`);
    expect(served.filter((e) => !validated.has(e))).toEqual([]);
  });
});
