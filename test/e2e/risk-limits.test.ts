import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { type OrderFields, placeOrder, waitForConfirmation } from '../support/trading';

const ORDERS = /^\/v2\/orders$/;
const SNAPSHOTS = '/v2/stocks/snapshots';

interface ErrorsAck {
  response_action: string;
  errors: Record<string, string>;
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the order form's risk limits, end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;
    let trades: TradeRepository;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, env: { MAX_ORDER_NOTIONAL: '50000' } });
      orm = await initORM(db.target);
      trades = new TradeRepository(orm);
    });
    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });
    afterEach(() => t.alpaca.clearFaults());

    /** Submits the form and expects it answered in the ack, with no row written and nothing sent to Alpaca. */
    async function refusedInTheForm(fields: OrderFields): Promise<Record<string, string>> {
      const postsBefore = t.alpaca.requestCount({ method: 'POST', path: ORDERS });
      const { ack, clientOrderId } = await placeOrder(t, fields);
      expect(ack.ackMs).toBeLessThan(3000);
      const payload = ack.ackPayload as ErrorsAck | undefined;
      expect(payload?.response_action, JSON.stringify(fields)).toBe('errors');
      expect(await trades.findByClientOrderId(clientOrderId)).toBeNull();
      expect(t.alpaca.requestCount({ method: 'POST', path: ORDERS })).toBe(postsBefore);
      return payload!.errors;
    }

    it(
      'refuses a market buy it cannot price while market data answers 500, ' + 'and places it once prices are back',
      async () => {
        // A symbol this app has never quoted: quotes are cached for 15 s, and the fault must be what it sees.
        t.alpaca.addAsset({ symbol: 'NOQT' });
        t.alpaca.setPrice('NOQT', { last: '190.00' });
        t.alpaca.inject({ method: 'GET', path: SNAPSHOTS, status: 500, times: 100 });
        const snapshotsBefore = t.alpaca.requestCount({ path: SNAPSHOTS });

        const errors = await refusedInTheForm({ symbol: 'NOQT', quantity: '100000' });
        expect(errors).toEqual({
          quantity:
            'We can’t price NOQT right now, ' +
            'so the $50,000.00 limit per order can’t be checked — try again in a moment.',
        });
        expect(t.alpaca.requestCount({ path: SNAPSHOTS })).toBeGreaterThan(snapshotsBefore);

        // "Try again" works: a failed quote is not remembered.
        t.alpaca.clearFaults();
        const { ack, clientOrderId } = await placeOrder(t, { symbol: 'NOQT', quantity: '10' });
        expect(ack.ackPayload).toBeUndefined();
        await waitForConfirmation(t, clientOrderId, (m) =>
          /Filled 10 NOQT/.test(`${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`),
        );
        expect(t.alpaca.orders().filter((o) => o.client_order_id === clientOrderId)).toHaveLength(1);
      },
    );

    it('values a buy stop at $0.01 for 4,000,000 shares at the market, far above the limit', async () => {
      const errors = await refusedInTheForm({ symbol: 'AAPL', quantity: '4000000', type: 'stop', stopPrice: '0.01' });
      expect(errors.quantity).toBe(
        'This order is worth about $757,680,000.00 (4,000,000 shares at $189.42), ' +
          'above the $50,000.00 limit per order.',
      );
    });

    it('refuses 0.0000001 shares in the form: Alpaca needs $1 of value in a fractional order', async () => {
      const errors = await refusedInTheForm({ symbol: 'AAPL', quantity: '0.0000001' });
      expect(errors.quantity).toMatch(
        new RegExp(
          /^Alpaca needs at least \$1\.00 of value in a fractional order: /.source +
            /0\.0000001 AAPL is worth less than a cent\. Enter at least 0\.005279274 shares/.source,
        ),
      );
    });
  });
}
