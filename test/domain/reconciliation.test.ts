import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Dec, dec } from '../../src/domain/money';
import {
  adjustmentToMatch,
  type BookHolding,
  type BookOrderFacts,
  type BrokerOrderFacts,
  comparePositions,
  confirmDiscrepancies,
  isOurClientOrderId,
  type OpenPositionFinding,
  orderFindingKey,
  type PositionDiscrepancy,
  planPositionUpdates,
  positionFingerprint,
  reviewOrders,
} from '../../src/domain/reconciliation';

const holding = (portfolioName: string, symbol: string, qty: string): BookHolding => ({
  portfolioName,
  symbol,
  qty: dec(qty),
});
const position = (symbol: string, qty: string) => ({ symbol, qty: dec(qty) });
const plain = (d: PositionDiscrepancy) => ({
  kind: d.kind,
  symbol: d.symbol,
  books: d.booksQty.toFixed(),
  broker: d.brokerQty.toFixed(),
  difference: d.difference.toFixed(),
  breakdown: d.breakdown.map((s) => `${s.portfolioName} ${s.qty.toFixed()}`),
});

describe('comparePositions', () => {
  it('sums every portfolio per symbol and names each kind of disagreement', () => {
    const books = [
      holding('Growth', 'AAPL', '10'),
      holding('Default Portfolio', 'AAPL', '5'),
      holding('Growth', 'MSFT', '3'),
      holding('Income', 'SPY', '2'),
    ];
    const broker = [position('AAPL', '20'), position('SPY', '2'), position('TSLA', '7')];
    const { discrepancies, symbolsCompared } = comparePositions(books, broker);
    expect(symbolsCompared).toBe(4);
    expect(discrepancies.map(plain)).toEqual([
      {
        kind: 'quantity_mismatch',
        symbol: 'AAPL',
        books: '15',
        broker: '20',
        difference: '5',
        breakdown: ['Growth 10', 'Default Portfolio 5'],
      },
      { kind: 'books_only', symbol: 'MSFT', books: '3', broker: '0', difference: '-3', breakdown: ['Growth 3'] },
      { kind: 'broker_only', symbol: 'TSLA', books: '0', broker: '7', difference: '7', breakdown: [] },
    ]);
    expect(discrepancies.map((d) => d.key)).toEqual(['position:AAPL', 'position:MSFT', 'position:TSLA']);
  });

  it('merges spellings of one portfolio, drops portfolios that net to zero, and agrees on fractional shares', () => {
    const books = [
      holding('Growth', 'AAPL', '1.5'),
      holding(' growth ', 'AAPL', '2.25'),
      holding('Income', 'AAPL', '4'),
      holding('Income', 'AAPL', '-4'),
      holding('Growth', 'MSFT', '0.1'),
    ];
    const { discrepancies } = comparePositions(books, [position('AAPL', '4'), position('MSFT', '0.100000000')]);
    expect(discrepancies.map(plain)).toEqual([
      {
        kind: 'quantity_mismatch',
        symbol: 'AAPL',
        books: '3.75',
        broker: '4',
        difference: '0.25',
        breakdown: ['Growth 3.75'],
      },
    ]);
  });

  it('merges names that only look different: invisible characters, decomposed accents, double spaces', () => {
    const books = [
      holding('Growth', 'AAPL', '1'),
      holding('Grow\u200Bth', 'AAPL', '2'),
      holding('Cafe\u0301', 'AAPL', '3'),
      holding('CAF\u00c9', 'AAPL', '4'),
      holding('Growth  Fund', 'AAPL', '5'),
      holding('Growth Fund', 'AAPL', '6'),
    ];
    const { discrepancies } = comparePositions(books, [position('AAPL', '1')]);
    expect(discrepancies.map(plain)[0]?.breakdown).toEqual(['Growth Fund 11', 'Caf\u00e9 7', 'Growth 3']);
  });

  it('compares shorts like longs and leaves skipped symbols out entirely', () => {
    const { discrepancies, symbolsCompared } = comparePositions(
      [holding('Growth', 'TSLA', '-5'), holding('Growth', 'AAPL', '1')],
      [position('TSLA', '-3'), position('AAPL', '2')],
      new Set(['AAPL']),
    );
    expect(symbolsCompared).toBe(1);
    expect(discrepancies.map(plain)).toEqual([
      {
        kind: 'quantity_mismatch',
        symbol: 'TSLA',
        books: '-5',
        broker: '-3',
        difference: '2',
        breakdown: ['Growth -5'],
      },
    ]);
  });

  it('reports a symbol exactly when the books total differs from the broker, and difference = broker − books', () => {
    const qty = fc.integer({ min: -50, max: 50 }).map((n) => String(n / 4));
    const symbol = fc.constantFrom('AAPL', 'MSFT', 'TSLA');
    fc.assert(
      fc.property(
        fc.array(fc.record({ portfolioName: fc.constantFrom('A', 'a ', 'B', 'C'), symbol, qty }), { maxLength: 12 }),
        fc.array(fc.record({ symbol, qty }), { maxLength: 3 }),
        (bookRows, brokerRows) => {
          const books = bookRows.map((r) => holding(r.portfolioName, r.symbol, r.qty));
          const broker = brokerRows.map((r) => position(r.symbol, r.qty));
          const total = (rows: { symbol: string; qty: Dec }[], s: string) =>
            rows.filter((r) => r.symbol === s).reduce((acc, r) => acc.plus(r.qty), dec(0));
          const { discrepancies } = comparePositions(books, broker);
          for (const s of ['AAPL', 'MSFT', 'TSLA']) {
            const found = discrepancies.find((d) => d.symbol === s);
            expect(found !== undefined).toBe(!total(books, s).eq(total(broker, s)));
            if (found) {
              expect(found.difference.eq(total(broker, s).minus(total(books, s)))).toBe(true);
              expect(found.breakdown.reduce((acc, b) => acc.plus(b.qty), dec(0)).eq(found.booksQty)).toBe(true);
            }
          }
        },
      ),
    );
  });
});

describe('confirmDiscrepancies', () => {
  const first = comparePositions(
    [holding('Growth', 'AAPL', '10'), holding('Growth', 'MSFT', '1')],
    [position('AAPL', '12'), position('MSFT', '2'), position('SPY', '1')],
  ).discrepancies;

  it('keeps what the second read shows with the same figures; anything that moved is undecided', () => {
    const second = comparePositions(
      [holding('Growth', 'AAPL', '10'), holding('Growth', 'MSFT', '1'), holding('Growth', 'TSLA', '1')],
      [position('AAPL', '12'), position('MSFT', '3')],
    ).discrepancies;
    const { confirmed, unsettledSymbols } = confirmDiscrepancies(first, second);
    expect(confirmed.map((d) => d.symbol)).toEqual(['AAPL']);
    expect([...unsettledSymbols].sort()).toEqual(['MSFT', 'SPY', 'TSLA']);
  });

  it('a mismatch that vanished on the fresh read is not reported', () => {
    expect(confirmDiscrepancies(first, []).confirmed).toEqual([]);
  });
});

describe('planPositionUpdates (de-duplication)', () => {
  const found = comparePositions(
    [holding('Growth', 'AAPL', '10'), holding('Growth', 'MSFT', '1')],
    [position('AAPL', '12'), position('MSFT', '2')],
  ).discrepancies;
  const stored = (
    id: number,
    d: PositionDiscrepancy,
    overrides: Partial<OpenPositionFinding> = {},
  ): OpenPositionFinding => ({
    id,
    key: d.key,
    symbol: d.symbol,
    kind: d.kind,
    booksQty: d.booksQty,
    brokerQty: d.brokerQty,
    breakdown: d.breakdown,
    ...overrides,
  });

  it('new findings are created; unchanged ones kept; changed ones updated; cleared ones resolved', () => {
    const open = [
      stored(1, found[0]!),
      stored(2, found[1]!, { brokerQty: dec(5) }),
      {
        id: 3,
        key: 'position:SPY',
        symbol: 'SPY',
        kind: 'broker_only' as const,
        booksQty: dec(0),
        brokerQty: dec(1),
        breakdown: [],
      },
    ];
    const tsla = comparePositions([], [position('TSLA', '1')]).discrepancies[0]!;
    const plan = planPositionUpdates(open, [...found, tsla], new Set());
    expect(plan.create.map((d) => d.symbol)).toEqual(['TSLA']);
    expect(plan.keep.map((k) => k.id)).toEqual([1]);
    expect(plan.change.map((c) => c.id)).toEqual([2]);
    expect(plan.resolve).toEqual([3]);
  });

  it('leaves findings of undecided symbols exactly as they are', () => {
    const open = [stored(1, found[0]!)];
    expect(planPositionUpdates(open, [], new Set(['AAPL']))).toEqual({ create: [], change: [], keep: [], resolve: [] });
  });

  it('the fingerprint ignores portfolio spelling and trailing zeros but not figures', () => {
    const d = found[0]!;
    expect(
      positionFingerprint({
        ...d,
        booksQty: dec('10.000'),
        breakdown: [{ portfolioName: ' GROWTH', qty: dec('10.0') }],
      }),
    ).toBe(positionFingerprint(d));
    expect(positionFingerprint({ ...d, breakdown: [{ portfolioName: 'Grow\u200Bth', qty: dec('10') }] })).toBe(
      positionFingerprint(d),
    );
    expect(positionFingerprint({ ...d, brokerQty: dec(13) })).not.toBe(positionFingerprint(d));
  });
});

describe('reviewOrders', () => {
  const now = new Date('2025-11-24T15:00:00Z');
  const old = new Date(now.getTime() - 60_000);
  const order = (o: Partial<BrokerOrderFacts> & { id: string; clientOrderId: string }): BrokerOrderFacts => ({
    symbol: 'AAPL',
    side: 'buy',
    status: 'filled',
    qty: dec(5),
    filledQty: dec(5),
    filledAvgPrice: dec('189.5'),
    updatedAt: old,
    ...o,
  });
  const book = (b: Partial<BookOrderFacts> & { id: number; clientOrderId: string }): BookOrderFacts => ({
    alpacaOrderId: null,
    status: 'filled',
    portfolioName: 'Growth',
    filledQty: dec(5),
    ...b,
  });

  it('sorts orders into repairs, catch-ups, adoptions and orders placed elsewhere', () => {
    const orders = [
      order({ id: 'o1', clientOrderId: 'oms-V1' }),
      order({ id: 'o2', clientOrderId: 'oms-V2' }),
      order({ id: 'o3', clientOrderId: 'oms-V3', status: 'new', filledQty: dec(0) }),
      order({ id: 'o4', clientOrderId: 'oms-V4' }),
      order({ id: 'o5', clientOrderId: 'dashboard-123', symbol: 'TSLA' }),
      order({ id: 'o6', clientOrderId: 'oms-V6', status: 'canceled', filledQty: dec(0) }),
      order({ id: 'o7', clientOrderId: 'oms-V7', status: 'partially_filled', filledQty: dec(2) }),
    ];
    const books = [
      book({ id: 1, clientOrderId: 'oms-V1' }),
      book({ id: 2, clientOrderId: 'oms-V2', status: 'accepted', filledQty: dec(0) }),
      book({ id: 3, clientOrderId: 'oms-V3', status: 'submitted', filledQty: dec(0) }),
      book({ id: 6, clientOrderId: 'oms-V6', status: 'failed', filledQty: dec(0) }),
      book({ id: 7, clientOrderId: 'oms-V7', status: 'partially_filled', filledQty: dec(1) }),
    ];
    const review = reviewOrders(orders, books, { now, quietMs: 10_000 });
    expect(review.repairs.map((r) => [r.order.id, r.from, r.to])).toEqual([
      ['o2', 'accepted', 'filled'],
      ['o6', 'failed', 'canceled'],
      ['o7', 'partially_filled', 'partially_filled'],
    ]);
    expect(review.catchUps.map((c) => c.order.id)).toEqual(['o3']);
    expect(review.adopt.map((o) => o.id)).toEqual(['o4']);
    expect(review.external.map((o) => o.id)).toEqual(['o5']);
    expect(review.checked).toBe(7);
    expect(review.quietSymbols.size).toBe(0);
  });

  it('ignores orders that changed within the quiet period and marks their symbols', () => {
    const review = reviewOrders(
      [order({ id: 'o1', clientOrderId: 'oms-NEW', symbol: 'MSFT', updatedAt: new Date(now.getTime() - 2_000) })],
      [],
      { now, quietMs: 10_000 },
    );
    expect(review).toMatchObject({ adopt: [], external: [], repairs: [], checked: 0 });
    expect([...review.quietSymbols]).toEqual(['MSFT']);
  });

  it('finds a book row by the broker order id when the client order id differs', () => {
    const review = reviewOrders(
      [order({ id: 'o9', clientOrderId: 'other' })],
      [book({ id: 9, clientOrderId: 'legacy-1', alpacaOrderId: 'o9' })],
      { now, quietMs: 10_000 },
    );
    expect(review.external).toEqual([]);
    expect(review.repairs).toEqual([]);
  });

  it('keys findings so a repeat is recognised: one key per adoption, per external order, per repaired state', () => {
    const o = order({ id: 'o1', clientOrderId: 'oms-V1' });
    expect(orderFindingKey('order_adopted', o)).toBe('adopted:o1');
    expect(orderFindingKey('order_external', o)).toBe('external:o1');
    expect(orderFindingKey('order_repaired', o)).toBe('repaired:o1:filled:5');
    expect(orderFindingKey('order_repaired', { ...o, filledQty: dec(2), status: 'partially_filled' })).not.toBe(
      orderFindingKey('order_repaired', o),
    );
    expect(isOurClientOrderId('oms-V1')).toBe(true);
    expect(isOurClientOrderId('web-1')).toBe(false);
  });
});

describe('adjustmentToMatch', () => {
  it('is the signed difference, as a buy or a sell', () => {
    expect(adjustmentToMatch(dec(15), dec(20))).toMatchObject({ side: 'buy' });
    expect(adjustmentToMatch(dec(15), dec(20)).qty.toFixed()).toBe('5');
    expect(adjustmentToMatch(dec(3), dec(0)).qty.toFixed()).toBe('-3');
    expect(adjustmentToMatch(dec(3), dec(0)).side).toBe('sell');
    expect(adjustmentToMatch(dec('1.5'), dec('1.5')).qty.isZero()).toBe(true);
  });
});
