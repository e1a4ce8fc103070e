import { afterEach, describe, expect, it } from 'vitest';
import { ApiClient } from '../support/api-client';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { createLegacyOmsDatabase } from '../support/legacy-oms';

const KEY = 'earlier-oms-key-upgrade';

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(
    `an earlier OMS database, upgraded by npm start, on ${databaseSuiteName(kind)}`,
    () => {
      let db: TestDatabase | undefined;
      let t: LaunchedApp | undefined;
      afterEach(async () => {
        await t?.stop();
        await db?.drop();
        t = undefined;
        db = undefined;
      });

      it('keeps its rows (hand-added Alpaca columns too), counts them in positions, takes new orders', async () => {
        db = await kind.create();
        await createLegacyOmsDatabase(
          db.target,
          [
            {
              trade_id: 'OLD-1',
              symbol: 'AAPL',
              quantity: 10,
              gmv: '1894.20',
              side: 'BUY',
              portfolio_name: 'Growth',
              user_id: 'U0TESTUSER',
              timestamp: '2024-03-01 14:30:00.123456',
            },
            {
              trade_id: 'OLD-2',
              symbol: 'AAPL',
              quantity: 4,
              gmv: '760.00',
              side: 'BUY',
              portfolio_name: 'growth',
              user_id: 'U0TESTUSER',
              timestamp: '2024-03-02 15:00:00.000001',
              alpaca_order_id: '904837e3-3b76-47ec-b432-046db621571b',
              alpaca_status: 'filled',
              alpaca_filled_qty: 4,
              alpaca_filled_price: 190,
              alpaca_filled_at: '2024-03-02 15:00:01.5',
            },
          ],
          {
            schema: 'sqlalchemy',
            alpacaColumns: [
              'alpaca_order_id',
              'alpaca_filled_price',
              'alpaca_filled_qty',
              'alpaca_status',
              'alpaca_filled_at',
            ],
          },
        );
        t = await launchApp({ database: db.target, env: { OMS_API_KEY: KEY } });
        const api = new ApiClient(t.baseUrl, KEY);
        await api.loadContract();

        const old = await api.get('/api/v1/trades');
        expect(old.status).toBe(200);
        expect(old.body).toMatchObject([
          {
            id: 2,
            trade_id: 'OLD-2',
            quantity: 4,
            gmv: 760,
            side: 'BUY',
            portfolio_name: 'growth',
            alpaca_order_id: '904837e3-3b76-47ec-b432-046db621571b',
            alpaca_status: 'filled',
            alpaca_filled_qty: 4,
            alpaca_filled_price: 190,
            alpaca_filled_at: '2024-03-02T15:00:01.500Z',
            timestamp: '2024-03-02T15:00:00.000Z',
          },
          {
            id: 1,
            trade_id: 'OLD-1',
            quantity: 10,
            gmv: 1894.2,
            alpaca_order_id: null,
            timestamp: '2024-03-01T14:30:00.123Z',
          },
        ]);

        const placed = await api.post('/api/v1/trade', {
          symbol: 'AAPL',
          quantity: 1,
          side: 'BUY',
          portfolio_name: 'GROWTH',
          user_id: 'U0TESTUSER',
        });
        expect(placed.status).toBe(201);
        expect(placed.body.trade).toMatchObject({ id: 3, portfolio_name: 'Growth', status: 'filled' });

        const growth = await api.get('/api/v1/portfolio/growth');
        expect(growth.body).toMatchObject({
          portfolio_name: 'Growth',
          total_trades: 3,
          total_buys: 3,
          positions: { AAPL: { quantity: 15 } },
        });
      });
    },
  );
}
