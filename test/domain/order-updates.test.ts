import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Dec, dec } from '../../src/domain/money';
import { type OrderSnapshot, planOrderUpdate, summariseFills } from '../../src/domain/order-updates';
import type { Trade } from '../../src/domain/trade';

const T0 = new Date('2026-12-01T15:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);

function trade(overrides: Partial<Trade> = {}): Trade {
  return {
    id: 1,
    tradeId: 't-1',
    clientOrderId: 'oms-V1',
    source: 'slack',
    status: 'pending_submit',
    symbol: 'AAPL',
    side: 'buy',
    quantity: dec(10),
    notional: null,
    gmv: null,
    orderType: 'market',
    timeInForce: 'day',
    limitPrice: null,
    stopPrice: null,
    extendedHours: false,
    portfolioName: 'Growth',
    userId: 'U1',
    timestamp: T0,
    createdAt: T0,
    updatedAt: T0,
    submittedAt: null,
    marketOpenAtSubmit: true,
    slackChannelId: null,
    slackMessageTs: null,
    errorCode: null,
    errorKind: null,
    errorMessage: null,
    alpacaOrderId: null,
    alpacaStatus: null,
    alpacaFilledQty: null,
    alpacaFilledPrice: null,
    alpacaFilledAt: null,
    alpacaUpdatedAt: null,
    submitLeaseOwner: null,
    submitLeaseUntil: null,
    ...overrides,
  };
}

function order(
  filled: number,
  seconds: number,
  status = filled === 0 ? 'new' : filled < 10 ? 'partially_filled' : 'filled',
  price = '100',
): OrderSnapshot {
  return {
    id: 'A1',
    status,
    filledQty: dec(filled),
    filledAvgPrice: filled > 0 ? dec(price) : undefined,
    filledAt: filled > 0 ? at(seconds) : undefined,
    updatedAt: at(seconds),
    createdAt: T0,
  };
}

const none = summariseFills([]);

/** Applies snapshots one after another as the books would, returning the trade and every fill stored. */
function replay(snapshots: { order: OrderSnapshot; execution?: { id: string; qty: Dec; price: Dec } }[]) {
  let current = trade();
  const fills: { executionId: string; qty: Dec; price: Dec }[] = [];
  for (const { order: o, execution } of snapshots) {
    const plan = planOrderUpdate(current, summariseFills(fills), o, execution, T0);
    fills.push(...plan.fills);
    current = { ...current, ...plan.patch } as Trade;
  }
  return { trade: current, fills };
}

describe('planOrderUpdate', () => {
  it('stores an execution and takes the broker’s state', () => {
    const plan = planOrderUpdate(trade(), none, order(10, 1), { id: 'E1', qty: dec(10), price: dec(100) }, T0);
    expect(plan.fills.map((f) => [f.executionId, f.qty.toFixed()])).toEqual([['E1', '10']]);
    expect(plan.patch).toMatchObject({ status: 'filled', alpacaOrderId: 'A1', alpacaStatus: 'filled' });
  });

  it('an older snapshot after a newer one changes nothing: no status step back, no filled quantity lost', () => {
    const filled = trade({
      status: 'filled',
      alpacaOrderId: 'A1',
      alpacaStatus: 'filled',
      alpacaFilledQty: dec(10),
      alpacaFilledPrice: dec(100),
      alpacaFilledAt: at(1),
      alpacaUpdatedAt: at(1),
    });
    const stored = summariseFills([{ executionId: 'E1', qty: dec(10), price: dec(100) }]);
    expect(planOrderUpdate(filled, stored, order(0, 0, 'accepted'), undefined, T0)).toEqual({ fills: [], patch: {} });
    // Even with a later timestamp, a lower filled quantity is not believed.
    expect(planOrderUpdate(filled, stored, order(4, 5), undefined, T0)).toEqual({ fills: [], patch: {} });
  });

  it('a catch-up fill covers what no stored execution does, at the price that makes the average the broker’s', () => {
    const stored = summariseFills([{ executionId: 'E1', qty: dec(4), price: dec(99) }]);
    const plan = planOrderUpdate(
      trade({ alpacaOrderId: 'A1', alpacaFilledQty: dec(4) }),
      stored,
      order(10, 3, 'filled', '100'),
      undefined,
      T0,
    );
    expect(plan.fills.map((f) => [f.executionId, f.qty.toFixed(), f.price.toFixed()])).toEqual([
      ['order:A1:10', '6', '100.666667'],
    ]);
  });

  it('the broker showing an order overrules our own "not placed" and clears our notes', () => {
    const plan = planOrderUpdate(
      trade({ status: 'failed', errorCode: 'not_sent', errorMessage: 'not placed' }),
      none,
      order(10, 1),
      undefined,
      T0,
    );
    expect(plan.patch).toMatchObject({ status: 'filled', errorCode: null, errorMessage: null });
  });

  it(
    'in any order, duplicated or late, snapshots and executions leave the books ' +
      'at the broker’s filled quantity, never above, and never step back (property)',
    () => {
      const step = fc.record({
        filled: fc.integer({ min: 0, max: 10 }),
        withExecution: fc.boolean(),
        duplicate: fc.boolean(),
      });
      fc.assert(
        fc.property(fc.array(step, { minLength: 1, maxLength: 12 }), fc.func(fc.integer()), (steps, shuffleKey) => {
          // The broker's true history: filled quantity only grows; each growth is one execution.
          let filled = 0;
          const history = steps.map((s, i) => {
            const before = filled;
            filled = Math.max(filled, s.filled);
            const grew = filled - before;
            return {
              order: order(filled, i + 1),
              execution: s.withExecution && grew > 0 ? { id: `E${i}`, qty: dec(grew), price: dec(100) } : undefined,
              duplicate: s.duplicate,
            };
          });
          const delivered = history
            .flatMap((h) => (h.duplicate ? [h, h] : [h]))
            .sort((a, b) => shuffleKey(a.order.updatedAt.getTime()) - shuffleKey(b.order.updatedAt.getTime()));
          const { trade: books, fills } = replay(delivered);
          const stored = fills.reduce((sum, f) => sum.plus(f.qty), dec(0));
          const latest = history.reduce((max, h) => Math.max(max, h.order.filledQty.toNumber()), 0);
          expect(stored.toNumber()).toBe(latest);
          expect(books.alpacaFilledQty?.toNumber() ?? 0).toBe(latest);
          expect(new Set(fills.map((f) => f.executionId)).size).toBe(fills.length);
        }),
      );
    },
  );
});
