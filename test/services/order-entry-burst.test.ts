import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OutboxEntryEntity } from '../../src/db/entities';
import { initORM, migrateToLatest } from '../../src/db/orm';
import { clientOrderIdForView } from '../../src/domain/order';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { type CoreInstance, startCore } from '../support/core';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { orderFormInput } from '../support/trading';

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`order submissions arriving together on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let alpaca: AlpacaStandIn;
    let core: CoreInstance | undefined;

    beforeAll(async () => {
      db = await kind.create();
      const orm = await initORM(db.target);
      await migrateToLatest(orm);
      await orm.close(true);
      alpaca = await startAlpacaStandIn({ marketOpen: true });
    });
    afterEach(async () => {
      await core?.close();
      core = undefined;
    });
    afterAll(async () => {
      await alpaca?.close();
      await db?.drop();
    });

    it('a burst naming a new portfolio creates it once, and records every order with its notifications', async () => {
      core = await startCore({ database: db.target, alpaca });
      const ensure = vi.spyOn(core.portfolios, 'ensure');
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          core!.entry.review({
            userId: `U0BURST${i % 4}`,
            clientOrderId: clientOrderIdForView(`V-BURST-${i}`),
            source: 'slack',
            form: orderFormInput({ portfolio: 'Burst Book' }),
          }),
        ),
      );
      expect(results.every((r) => r.kind === 'accepted')).toBe(true);
      expect(ensure).toHaveBeenCalledTimes(1);
      for (const r of results) {
        if (r.kind !== 'accepted') continue;
        expect(await core.trades.findById(r.trade.id)).toEqual(r.trade);
      }
      const outbox = await core.orm.em.fork().find(OutboxEntryEntity, {}, { orderBy: { id: 'asc' } });
      // One confirmation per order; one Home-tab notice per trader, bumped by their later orders.
      expect(outbox.filter((e) => e.topic === 'trade.changed')).toHaveLength(20);
      const traders = outbox.filter((e) => e.topic === 'trader.changed');
      expect(traders.map((e) => e.version).sort()).toEqual([5, 5, 5, 5]);
    });

    it('a redelivered submission gets its order back as a duplicate, still one row and one confirmation', async () => {
      core = await startCore({ database: db.target, alpaca });
      const submission = {
        userId: 'U0REDELIVER',
        clientOrderId: clientOrderIdForView('V-REDELIVERED'),
        source: 'slack' as const,
        form: orderFormInput({ portfolio: 'Redelivered' }),
      };
      const results = await Promise.all([core.entry.review(submission), core.entry.review(submission)]);
      expect(results.map((r) => r.kind).sort()).toEqual(['accepted', 'duplicate']);
      const ids = results.map((r) => (r.kind === 'invalid' ? undefined : r.trade.id));
      expect(ids[0]).toBe(ids[1]);
      const confirmations = await core.orm.em
        .fork()
        .count(OutboxEntryEntity, { coalesceKey: `trade.changed:${ids[0]}` });
      expect(confirmations).toBe(1);
    });
  });
}
