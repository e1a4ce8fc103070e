import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlpacaBroker } from '../../src/broker/alpaca-broker';
import type { Broker } from '../../src/broker/broker';
import { migrateToLatest } from '../../src/db/orm';
import { ApprovalRepository } from '../../src/db/repositories/approval-repository';
import { PositionRepository } from '../../src/db/repositories/position-repository';
import { dec } from '../../src/domain/money';
import type { NewTrade } from '../../src/domain/trade';
import { createLogger } from '../../src/logger';
import { OrderApprovals } from '../../src/services/order-approvals';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { type CoreInstance, startCore } from '../support/core';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { LogCapture } from '../support/launch';

const APPROVERS = ['U0APPROVER1', 'U0APPROVER2'];
let sequence = 0;

function largeBuy(overrides: Partial<NewTrade> = {}): NewTrade {
  sequence += 1;
  return {
    clientOrderId: `oms-approval-${process.pid}-${sequence}`,
    source: 'slack',
    symbol: 'AAPL',
    side: 'buy',
    quantity: dec(100),
    orderType: 'market',
    timeInForce: 'day',
    extendedHours: false,
    portfolioName: 'Desk',
    userId: 'U0TRADER',
    ...overrides,
  };
}

function approvalsOf(core: CoreInstance, now?: () => Date, broker: Broker = core.broker): OrderApprovals {
  const logger = createLogger({ level: 'silent', secrets: [], destination: new LogCapture() });
  return new OrderApprovals(
    core.trades,
    new ApprovalRepository(core.orm),
    new PositionRepository(core.orm),
    core.submitter,
    broker,
    logger,
    {
      policy: {
        thresholdNotional: dec(10_000),
        approverUserIds: APPROVERS,
        ttlMinutes: 15,
        maxPriceMovePct: dec(2),
      },
      now,
    },
  );
}

for (const kind of testDatabaseTargets()) {
  const instances = kind.name === 'postgresql' ? 'two instances' : 'one instance';
  describe.skipIf(!kind.available)(
    `order approvals decided concurrently by ${instances} on ${databaseSuiteName(kind)}`,
    () => {
      let db: TestDatabase;
      let alpaca: AlpacaStandIn;
      let a: CoreInstance;
      let b: CoreInstance;

      beforeAll(async () => {
        db = await kind.create();
        alpaca = await startAlpacaStandIn({ marketOpen: true });
        alpaca.setPrice('AAPL', { last: '200.00', bid: '199.95', ask: '200.05', prevClose: '198.00' });
        a = await startCore({ database: db.target, alpaca });
        await migrateToLatest(a.orm);
        // SQLite runs one instance (a second process would wait on its file lock, which better-sqlite3
        // does synchronously: two "instances" in one test process would block each other's event loop).
        b = kind.name === 'postgresql' ? await startCore({ database: db.target, alpaca }) : a;
      });
      afterAll(async () => {
        await a?.close();
        if (b !== a) await b?.close();
        await alpaca?.close();
        await db?.drop();
      });

      async function recordLarge(row = largeBuy()) {
        const request = approvalsOf(a).requestFor({ estimatedValue: dec(20_000), quotedPrice: dec(200) });
        if (!request || request === 'unpriced') throw new Error('a $20,000 order needs approval');
        const recorded = await a.trades.recordPending(row, undefined, request);
        if (recorded.kind !== 'created') throw new Error(recorded.kind);
        expect(recorded.trade.status).toBe('pending_approval');
        return recorded.trade;
      }

      it('a request asks Alpaca nothing (it precedes Slack’s ack): priced at the quote it was valued at', async () => {
        const before = alpaca.requestCount();
        const request = approvalsOf(a).requestFor({ estimatedValue: dec(20_000), quotedPrice: dec('199.5') });
        expect(request !== 'unpriced' && request?.priceAtRequest.toFixed()).toBe('199.5');
        expect(alpaca.requestCount()).toBe(before);
        // A quote of 0 is no price: the approval's price check could not compare with it.
        expect(approvalsOf(a).requestFor({ estimatedValue: dec(20_000), quotedPrice: dec(0) })).toBe('unpriced');
      });

      it('an approval waits on no slow clock: clock and price are bounded and fetched before the checks', async () => {
        const trade = await recordLarge();
        // A broker without the clock cache, so the slow clock is really asked for.
        const uncached = new AlpacaBroker({
          keyId: alpaca.keyId,
          secretKey: alpaca.secretKey,
          baseUrl: alpaca.baseUrl,
          dataUrl: alpaca.dataUrl,
          streamUrl: alpaca.streamUrl,
          dataFeed: 'iex',
          logger: createLogger({ level: 'silent', secrets: [], destination: new LogCapture() }),
          timeoutMs: 10_000,
        });
        alpaca.inject({ method: 'GET', path: '/v2/clock', latencyMs: 6_000 });
        const started = Date.now();
        const outcome = await approvalsOf(a, undefined, uncached).approve(trade.id, APPROVERS[0]!);
        expect(outcome.kind).toBe('approved');
        expect(Date.now() - started).toBeLessThan(4_000);
        expect(alpaca.orders().filter((o) => o.client_order_id === trade.clientOrderId)).toHaveLength(1);
        alpaca.clearFaults();
      });

      it('two approvers approving at once place the order once', async () => {
        const trade = await recordLarge();
        const outcomes = await Promise.all([
          approvalsOf(a).approve(trade.id, APPROVERS[0]!),
          approvalsOf(b).approve(trade.id, APPROVERS[1]!),
        ]);
        expect(outcomes.map((o) => o.kind).sort()).toEqual(['approved', 'refused']);
        expect(alpaca.orders().filter((o) => o.client_order_id === trade.clientOrderId)).toHaveLength(1);
        const decision = await new ApprovalRepository(a.orm).findByTradeId(trade.id);
        expect(decision?.decision).toBe('approve');
      });

      it('ten concurrent approvals of one order still place it once', async () => {
        const trade = await recordLarge();
        const outcomes = await Promise.all(
          Array.from({ length: 10 }, (_, i) => approvalsOf(i % 2 ? a : b).approve(trade.id, APPROVERS[i % 2]!)),
        );
        expect(outcomes.filter((o) => o.kind === 'approved')).toHaveLength(1);
        expect(alpaca.orders().filter((o) => o.client_order_id === trade.clientOrderId)).toHaveLength(1);
      });

      it('an approval racing a withdrawal: one decision wins, and the broker agrees with it', async () => {
        const trade = await recordLarge();
        const [approved, withdrawn] = await Promise.all([
          approvalsOf(a).approve(trade.id, APPROVERS[0]!),
          approvalsOf(b).withdraw(trade.id, 'U0TRADER'),
        ]);
        expect([approved.kind, withdrawn.kind].filter((k) => k !== 'refused')).toHaveLength(1);
        const decision = (await new ApprovalRepository(a.orm).findByTradeId(trade.id))?.decision;
        const atBroker = alpaca.orders().filter((o) => o.client_order_id === trade.clientOrderId).length;
        expect(atBroker).toBe(decision === 'approve' ? 1 : 0);
      });

      it('the settle pass never sends, fails or settles an order awaiting approval', async () => {
        const trade = await recordLarge();
        const posts = alpaca.orders().length;
        await a.settler.settleUnsettled();
        await b.settler.settleUnsettled();
        expect(alpaca.orders().length).toBe(posts);
        expect((await a.trades.findById(trade.id))?.status).toBe('pending_approval');
        expect((await a.submitter.submit(trade.id)).status).toBe('pending_approval');
        expect(alpaca.orders().length).toBe(posts);
      });

      it('a pending sell counts against what the portfolio can sell', async () => {
        const holding = await a.trades.insertPending(largeBuy({ portfolioName: 'Sellers', quantity: dec(100) }));
        await a.trades.recordFill({
          executionId: `seed-${holding.trade.id}`,
          tradeId: holding.trade.id,
          symbol: 'AAPL',
          side: 'buy',
          qty: dec(100),
          price: dec(200),
          portfolioName: 'Sellers',
          filledAt: new Date(),
          source: 'broker',
        });
        await recordLarge(largeBuy({ side: 'sell', portfolioName: 'Sellers', quantity: dec(80) }));
        expect((await a.trades.sellableQuantity('Sellers', 'AAPL')).qty.toFixed()).toBe('20');
      });

      it('the expiry sweep ends requests past the TTL once, and leaves fresh ones', async () => {
        const old = await recordLarge();
        const later = () => new Date(Date.now() + 16 * 60_000);
        const fresh = await recordLarge();
        const [first, second] = await Promise.all([
          approvalsOf(a, later).expireOverdue(),
          approvalsOf(b, later).expireOverdue(),
        ]);
        expect(first + second).toBeGreaterThanOrEqual(2);
        for (const trade of [old, fresh]) {
          expect((await a.trades.findById(trade.id))?.status).toBe('expired');
          expect((await new ApprovalRepository(a.orm).findByTradeId(trade.id))?.decision).toBe('expire');
        }
        const another = await recordLarge();
        expect(await approvalsOf(a).expireOverdue()).toBe(0);
        expect((await a.trades.findById(another.id))?.status).toBe('pending_approval');
      });
    },
  );
}
