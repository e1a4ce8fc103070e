import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BrokerOrder } from '../../src/broker/broker';
import { initORM, migrateToLatest } from '../../src/db/orm';
import { dec } from '../../src/domain/money';
import { clientOrderIdForView } from '../../src/domain/order';
import type { OrderFormInput } from '../../src/domain/order-form';
import type { NewTrade } from '../../src/domain/trade';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { type CoreInstance, startCore } from '../support/core';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { seedFill, storedFillQty } from '../support/fills';
import { orderFormInput } from '../support/trading';

let sequence = 0;

function pendingRow(overrides: Partial<NewTrade> = {}): NewTrade {
  sequence += 1;
  return {
    clientOrderId: `oms-lifecycle-${process.pid}-${sequence}`,
    source: 'slack',
    symbol: 'AAPL',
    side: 'buy',
    quantity: dec(10),
    orderType: 'market',
    timeInForce: 'day',
    extendedHours: false,
    portfolioName: 'Lifecycle',
    userId: 'U0TRADER',
    ...overrides,
  };
}

function snapshot(clientOrderId: string, overrides: Partial<BrokerOrder> = {}): BrokerOrder {
  return {
    id: `order-${clientOrderId}`,
    clientOrderId,
    symbol: 'AAPL',
    side: 'buy',
    type: 'market',
    timeInForce: 'day',
    status: 'new',
    qty: dec(10),
    filledQty: dec(0),
    extendedHours: false,
    createdAt: new Date('2026-12-01T15:00:00.000Z'),
    updatedAt: new Date('2026-12-01T15:00:00.000Z'),
    submittedAt: new Date('2026-12-01T15:00:00.000Z'),
    ...overrides,
  };
}

const FILLED_AT = new Date('2026-12-01T15:00:01.000Z');
const filled = (clientOrderId: string) =>
  snapshot(clientOrderId, {
    status: 'filled',
    filledQty: dec(10),
    filledAvgPrice: dec('189.42'),
    filledAt: FILLED_AT,
    updatedAt: FILLED_AT,
  });

function sellForm(fields: Partial<OrderFormInput>): OrderFormInput {
  return orderFormInput({ portfolio: 'Sells', side: 'sell', quantity: '', ...fields });
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`the order lifecycle across instances on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let alpaca: AlpacaStandIn;
    const started: CoreInstance[] = [];
    /**
     * A second instance: on PostgreSQL its own connections (another process, as far as the database
     * can tell); SQLite runs one instance.
     */
    const instance = async (options: Parameters<typeof startCore>[0]['options'] = {}, now?: () => Date) => {
      const core = await startCore({ database: db.target, alpaca, options, now });
      started.push(core);
      return core;
    };

    beforeAll(async () => {
      db = await kind.create();
      const orm = await initORM(db.target);
      await migrateToLatest(orm);
      await orm.close(true);
      alpaca = await startAlpacaStandIn({ marketOpen: true });
    });
    afterEach(async () => {
      for (const core of started.splice(0)) await core.close();
      alpaca.clearFaults();
    });
    afterAll(async () => {
      await alpaca?.close();
      await db?.drop();
    });

    it(
      'a late, older order snapshot (the POST answer arriving after the fill event) ' + 'never takes the fill back',
      async () => {
        const a = await instance();
        const { trade } = await a.trades.insertPending(pendingRow());
        const id = trade.clientOrderId!;
        await a.tracker.applyOrder(filled(id), { id: `exec-${id}`, qty: dec(10), price: dec('189.42') });
        await a.tracker.applyOrder(snapshot(id, { status: 'accepted' }));
        const row = await a.trades.findById(trade.id);
        expect(row).toMatchObject({ status: 'filled', alpacaStatus: 'filled' });
        expect(row!.alpacaFilledQty!.toFixed()).toBe('10');
        expect(row!.alpacaFilledPrice!.toFixed(2)).toBe('189.42');
        expect(row!.alpacaFilledAt?.getTime()).toBe(FILLED_AT.getTime());
        expect((await storedFillQty(a.trades, trade.id)).toFixed()).toBe('10');
      },
    );

    it(
      'the same fill reported to two instances at once (the stream’s execution on one, ' +
        'a catch-up read on the other) is stored once',
      async () => {
        const a = await instance();
        const b = kind.name === 'postgresql' ? await instance() : a;
        for (let round = 0; round < 12; round += 1) {
          const { trade } = await a.trades.insertPending(pendingRow());
          const id = trade.clientOrderId!;
          await Promise.all([
            a.tracker.applyOrder(filled(id), { id: `exec-${id}`, qty: dec(10), price: dec('189.42') }),
            b.tracker.applyOrder(filled(id)),
            b.tracker.applyOrder(filled(id)),
          ]);
          expect((await storedFillQty(a.trades, trade.id)).toFixed(), `round ${round}`).toBe('10');
        }
      },
    );

    it(
      'a submission still retrying after a 429 holds its lease: ' +
        'another instance’s settle pass neither fails nor resends it, and it is placed once',
      async () => {
        const threeMinutesAgo = () => new Date(Date.now() - 3 * 60_000);
        const a = await instance({ submitRetries: 4 });
        const b = await instance();
        const { trade } = await (await instance({}, threeMinutesAgo)).trades.insertPending(
          pendingRow({ quantity: dec(1) }),
        );
        alpaca.inject({
          method: 'POST',
          path: '/v2/orders',
          status: 429,
          body: { code: 42910000, message: 'rate limit exceeded' },
          resetInSeconds: 2,
        });

        const submitting = a.submitter.submit(trade.id);
        await expect
          .poll(() => alpaca.requestCount({ method: 'POST', path: '/v2/orders' }), { timeout: 5_000, interval: 20 })
          .toBeGreaterThanOrEqual(1);
        const settled = await b.settler.settleUnsettled();
        expect(settled).toMatchObject({ failed: 0, resubmitted: 0 });
        expect((await b.trades.findById(trade.id))!.status).toBe('pending_submit');

        const placed = await submitting;
        expect(['accepted', 'filled']).toContain(placed.status);
        expect(alpaca.orders().filter((o) => o.client_order_id === trade.clientOrderId)).toHaveLength(1);
        expect((await b.trades.findById(trade.id))!.submitLeaseOwner).toBeNull();
      },
    );

    it('working dollar-amount sells count against the holding', async () => {
      const a = await instance();
      await seedFill(a.orm, {
        executionId: `seed-${process.pid}-${++sequence}`,
        tradeId: null,
        symbol: 'AAPL',
        side: 'buy',
        qty: dec(10),
        price: dec(100),
        portfolioName: 'Sells',
        filledAt: new Date(),
        source: 'broker',
      });
      // A $947.10 sell still working is 5 shares at the stand-in's $189.42.
      const working = await a.trades.insertPending(
        pendingRow({ side: 'sell', quantity: null, notional: dec('947.10'), portfolioName: 'Sells' }),
      );
      await a.trades.update(working.trade.id, { status: 'accepted', alpacaOrderId: `working-${sequence}` });

      const tooMany = await a.entry.review({
        userId: 'U0TRADER',
        clientOrderId: clientOrderIdForView(`V-SELL-${++sequence}`),
        source: 'slack',
        form: sellForm({ quantity: '6' }),
      });
      expect(tooMany.kind).toBe('invalid');
      expect(tooMany.kind === 'invalid' && tooMany.errors.quantity).toMatch(/at most 5/);
      const fits = await a.entry.review({
        userId: 'U0TRADER',
        clientOrderId: clientOrderIdForView(`V-SELL-${++sequence}`),
        source: 'slack',
        form: sellForm({ quantity: '5' }),
      });
      expect(fits.kind).toBe('accepted');
      await a.trades.update(working.trade.id, { status: 'canceled' });
      if (fits.kind === 'accepted') await a.trades.update(fits.trade.id, { status: 'canceled' });
    });

    it(
      'two sells of the same holding submitted at once (on two instances) cannot both pass: ' +
        'one is refused in the form',
      async () => {
        const a = await instance();
        const b = kind.name === 'postgresql' ? await instance() : a;
        const portfolio = `Race ${++sequence}`;
        await seedFill(a.orm, {
          executionId: `seed-${process.pid}-${sequence}`,
          tradeId: null,
          symbol: 'AAPL',
          side: 'buy',
          qty: dec(10),
          price: dec(100),
          portfolioName: portfolio,
          filledAt: new Date(),
          source: 'broker',
        });
        const results = await Promise.all(
          [a, b, a, b].map((core, i) =>
            core.entry.review({
              userId: 'U0TRADER',
              clientOrderId: clientOrderIdForView(`V-RACE-${sequence}-${i}`),
              source: 'slack',
              form: sellForm({ portfolio, quantity: '10' }),
            }),
          ),
        );
        expect(results.filter((r) => r.kind === 'accepted')).toHaveLength(1);
        for (const refused of results.filter((r) => r.kind === 'invalid'))
          expect(refused.kind === 'invalid' && refused.errors.quantity).toMatch(/sell|holds/);
      },
    );
  });
}

const postgres = testDatabaseTargets().find((k) => k.name === 'postgresql')!;

describe.skipIf(!postgres.available)(`settling orders left in flight on ${databaseSuiteName(postgres)}`, () => {
  let db: TestDatabase;
  let core: CoreInstance;

  beforeEach(async () => {
    db = await postgres.create();
    const orm = await initORM(db.target);
    await migrateToLatest(orm);
    await orm.close(true);
    core = await startCore({ database: db.target });
  });
  afterEach(async () => {
    await core?.close();
    await db?.drop();
  });

  it(
    'one row the database refuses (a ledger price that overflows its column) is logged, ' +
      'the others are settled, and reconciliation still runs',
    async () => {
      // Written past the form (which now refuses it), as a database from before the bound would hold it.
      const bad = await core.trades.insertPending(
        pendingRow({ source: 'ledger', quantity: dec('0.000000001'), gmv: dec(50_000), portfolioName: 'Ledger' }),
      );
      const good = await core.trades.insertPending(
        pendingRow({ source: 'ledger', quantity: dec(2), gmv: dec(300), portfolioName: 'Ledger' }),
      );

      const settled = await core.settler.settleUnsettled();
      expect(settled.settled).toBe(1);
      expect((await core.trades.findById(good.trade.id))!.status).toBe('filled');
      expect((await core.trades.findById(bad.trade.id))!.status).toBe('pending_submit');
      expect(core.logs.text()).toContain('could not settle order');

      const run = await core.reconcile.reconcilePositions('manual');
      expect(run.kind === 'finished' && run.report.run.outcome).toBe('ok');
    },
  );
});
