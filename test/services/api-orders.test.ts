import { afterEach, describe, expect, it } from 'vitest';
import { initORM, migrateToLatest } from '../../src/db/orm';
import { ApiKeyRepository } from '../../src/db/repositories/api-key-repository';
import { dec } from '../../src/domain/money';
import { type ApiOrderRequest, ApiOrderService } from '../../src/services/api-orders';
import { OrderQueries } from '../../src/services/order-queries';
import type { OrderSubmitter } from '../../src/services/order-submission';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { type CoreInstance, startCore } from '../support/core';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';

const REQUEST: ApiOrderRequest = {
  symbol: 'AAPL',
  side: 'buy',
  quantity: dec(3),
  portfolioName: 'Scripts',
  userId: 'U0TESTUSER',
  orderType: 'market',
  timeInForce: 'day',
  extendedHours: false,
  whenClosed: 'refuse',
};
const CALLER = { callerId: 'key-1', idempotencyKey: 'nightly-rebalance-7' };

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`API orders whose first request died, on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase | undefined;
    let alpaca: AlpacaStandIn | undefined;
    const cores: CoreInstance[] = [];
    afterEach(async () => {
      for (const core of cores.splice(0)) await core.close();
      await alpaca?.close();
      await db?.drop();
    });

    /** One instance's API order service; `submitter` replaces the real one (a request that dies mid-way). */
    const service = async (submitter?: Pick<OrderSubmitter, 'submit'>) => {
      const core = await startCore({ database: db!.target, alpaca });
      cores.push(core);
      return new ApiOrderService(
        core.entry,
        (submitter ?? core.submitter) as OrderSubmitter,
        new OrderQueries(core.trades),
        new ApiKeyRepository(core.orm),
        { fillWaitMs: 2_000, pollMs: 20 },
      );
    };

    it('keeps the key with its recorded order: another body is refused, and a retry places that order after the close', async () => {
      db = await kind.create();
      const orm = await initORM(db.target);
      await migrateToLatest(orm);
      await orm.close(true);
      alpaca = await startAlpacaStandIn({ marketOpen: true });

      // The order is recorded, then the request dies before anything reaches Alpaca.
      const dying = await service({
        submit: async () => {
          throw new Error('the database went away mid-request');
        },
      });
      await expect(dying.place(REQUEST, CALLER)).rejects.toThrow(/went away/);

      // The key still belongs to that order: a different order under it is refused, not answered with it.
      const other = await dying.place({ ...REQUEST, quantity: dec(300) }, CALLER);
      expect(other).toEqual({ kind: 'idempotency_conflict' });

      // Later (another instance, the market now shut), the retry sends the recorded order rather than
      // saying "market closed, nothing was sent" about an order that exists.
      alpaca.setMarketOpen(false);
      const retry = await (await service()).place(REQUEST, CALLER);
      expect(retry).toMatchObject({ kind: 'placed', trade: { symbol: 'AAPL', source: 'api' } });
      expect(alpaca.orders()).toHaveLength(1);
    });
  });
}
