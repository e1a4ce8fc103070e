import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { dec } from '../../src/domain/money';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-standin';

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`start-up settles orders left in flight on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let slack: SlackStandIn;
    let alpaca: AlpacaStandIn;
    let orm: Orm;
    let app: LaunchedApp | undefined;

    beforeEach(async () => {
      db = await kind.create();
      slack = await startSlackStandIn();
      // Market closed: market orders queue instead of filling, so the test decides each one's fate.
      alpaca = await startAlpacaStandIn({ marketOpen: false });
      orm = await initORM(db.target);
      await migrateToLatest(orm);
    });
    afterEach(async () => {
      await app?.stop();
      app = undefined;
      await orm?.close(true);
      await slack?.close();
      await alpaca?.close();
      await db?.drop();
    });

    it('many rows left open cost one order list, not a lookup each, and each ends in the broker’s state', async () => {
      const trades = new TradeRepository(orm);
      const ids = [
        'oms-VSETTLE001',
        'oms-VSETTLE002',
        'oms-VSETTLE003',
        'oms-VSETTLE004',
        'oms-VSETTLE005',
        'oms-VSETTLE006',
      ];
      for (const clientOrderId of ids) {
        await trades.insertPending({
          clientOrderId,
          source: 'slack',
          symbol: 'AAPL',
          side: 'buy',
          quantity: dec(2),
          orderType: 'market',
          timeInForce: 'day',
          extendedHours: false,
          portfolioName: 'Default Portfolio',
          userId: 'U0TESTUSER',
        });
      }
      // The broker took all but the last before the process died; the books never heard back.
      for (const clientOrderId of ids.slice(0, 5))
        alpaca.placeExternalOrder({ symbol: 'AAPL', side: 'buy', qty: '2', clientOrderId });
      alpaca.fill(ids[0]!, '2', '190');
      alpaca.fill(ids[1]!, '2', '191');
      alpaca.fill(ids[2]!, '1', '192');
      alpaca.cancel(ids[3]!);

      app = await launchApp({ database: db.target, slack, alpaca });
      const status = async (id: string) => (await trades.findByClientOrderId(id))?.status;
      await expect
        .poll(() => Promise.all(ids.map(status)), { timeout: 15_000 })
        .toEqual(['filled', 'filled', 'partially_filled', 'canceled', 'accepted', 'accepted']);

      // The one row the broker never saw was sent once, by its own lookup-then-submit; the other
      // five came from the list.
      expect(alpaca.requestCount({ method: 'GET', path: /^\/v2\/orders:by_client_order_id/ })).toBe(1);
      expect(alpaca.orders().filter((o) => o.client_order_id === ids[5])).toHaveLength(1);
      const first = await trades.findByClientOrderId(ids[0]!);
      expect(first).toMatchObject({ alpacaOrderId: alpaca.order(ids[0]!)!.id });
      expect(first?.alpacaFilledQty?.toString()).toBe('2');
    }, 60_000);
  });
}
