import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { ApiKeyRepository } from '../../src/db/repositories/api-key-repository';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { ApiKeyService } from '../../src/services/api-keys';
import { type ApiAnswer, ApiClient, type OpenApiContract } from '../support/api-client';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_USER_ID } from '../support/slack-standin';
import { messageText } from '../support/trading';

const LEGACY_KEY = 'earlier-oms-key-0001';
const API_CHANNEL = 'C0APIORDERS';
const ORDERS = /^\/v2\/orders$/;
const FILL_WAIT_MS = 1500;

/** The earlier OMS's order body: nothing but its required fields. */
function legacyOrder(overrides: Record<string, unknown> = {}) {
  return {
    symbol: 'AAPL',
    quantity: 2,
    side: 'BUY',
    portfolio_name: 'Scripts',
    user_id: DEFAULT_USER_ID,
    ...overrides,
  };
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the HTTP API over real HTTP on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;
    let trades: TradeRepository;
    let keys: ApiKeyService;
    let api: ApiClient;
    let contract: OpenApiContract;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({
        database: db.target,
        env: {
          OMS_API_KEY: LEGACY_KEY,
          API_FILL_WAIT_MS: String(FILL_WAIT_MS),
          API_ORDERS_CHANNEL_ID: API_CHANNEL,
          TRADER_USER_IDS: `${DEFAULT_USER_ID},U0TRADER2`,
        },
      });
      t.slack.addChannel({ id: API_CHANNEL, name: 'api-orders', isMember: true });
      orm = await initORM(db.target);
      trades = new TradeRepository(orm);
      keys = new ApiKeyService(new ApiKeyRepository(orm), undefined);
      const { key } = await keys.create('e2e');
      api = new ApiClient(t.baseUrl, key);
      contract = await api.loadContract();
    });
    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });
    afterEach(() => {
      t.alpaca.clearFaults();
      t.alpaca.setMarketOpen(true);
      t.alpaca.setBuyingPower('100000');
    });

    it('places an order and answers 201 once Alpaca filled it, with the trade and its Alpaca fields', async () => {
      const placed = await api.post('/api/v1/trade', legacyOrder());
      expect(placed.status, JSON.stringify(placed.body)).toBe(201);
      expect(placed.body).toMatchObject({
        success: true,
        trade_id: expect.any(String),
        message: expect.stringMatching(/Filled 2 AAPL/),
        trade: {
          symbol: 'AAPL',
          quantity: 2,
          side: 'BUY',
          portfolio_name: 'Scripts',
          user_id: DEFAULT_USER_ID,
          status: 'filled',
          alpaca_status: 'filled',
          alpaca_filled_qty: 2,
          market_open_at_submit: true,
        },
      });
      const trade = placed.body.trade;
      expect(trade.alpaca_order_id).toBe(t.alpaca.order(trade.client_order_id)?.id);
      expect(trade.alpaca_filled_price).toBeGreaterThan(0);
      expect(trade.gmv).toBeCloseTo(2 * trade.alpaca_filled_price, 2);
      expect(t.alpaca.orders().filter((o) => o.client_order_id === trade.client_order_id)).toHaveLength(1);

      // An order like any other: its confirmation in the API channel, edited to its final state and
      // replied in its thread naming the trader; the trader's Home tab and portfolio include it.
      await expect
        .poll(() => t.slack.messages(API_CHANNEL).map((m) => messageText(m)), { timeout: 10_000 })
        .toEqual(expect.arrayContaining([expect.stringMatching(/Filled 2 AAPL/)]));
      const confirmation = t.slack
        .messages(API_CHANNEL)
        .find((m) => !m.threadTs && JSON.stringify(m.blocks ?? []).includes(trade.client_order_id))!;
      await expect
        .poll(() => t.slack.messages(API_CHANNEL).some((m) => m.threadTs === confirmation.ts), { timeout: 10_000 })
        .toBe(true);
      expect(messageText(t.slack.messages(API_CHANNEL).find((m) => m.threadTs === confirmation.ts)!)).toContain(
        `<@${DEFAULT_USER_ID}>`,
      );
      const portfolio = await api.get('/api/v1/portfolio/scripts');
      expect(portfolio.status).toBe(200);
      expect(portfolio.body.positions.AAPL.quantity).toBe(2);
      await t.app.outboxDrained();
      expect(JSON.stringify(t.slack.homeView(DEFAULT_USER_ID)?.view ?? {})).toContain('Scripts');
    });

    it('lists orders newest first with skip, limit, symbol and portfolio filters, and fetches one', async () => {
      const first = await api.post(
        '/api/v1/trade',
        legacyOrder({ symbol: 'MSFT', quantity: 1, portfolio_name: 'Lists' }),
      );
      const second = await api.post(
        '/api/v1/trade',
        legacyOrder({ symbol: 'TSLA', quantity: 1, portfolio_name: 'Lists' }),
      );
      expect([first.status, second.status]).toEqual([201, 201]);

      const newest = await api.get('/api/v1/trades?limit=2');
      expect(newest.status).toBe(200);
      expect(newest.body.map((row: { trade_id: string }) => row.trade_id)).toEqual([
        second.body.trade_id,
        first.body.trade_id,
      ]);
      const row = newest.body[0];
      for (const field of [
        'id',
        'trade_id',
        'symbol',
        'quantity',
        'gmv',
        'side',
        'portfolio_name',
        'user_id',
        'timestamp',
        'created_at',
      ])
        expect(row, field).toHaveProperty(field);
      expect((await api.get('/api/v1/trades?skip=1&limit=1')).body[0].trade_id).toBe(first.body.trade_id);
      const msft = await api.get('/api/v1/trades?symbol=msft');
      expect(msft.body.length).toBeGreaterThan(0);
      expect(msft.body.every((r: { symbol: string }) => r.symbol === 'MSFT')).toBe(true);
      const lists = await api.get('/api/v1/trades?portfolio=LISTS');
      expect(lists.body.map((r: { trade_id: string }) => r.trade_id).sort()).toEqual(
        [first.body.trade_id, second.body.trade_id].sort(),
      );

      const one = await api.get(`/api/v1/trades/${first.body.trade_id}`);
      expect(one.status).toBe(200);
      expect(one.body).toMatchObject({ trade_id: first.body.trade_id, symbol: 'MSFT', status: 'filled' });

      const missing = await api.get('/api/v1/trades/no-such-trade');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({
        success: false,
        error: 'not_found',
        detail: 'No order has trade_id no-such-trade.',
      });

      for (const query of ['limit=0', 'limit=1001', 'skip=-1', 'limit=ten']) {
        const bad = await api.get(`/api/v1/trades?${query}`);
        expect(bad.status, query).toBe(422);
        expect(bad.body.detail, query).toMatch(/^The request does not match the API: (limit|skip): /);
      }
    });

    it('refuses without a key or with a wrong or revoked one (401), and nothing is placed', async () => {
      const before = t.alpaca.requestCount({ method: 'POST', path: ORDERS });
      for (const client of [api.withKey(undefined), api.withKey('oms_000000000000_wrong'), api.withKey('nope')]) {
        const refused = await client.post('/api/v1/trade', legacyOrder());
        expect(refused.status).toBe(401);
        expect(refused.body).toEqual({
          success: false,
          error: 'unauthorized',
          detail: 'A valid X-API-Key header is required.',
        });
        expect((await client.get('/api/v1/trades')).status).toBe(401);
        expect((await client.get('/api/v1/openapi.json')).status).toBe(401);
      }
      const revoked = await keys.create('to revoke');
      const client = api.withKey(revoked.key);
      expect((await client.get('/api/v1/portfolios')).status).toBe(200);
      expect(await keys.revoke(revoked.prefix)).toBe(true);
      expect((await client.get('/api/v1/portfolios')).status).toBe(401);
      expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(before);
    });

    it('takes the earlier OMS key (OMS_API_KEY) and never writes a key to the log', async () => {
      const legacy = api.withKey(LEGACY_KEY);
      expect((await legacy.get('/api/v1/portfolios')).status).toBe(200);
      expect(t.logs.text()).not.toContain(LEGACY_KEY);
      expect(t.logs.text()).not.toContain(api.key!);
    });

    it('answers a body that does not fit the schema with 422 and a sentence naming the field', async () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [legacyOrder({ quantity: -5 }), /quantity: quantity must be greater than 0/],
        [legacyOrder({ side: 'HOLD' }), /side: /],
        [legacyOrder({ user_id: undefined }), /user_id: /],
        [legacyOrder({ order_type: 'iceberg' }), /order_type: /],
        [legacyOrder({ quantity: 'ten' }), /quantity: /],
      ];
      for (const [body, detail] of cases) {
        const refused = await api.post('/api/v1/trade', body);
        expect(refused.status, JSON.stringify(body)).toBe(422);
        expect(refused.body).toMatchObject({
          success: false,
          error: 'invalid_request',
          detail: expect.stringMatching(detail),
        });
      }
      const notJson = await api.request('POST', '/api/v1/trade', {
        rawBody: '{"symbol": ',
        headers: { 'content-type': 'application/json' },
      });
      expect(notJson.status).toBe(400);
      expect(notJson.body).toMatchObject({ success: false, error: 'bad_request' });
    });

    it('refuses what the order form refuses with 400 and the form’s own sentences, per field', async () => {
      const unknown = await api.post('/api/v1/trade', legacyOrder({ symbol: 'ZZZZ' }));
      expect(unknown.status).toBe(400);
      expect(unknown.body).toMatchObject({
        success: false,
        error: 'invalid_order',
        fields: { symbol: 'We couldn’t find a stock with the symbol ZZZZ. Check the spelling.' },
      });
      const noSize = await api.post('/api/v1/trade', legacyOrder({ quantity: undefined }));
      expect(noSize.status).toBe(400);
      expect(Object.keys(noSize.body.fields)).toContain('quantity');
      const unheld = await api.post(
        '/api/v1/trade',
        legacyOrder({ side: 'SELL', symbol: 'SPY', portfolio_name: 'Empty' }),
      );
      expect(unheld.status).toBe(400);
      expect(unheld.body.fields.quantity).toMatch(/holds no SPY/);
      const tooBig = await api.post('/api/v1/trade', legacyOrder({ quantity: 1000 }));
      expect(tooBig.status).toBe(400);
      expect(tooBig.body.detail).toMatch(/^quantity: .*\$50,000/);
      expect(await trades.findByClientOrderId('nothing')).toBeNull();
    });

    it('refuses a user_id not allowed to trade with 403', async () => {
      const refused = await api.post('/api/v1/trade', legacyOrder({ user_id: 'U0OUTSIDER' }));
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({
        success: false,
        error: 'not_a_trader',
        detail: 'U0OUTSIDER is not allowed to trade (TRADER_USER_IDS).',
      });
    });

    it('answers 402 with the figures when Alpaca finds too little buying power', async () => {
      t.alpaca.setBuyingPower('100');
      const refused = await api.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Poor' }));
      expect(refused.status).toBe(402);
      expect(refused.body).toMatchObject({ success: false, error: 'insufficient_buying_power' });
      expect(refused.body.detail).toMatch(/Not enough buying power\..*\$100\.00 available/);
      expect(refused.body.trade).toMatchObject({ status: 'rejected' });
    });

    it('answers 202 with the current status when the order is working but not filled within the wait', async () => {
      const started = Date.now();
      const working = await api.post('/api/v1/trade', {
        ...legacyOrder({ portfolio_name: 'Working' }),
        order_type: 'limit',
        limit_price: '100.00',
      });
      expect(working.status).toBe(202);
      expect(Date.now() - started).toBeGreaterThanOrEqual(FILL_WAIT_MS);
      expect(working.body).toMatchObject({
        success: true,
        message: 'Accepted by Alpaca, not filled yet (accepted): 2 AAPL.',
        trade: { status: 'accepted', order_type: 'limit', limit_price: 100 },
      });
      t.alpaca.fill(working.body.trade.client_order_id, '2', '100.00');
      await expect
        .poll(async () => (await api.get(`/api/v1/trades/${working.body.trade_id}`)).body.status, { timeout: 5_000 })
        .toBe('filled');
    });

    it('Alpaca failing: "unconfirmed, being checked" (503), a refusal in words (400), no stack trace', async () => {
      t.alpaca.inject({ method: 'POST', path: '/v2/orders', status: 500, body: { message: 'internal' }, times: 50 });
      const key = { 'idempotency-key': 'outage-then-back' };
      const unconfirmed = await api.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Outage' }), key);
      expect(unconfirmed.status).toBe(503);
      expect(unconfirmed.body).toMatchObject({ success: false, error: 'unconfirmed' });
      expect(unconfirmed.body.detail).toMatch(
        /could not be confirmed: it may have been placed, and it is being checked/,
      );
      expect(unconfirmed.body.trade.status).toBe('submitted');
      t.alpaca.clearFaults();
      // "Unconfirmed" is a state, not the key's answer: the retry, once Alpaca is back, says what became of it.
      const retried = await api.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Outage' }), key);
      expect(retried.status).toBe(201);
      expect(retried.body.trade_id).toBe(unconfirmed.body.trade.trade_id);
      expect(
        t.alpaca.orders().filter((o) => o.client_order_id === unconfirmed.body.trade.client_order_id),
      ).toHaveLength(1);

      t.alpaca.inject({
        method: 'POST',
        path: '/v2/orders',
        status: 403,
        body: { code: 40310000, message: 'account is not allowed to short' },
      });
      const rejected = await api.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Outage' }));
      expect(rejected.status).toBe(400);
      expect(rejected.body).toMatchObject({ success: false, error: 'order_rejected', trade: { status: 'rejected' } });
      expect(JSON.stringify(rejected.body)).not.toMatch(/\bat \S+ \(/);
    });

    it('one Idempotency-Key sent 3 times at once: one broker order, one answer; another body gets 409', async () => {
      const key = { 'idempotency-key': 'nightly-rebalance-2026-12-01' };
      const body = legacyOrder({ symbol: 'SPY', quantity: 1, portfolio_name: 'Idempotent' });
      const answers = await Promise.all([1, 2, 3].map(() => api.post('/api/v1/trade', body, key)));
      expect(answers.map((a) => a.status)).toEqual([201, 201, 201]);
      expect(new Set(answers.map((a) => a.body.trade_id)).size).toBe(1);
      const clientOrderId = answers[0]!.body.trade.client_order_id;
      expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
      // The same body spelled differently (a string decimal, lower-case side) is the same request.
      const respelled = await api.post('/api/v1/trade', { ...body, quantity: '1.0', side: 'buy' }, key);
      expect(respelled.status).toBe(201);
      expect(respelled.body.trade_id).toBe(answers[0]!.body.trade_id);

      const conflict = await api.post('/api/v1/trade', { ...body, quantity: 2 }, key);
      expect(conflict.status).toBe(409);
      expect(conflict.body).toMatchObject({ success: false, error: 'idempotency_key_reused' });
      expect(t.alpaca.orders().filter((o) => o.symbol === 'SPY')).toHaveLength(1);

      // A refusal made no order: the same key may be used again once the body is fixed.
      const refusedKey = { 'idempotency-key': 'fix-and-retry' };
      expect((await api.post('/api/v1/trade', { ...body, symbol: 'ZZZZ' }, refusedKey)).status).toBe(400);
      expect((await api.post('/api/v1/trade', body, refusedKey)).status).toBe(201);
    });

    it('shows a portfolio priced live (any case), with counts and P&L; 404 with suggestions on a miss', async () => {
      const bought = await api.post(
        '/api/v1/trade',
        legacyOrder({ symbol: 'MSFT', quantity: 3, portfolio_name: 'Growth Fund' }),
      );
      const sold = await api.post(
        '/api/v1/trade',
        legacyOrder({ symbol: 'MSFT', quantity: 1, side: 'SELL', portfolio_name: 'growth fund' }),
      );
      expect([bought.status, sold.status]).toEqual([201, 201]);
      const shown = await api.get('/api/v1/portfolio/GROWTH%20FUND');
      expect(shown.status).toBe(200);
      expect(shown.body).toMatchObject({
        portfolio_name: 'Growth Fund',
        total_trades: 2,
        total_buys: 1,
        total_sells: 1,
        positions: { MSFT: { quantity: 2, last_price: 415.1 } },
      });
      const msft = shown.body.positions.MSFT;
      expect(msft.market_value).toBeCloseTo(2 * 415.1, 2);
      expect(msft.unrealized_pl).toBeCloseTo(msft.market_value - 2 * msft.avg_cost, 2);
      expect(shown.body.market_value).toBeCloseTo(msft.market_value, 2);
      expect(typeof shown.body.realized_pl).toBe('number');

      const missing = await api.get('/api/v1/portfolio/Growth%20Fnd');
      expect(missing.status).toBe(404);
      expect(missing.body).toMatchObject({
        success: false,
        error: 'portfolio_not_found',
        suggestions: ['Growth Fund'],
      });
      expect(missing.body.detail).toMatch(/Did you mean Growth Fund\?/);

      const names = await api.get('/api/v1/portfolios');
      expect(names.status).toBe(200);
      expect(names.body).toEqual(expect.arrayContaining(['Growth Fund', 'Scripts']));
    });

    it('shows the account, a quote, the market clock and the positions beside the books', async () => {
      const account = await api.get('/api/v1/account');
      expect(account.status).toBe(200);
      expect(account.body).toMatchObject({ account_number: 'PA3STANDIN00', currency: 'USD' });
      expect(account.body.buying_power).toBeGreaterThan(0);

      const quote = await api.get('/api/v1/quote/aapl');
      expect(quote.status).toBe(200);
      expect(quote.body).toMatchObject({
        symbol: 'AAPL',
        last_price: 189.42,
        bid: 189.4,
        ask: 189.44,
        prev_close: 187.15,
      });
      expect(quote.body.day_change).toBeCloseTo(2.27, 2);
      expect(quote.body.day_change_pct).toBeCloseTo(2.27 / 187.15, 6);
      const unknown = await api.get('/api/v1/quote/ZZZZ');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toMatchObject({ success: false, error: 'unknown_symbol' });

      const market = await api.get('/api/v1/market-status');
      expect(market.status).toBe(200);
      expect(market.body).toMatchObject({ is_open: true, headline: expect.stringMatching(/^Market open — closes/) });
      expect(Date.parse(market.body.next_close)).toBeGreaterThan(Date.now());

      t.alpaca.setPosition('TSLA', '7', '240.00');
      const positions = await api.get('/api/v1/positions');
      expect(positions.status).toBe(200);
      expect(positions.body.broker).toBe('ok');
      const tsla = positions.body.positions.find((p: { symbol: string }) => p.symbol === 'TSLA');
      expect(tsla).toMatchObject({ broker: 7, matches: false });
      expect(positions.body.mismatches).toBeGreaterThan(0);
    });

    it('publishes its OpenAPI 3.1 document, generated from the routes, and a docs page', async () => {
      expect(contract.document.openapi).toBe('3.1.0');
      const paths = Object.keys(contract.document.paths).sort();
      expect(paths).toEqual(
        [
          '/api/v1/account',
          '/api/v1/market-status',
          '/api/v1/portfolio/{name}',
          '/api/v1/portfolios',
          '/api/v1/positions',
          '/api/v1/quote/{symbol}',
          '/api/v1/trade',
          '/api/v1/traders',
          '/api/v1/trades',
          '/api/v1/trades/{trade_id}',
        ].sort(),
      );
      const docs = await fetch(`${t.baseUrl}/api/docs/`);
      expect(docs.status).toBe(200);
      expect(await docs.text()).toMatch(/swagger/i);
    });

    it('limits requests per key: 429 with Retry-After past the limit, other keys unaffected', async () => {
      const busy = api.withKey((await keys.create('busy')).key);
      let limited: ApiAnswer | undefined;
      for (let i = 0; i < 700 && !limited; i += 1) {
        const answer = await busy.get('/api/v1/portfolios');
        if (answer.status === 429) limited = answer;
        else expect(answer.status).toBe(200);
      }
      expect(limited?.body).toMatchObject({ success: false, error: 'rate_limited' });
      expect(limited?.body.detail).toMatch(/at most \d+ a minute/);
      expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await api.get('/api/v1/portfolios')).status).toBe(200);
    });

    it('every answer in this suite matched the app’s own OpenAPI document', () => {
      // Each call above was checked as it came back; this only makes sure the checking happened.
      const statuses = new Set(contract.checked.map((key) => key.split(' ').pop()));
      for (const status of ['200', '201', '202', '400', '401', '402', '403', '404', '409', '422', '429', '503'])
        expect(statuses, status).toContain(status);
    });
  });

  describe.skipIf(!kind.available)(`the HTTP API while the market is shut, on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let shut: LaunchedApp;
    let closedApi: ApiClient;

    beforeAll(async () => {
      db = await kind.create();
      // Shut from the start: the app keeps Alpaca's clock until its next open or close, as it may.
      shut = await launchApp({
        database: db.target,
        alpacaOptions: { marketOpen: false },
        env: { OMS_API_KEY: LEGACY_KEY },
      });
      closedApi = new ApiClient(shut.baseUrl, LEGACY_KEY);
      await closedApi.loadContract();
    });
    afterAll(async () => {
      await shut?.stop();
      await db?.drop();
    });

    it('market shut: 503 with the next open, or 202 queued when asked; a queued order cancels (202, 409)', async () => {
      const before = shut.alpaca.requestCount({ method: 'POST', path: ORDERS });
      const refused = await closedApi.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Closed' }));
      expect(refused.status).toBe(503);
      expect(refused.body).toMatchObject({ success: false, error: 'market_closed' });
      expect(refused.body.detail).toMatch(/^Market closed — opens .* Nothing was sent; send when_closed: "queue"/);
      expect(shut.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(before);

      const queued = await closedApi.post(
        '/api/v1/trade',
        legacyOrder({ portfolio_name: 'Closed', when_closed: 'queue' }),
      );
      expect(queued.status).toBe(202);
      expect(queued.body).toMatchObject({
        success: true,
        message: expect.stringMatching(/queued for the open/),
        trade: { status: 'accepted', alpaca_status: 'accepted', market_open_at_submit: false },
      });
      const cancelled = await closedApi.delete(`/api/v1/trades/${queued.body.trade_id}`);
      expect(cancelled.status).toBe(202);
      expect(cancelled.body).toMatchObject({
        success: true,
        message: 'Cancel requested.',
        trade: { status: 'canceled' },
      });
      const again = await closedApi.delete(`/api/v1/trades/${queued.body.trade_id}`);
      expect(again.status).toBe(409);
      expect(again.body).toMatchObject({
        success: false,
        error: 'already_final',
        detail: 'The order is already canceled.',
      });
      expect((await closedApi.delete('/api/v1/trades/no-such-trade')).status).toBe(404);
    });
  });

  describe.skipIf(!kind.available)(
    `a client of the earlier OMS, unchanged, in ledger-only mode on ${databaseSuiteName(kind)}`,
    () => {
      let db: TestDatabase;
      let ledger: LaunchedApp;
      let client: ApiClient;

      beforeAll(async () => {
        db = await kind.create();
        ledger = await launchApp({ database: db.target, useAlpaca: false, env: { OMS_API_KEY: LEGACY_KEY } });
        client = new ApiClient(ledger.baseUrl, LEGACY_KEY);
        await client.loadContract();
      });
      afterAll(async () => {
        await ledger?.stop();
        await db?.drop();
      });

      it('health, 401, 201 with a trade_id at the given GMV, listing, one trade, the portfolio, 422', async () => {
        const health = await fetch(`${ledger.baseUrl}/health`);
        expect(health.status).toBe(200);
        expect(await health.json()).toMatchObject({
          status: 'ok',
          db: 'ok',
          use_alpaca: false,
          alpaca_connected: null,
        });

        expect((await client.withKey(undefined).get('/api/v1/trades')).status).toBe(401);
        expect((await client.withKey('wrong-key').get('/api/v1/trades')).status).toBe(401);

        const postsBefore = ledger.slack.callsTo('chat.postMessage').length;
        const placed = await client.post('/api/v1/trade', {
          symbol: 'AAPL',
          quantity: 10,
          gmv: 1894.2,
          side: 'BUY',
          portfolio_name: 'Legacy Book',
          user_id: 'analyst-7',
        });
        expect(placed.status).toBe(201);
        expect(placed.body).toMatchObject({
          success: true,
          trade_id: expect.any(String),
          message: 'Recorded 10 AAPL (ledger only, not sent to Alpaca).',
          trade: { symbol: 'AAPL', quantity: 10, gmv: 1894.2, side: 'BUY', user_id: 'analyst-7', status: 'filled' },
        });

        const listed = await client.get('/api/v1/trades');
        expect(listed.status).toBe(200);
        expect(listed.body[0]).toMatchObject({ trade_id: placed.body.trade_id, portfolio_name: 'Legacy Book' });
        const one = await client.get(`/api/v1/trades/${placed.body.trade_id}`);
        expect(one.body).toMatchObject({ trade_id: placed.body.trade_id, gmv: 1894.2 });

        const book = await client.get('/api/v1/portfolio/legacy book');
        expect(book.status).toBe(200);
        expect(book.body).toMatchObject({
          portfolio_name: 'Legacy Book',
          total_trades: 1,
          total_buys: 1,
          total_sells: 0,
          positions: { AAPL: { quantity: 10, avg_cost: 189.42 } },
        });

        const negative = await client.post('/api/v1/trade', {
          symbol: 'AAPL',
          quantity: -10,
          gmv: 1894.2,
          side: 'SELL',
          portfolio_name: 'Legacy Book',
          user_id: 'analyst-7',
        });
        expect(negative.status).toBe(422);
        expect(negative.body).toMatchObject({ success: false, detail: expect.stringMatching(/quantity/) });

        // analyst-7 is not a Slack member and no API_ORDERS_CHANNEL_ID is set: nobody to tell in Slack.
        await ledger.app.outboxDrained();
        expect(ledger.slack.callsTo('chat.postMessage')).toHaveLength(postsBefore);
        expect(ledger.slack.callsTo('views.publish').some((c) => JSON.stringify(c.args).includes('analyst-7'))).toBe(
          false,
        );
        const account = await client.get('/api/v1/account');
        expect(account.status).toBe(404);
        expect(account.body).toMatchObject({ success: false, error: 'no_broker_account' });
      });
    },
  );

  describe.skipIf(!kind.available)(`the HTTP API while the app stops, on ${databaseSuiteName(kind)}`, () => {
    it('finishes the order in flight, and refuses a new one with 503 saying nothing was placed', async () => {
      const db = await kind.create();
      const t = await launchApp({ database: db.target, env: { OMS_API_KEY: LEGACY_KEY, API_FILL_WAIT_MS: '5000' } });
      try {
        const api = new ApiClient(t.baseUrl, LEGACY_KEY);
        await api.loadContract();
        // Alpaca takes the order at once but holds its answer: the order is in flight when the stop begins.
        t.alpaca.inject({ method: 'POST', path: '/v2/orders', holdResponseMs: 2000 });
        const first = api.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Stopping' }));
        await expect.poll(() => t.alpaca.orders().length, { timeout: 5000 }).toBe(1);
        const stopping = t.app.stop();
        const refused = await api.post('/api/v1/trade', legacyOrder({ portfolio_name: 'Stopping', symbol: 'MSFT' }));
        expect(refused.status).toBe(503);
        expect(refused.body).toMatchObject({ success: false, error: 'shutting_down' });
        expect(refused.body.detail).toMatch(/nothing was placed/);
        expect((await first).status).toBe(201);
        await stopping;
        expect(t.alpaca.orders().filter((o) => o.symbol === 'MSFT')).toEqual([]);
      } finally {
        await t.stop();
        await db.drop();
      }
    });
  });
}
