import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Dec, dec } from '../../src/domain/money';
import type { Side } from '../../src/domain/order';
import { portfolioNameKey } from '../../src/domain/portfolio-name';
import { valuePosition } from '../../src/domain/portfolio-valuation';
import { replayFills } from '../../src/domain/positions';
import {
  attributeFills,
  buildTraderPnlReport,
  foldFills,
  type TraderFill,
  traderPortfolioPnl,
  UNATTRIBUTED_TRADER,
} from '../../src/domain/trader-pnl';
import { ADOPTED_BY } from '../../src/services/reconcile-service';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';

const fill = (
  userId: string | null,
  orderId: number | null,
  portfolioName: string,
  symbol: string,
  side: Side,
  qty: string,
  price: string,
): TraderFill => ({ userId, orderId, portfolioName, symbol, side, qty, price });

/**
 * Two portfolios, three traders and a book adjustment. The figures in the comments are worked by
 * hand (average cost; lots consumed oldest first).
 */
const BOOK: TraderFill[] = [
  // Growth AAPL. Alice buys 10 @ 100: qty 10, cost 1000, lots [A10].
  fill(ALICE, 1, 'Growth', 'AAPL', 'buy', '10', '100'),
  // Bob's order 2 fills in two parts, 4 @ 118 and 6 @ 121: qty 20, cost 2198 (avg 109.9), lots [A10, B10].
  fill(BOB, 2, 'Growth', 'AAPL', 'buy', '4', '118'),
  fill(BOB, 2, 'Growth', 'AAPL', 'buy', '6', '121'),
  // Carol sells shares the others bought, order 3 in two parts:
  // 5 @ 130 realizes 650 − 2198 × 5/20 = 100.5 (cost 1648.5, qty 15, lots [A5, B10]);
  // 10 @ 131 realizes 1310 − 1648.5 × 10/15 = 211 (cost 549.5, qty 5, lots [B5]).
  fill(CAROL, 3, 'Growth', 'AAPL', 'sell', '5', '130'),
  fill(CAROL, 3, 'Growth', 'AAPL', 'sell', '10', '131'),
  // Alice sells the last 5 @ 100: realizes 500 − 549.5 = −49.5; flat.
  fill(ALICE, 4, 'Growth', 'AAPL', 'sell', '5', '100'),
  // Growth MSFT. Bob 3 @ 200, Alice 1 @ 230: qty 4, cost 830 (avg 207.5), lots [B3, A1].
  fill(BOB, 5, 'Growth', 'MSFT', 'buy', '3', '200'),
  fill(ALICE, 6, 'Growth', 'MSFT', 'buy', '1', '230'),
  // Alice sells 2 @ 210: realizes 420 − 415 = 5, consuming Bob's oldest lot: lots [B1, A1], cost 415.
  fill(ALICE, 7, 'Growth', 'MSFT', 'sell', '2', '210'),
  // Growth NVDA: a book adjustment (no order) of 2 @ 10, credited to the reconciler.
  fill(null, null, 'Growth', 'NVDA', 'buy', '2', '10'),
  // Income (spelled two ways) AAPL: Carol 3 @ 90; Bob sells 1 @ 95, realizing 5; lots [C2], cost 180.
  fill(CAROL, 8, 'Income', 'AAPL', 'buy', '3', '90'),
  fill(BOB, 9, 'income ', 'AAPL', 'sell', '1', '95'),
  // Income TSLA, a short: Alice sells 2 @ 50 (cost −100); Carol covers 1 @ 40, realizing 50 − 40 = 10.
  fill(ALICE, 10, 'Income', 'TSLA', 'sell', '2', '50'),
  fill(CAROL, 11, 'Income', 'TSLA', 'buy', '1', '40'),
];

const PRICES = new Map<string, Dec | undefined>([
  ['AAPL', dec(100)],
  ['MSFT', dec(220)],
  ['NVDA', dec(12)],
]);
const ORDERS = new Map([
  [ALICE, 5],
  [BOB, 3],
  [CAROL, 3],
]);
const AS_OF = new Date(Date.UTC(2026, 0, 5, 21));

const text = (value: Dec | null) => (value === null ? null : value.toFixed());

describe('P&L per trader on a hand-built book', () => {
  const report = buildTraderPnlReport({ book: attributeFills(BOOK), orders: ORDERS, prices: PRICES, asOf: AS_OF });

  it('ranks traders by realized + unrealized, with orders and hit rates', () => {
    expect(report.rows.map((r) => ({ ...r, realized: text(r.realized), unrealized: text(r.unrealized) }))).toEqual([
      // Realized 311.5 + 10; unrealized Income AAPL 2 × 100 − 180 = 20. Both closing orders won.
      {
        userId: CAROL,
        realized: '321.5',
        unrealized: '20',
        orders: 3,
        closingOrders: 2,
        winningOrders: 2,
        hitRate: 1,
        rank: 1,
      },
      // Realized 5; unrealized MSFT 1 × 220 − 207.5 = 12.5.
      {
        userId: BOB,
        realized: '5',
        unrealized: '12.5',
        orders: 3,
        closingOrders: 1,
        winningOrders: 1,
        hitRate: 1,
        rank: 2,
      },
      // The adjustment's 2 NVDA: 2 × 12 − 20 = 4.
      {
        userId: UNATTRIBUTED_TRADER,
        realized: '0',
        unrealized: '4',
        orders: 0,
        closingOrders: 0,
        winningOrders: 0,
        hitRate: null,
        rank: 3,
      },
      // Realized −49.5 + 5; holds MSFT (12.5) and is short TSLA, which has no price: unknown, ranked as 0.
      {
        userId: ALICE,
        realized: '-44.5',
        unrealized: null,
        orders: 5,
        closingOrders: 2,
        winningOrders: 1,
        hitRate: 0.5,
        rank: 4,
      },
    ]);
    expect(report.unpricedSymbols).toEqual(['TSLA']);
    expect(report.asOf).toBe(AS_OF);
  });

  it('splits each portfolio’s unrealized between the traders whose shares are still held', () => {
    const shares = traderPortfolioPnl(attributeFills(BOOK), new Map([...PRICES, ['TSLA', dec(45)]]));
    const unrealized = (userId: string, portfolio: string) =>
      text(shares.find((s) => s.userId === userId && s.portfolioKey === portfolio)?.unrealized ?? null);
    // Growth MSFT, avg 207.5 at 220: Bob's and Alice's 1 share each.
    expect(unrealized(ALICE, 'growth')).toBe('12.5');
    expect(unrealized(BOB, 'growth')).toBe('12.5');
    // Income AAPL, avg 90 at 100: Carol's 2 (Bob sold one of hers).
    expect(unrealized(CAROL, 'income')).toBe('20');
    // Income TSLA, Alice's short of 1 at avg 50, now 45.
    expect(unrealized(ALICE, 'income')).toBe('5');
    // Growth NVDA, the adjustment's 2 at avg 10, now 12.
    expect(unrealized(UNATTRIBUTED_TRADER, 'growth')).toBe('4');
    // Carol sold in Growth and holds nothing there.
    expect(unrealized(CAROL, 'growth')).toBe('0');
  });

  it('credits book adjustments to the reconciler, the id adopted orders carry', () => {
    expect(UNATTRIBUTED_TRADER).toBe(ADOPTED_BY);
  });

  it('lists a trader with orders but no fills, and ties share a rank', () => {
    const tied = buildTraderPnlReport({
      book: attributeFills([]),
      orders: new Map([
        ['U0B', 2],
        ['U0A', 1],
      ]),
      prices: new Map(),
      asOf: AS_OF,
    });
    expect(tied.rows.map((r) => [r.userId, r.rank, r.orders, r.hitRate])).toEqual([
      ['U0A', 1, 1, null],
      ['U0B', 1, 2, null],
    ]);
    expect(tied.unpricedSymbols).toEqual([]);
  });

  it('reads SQLite REALs and decimal text alike', () => {
    const asReal = attributeFills([
      { ...BOOK[0]!, qty: 0.1, price: 100.123456 },
      { ...BOOK[5]!, qty: 0.1, price: 99.1 },
    ]);
    const asText = attributeFills([
      { ...BOOK[0]!, qty: '0.100000000', price: '100.123456' },
      { ...BOOK[5]!, qty: '0.1', price: '99.100000' },
    ]);
    const realized = (book: ReturnType<typeof attributeFills>) => book.realized.get(ALICE)?.get('growth');
    expect(realized(asReal)).toBe(realized(asText));
    // 0.1 × (99.1 − 100.123456) = −0.1023456 → −0.102346 at the books' millionth of a dollar.
    expect(realized(asText)).toBe(-102346n);
  });
});

/** Random books: the per-portfolio sums must match the portfolios' own average-cost books exactly. */
describe('P&L per trader adds up to the portfolios', () => {
  const traders = [ALICE, BOB, CAROL, null];
  const fillArbitrary = fc.record({
    userId: fc.constantFrom(...traders),
    orderId: fc.integer({ min: 1, max: 8 }),
    portfolioName: fc.constantFrom('Growth', 'growth', 'Income'),
    symbol: fc.constantFrom('AAPL', 'MSFT'),
    side: fc.constantFrom<Side>('buy', 'sell'),
    qty: fc.integer({ min: 1, max: 5_000_000_000 }).map((n) => dec(n).div(1e6)),
    price: fc.integer({ min: 1, max: 50_000_000 }).map((n) => dec(n).div(1e4)),
  });
  const priceArbitrary = fc.integer({ min: 1, max: 50_000_000 }).map((n) => dec(n).div(1e4));

  it('traders’ realized and unrealized sum to each portfolio’s, which match replayFills', () => {
    fc.assert(
      fc.property(fc.array(fillArbitrary, { maxLength: 40 }), priceArbitrary, priceArbitrary, (raw, aapl, msft) => {
        const fills = raw.map((f) => ({ ...f, orderId: f.userId === null ? null : f.orderId }));
        const prices = new Map<string, Dec | undefined>([
          ['AAPL', aapl],
          ['MSFT', msft],
        ]);
        const book = attributeFills(fills);
        const shares = traderPortfolioPnl(book, prices);
        for (const portfolioKey of new Set(fills.map((f) => portfolioNameKey(f.portfolioName)))) {
          let realized = dec(0);
          let unrealized = dec(0);
          for (const symbol of ['AAPL', 'MSFT']) {
            const mine = fills.filter((f) => portfolioNameKey(f.portfolioName) === portfolioKey && f.symbol === symbol);
            const state = replayFills(
              mine.map((f) => ({ side: f.side, qty: f.qty, price: f.price, filledAt: new Date(0) })),
            );
            const position = book.positions.get(`${portfolioKey}\u0000${symbol}`);
            if (position) {
              expect(dec(`${position.qty}e-9`).eq(state.qty)).toBe(true);
              expect(dec(`${position.costBasis}e-6`).eq(state.costBasis)).toBe(true);
              expect(dec(`${position.realized}e-6`).eq(state.realizedPnl)).toBe(true);
            }
            realized = realized.plus(state.realizedPnl);
            const valued = valuePosition({ symbol, ...state }, { lastPrice: prices.get(symbol) });
            unrealized = unrealized.plus(valued.unrealizedPnl ?? 0);
          }
          const ofPortfolio = shares.filter((s) => s.portfolioKey === portfolioKey);
          const sum = (pick: (s: (typeof ofPortfolio)[number]) => Dec) =>
            ofPortfolio.reduce((total, s) => total.plus(pick(s)), dec(0));
          expect(sum((s) => s.realized).eq(realized)).toBe(true);
          expect(sum((s) => s.unrealized ?? dec(NaN)).eq(unrealized)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('continuing a book', () => {
  it('folding fills in two parts gives the book folded at once', () => {
    const prices = new Map<string, Dec | undefined>([...PRICES, ['TSLA', dec(45)]]);
    const whole = buildTraderPnlReport({ book: attributeFills(BOOK), orders: ORDERS, prices, asOf: AS_OF });
    for (const cut of [1, 4, 9, 12]) {
      const book = foldFills(attributeFills(BOOK.slice(0, cut)), BOOK.slice(cut));
      expect(buildTraderPnlReport({ book, orders: ORDERS, prices, asOf: AS_OF })).toEqual(whole);
    }
  });
});
