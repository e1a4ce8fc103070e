import { type Dec, dec } from './money';
import type { Side } from './order';
import { portfolioNameKey } from './portfolio-name';
import { MONEY_SCALE, QTY_SCALE } from './positions';

/**
 * P&L per trader on a shared account. Within each portfolio every symbol is one average-cost
 * position, exactly as `positions.ts` keeps it; this module only says whose it is:
 *
 * - Realized: a fill that reduces a position realizes (price − the portfolio's average cost) ×
 *   quantity, credited to the trader whose order the fill belongs to, whoever bought the shares.
 * - Unrealized: each opening fill is a lot of its trader; closing fills consume the position's lots
 *   oldest first (FIFO across traders), so what is left says whose shares are still held. A
 *   trader's unrealized is their held quantity × (price − the portfolio's average cost).
 *
 * Per portfolio the traders' realized add up to the portfolio's realized, and their unrealized to
 * the portfolio's unrealized, to the millionth of a dollar: the cost basis is split between holders
 * by largest share last, so no rounding is lost. Shorts are symmetric (a sell that opens a short
 * is the seller's lot; a buy that covers it realizes for the buyer).
 *
 * The fold runs over every fill the books hold (the bench: 100,000), where Decimal arithmetic alone
 * would take most of a second, so it does the average-cost step of `applyFill` in scaled integers
 * (quantities in 1e-9 shares, money in 1e-6 dollars, rounded half-even at the same points); a
 * property test holds it to `replayFills` exactly.
 */

/** One fill as the fold needs it, given in (filled_at, fill id) order. */
export interface TraderFill {
  /** The trader whose order it is; null for a fill without an order (an audited book adjustment). */
  userId: string | null;
  /** The order (trade row id); null for a book adjustment. */
  orderId: number | null;
  portfolioName: string;
  symbol: string;
  side: Side;
  /** Exact decimals: a Dec, or a database value (decimal text, or a SQLite REAL). */
  qty: Dec | string | number;
  price: Dec | string | number;
}

export interface TraderPnlRow {
  userId: string;
  realized: Dec;
  /** Null when the trader holds a symbol without a price: unknown, never silently 0. */
  unrealized: Dec | null;
  orders: number;
  closingOrders: number;
  winningOrders: number;
  hitRate: number | null;
  rank: number;
}

export interface TraderPnlReport {
  rows: TraderPnlRow[];
  asOf: Date;
  /** Symbols someone holds that had no price: their holders' unrealized is unknown. */
  unpricedSymbols: string[];
}

/**
 * Who a fill without an order (a reconciliation book adjustment) is credited to: the reconciler,
 * the same id the orders it adopts from the broker carry, so the per-portfolio sums stay whole.
 */
export const UNATTRIBUTED_TRADER = 'reconciler';

const QTY_UNIT = 10n ** BigInt(QTY_SCALE);
/** Prices are quoted to a few decimals; twelve keep every one Alpaca sends exact. */
const PRICE_SCALE = 12;
const UNREALIZED_SCALE = QTY_SCALE + PRICE_SCALE;
const UNREALIZED_PER_MONEY = 10n ** BigInt(UNREALIZED_SCALE - MONEY_SCALE);

/** n / d rounded half-even (d > 0), as Decimal rounds money. */
function divideHalfEven(n: bigint, d: bigint): bigint {
  const q = n / d;
  const r = n % d;
  if (r === 0n) return q;
  const twice = (r < 0n ? -r : r) * 2n;
  const away = twice > d || (twice === d && q % 2n !== 0n);
  return away ? q + (n < 0n ? -1n : 1n) : q;
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/** Decimal digits (optionally signed) → integer in units of 10^-scale, rounded half-even past the scale. */
function scaledFromText(text: string, scale: number): bigint {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
  if (!match) return scaledFromText(dec(text).toFixed(), scale);
  const [, sign = '', whole = '', fraction = ''] = match;
  const kept = BigInt(`${whole || '0'}${fraction.slice(0, scale).padEnd(scale, '0')}`);
  const rest = fraction.slice(scale);
  let value = kept;
  if (/[1-9]/.test(rest)) {
    const first = Number(rest[0]);
    const beyondHalf = first > 5 || (first === 5 && /[1-9]/.test(rest.slice(1)));
    if (beyondHalf || (first === 5 && kept % 2n !== 0n)) value += 1n;
  }
  return sign === '-' ? -value : value;
}

const POWERS = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12];

/**
 * A database decimal as scaled integer. SQLite hands NUMERIC back as a double: the nearest integer
 * to value × 10^scale is the stored decimal when that is clearly an integer within double range
 * (the same value `atScale` reads); anything else goes through its shortest text.
 */
function toScaled(value: Dec | string | number, scale: number): bigint {
  if (typeof value === 'number') {
    const scaled = value * POWERS[scale]!;
    const nearest = Math.round(scaled);
    if (Number.isSafeInteger(nearest) && Math.abs(scaled - nearest) < 1e-3) return BigInt(nearest);
    return scaledFromText(String(value), scale);
  }
  return scaledFromText(typeof value === 'string' ? value : value.toFixed(), scale);
}

const asDec = (scaled: bigint, scale: number): Dec => dec(`${scaled}e-${scale}`);

interface Lot {
  trader: string;
  /** Shares still held of this lot, positive (the position's sign says long or short). */
  qty: bigint;
}

/** One average-cost position of one portfolio, with the lots that say whose it is. */
export interface AttributedPosition {
  portfolioKey: string;
  symbol: string;
  /** Signed, 1e-9 shares. */
  qty: bigint;
  /** Signed like qty, 1e-6 dollars. */
  costBasis: bigint;
  realized: bigint;
  lots: Lot[];
  /** Index of the oldest lot not yet consumed. */
  head: number;
}

/**
 * The fold's state: positions with their lots, realized per trader and portfolio, and per order.
 * It can be continued with later fills (foldFills), so a report need not re-read every fill.
 */
export interface AttributedBook {
  /** By portfolio key and symbol. */
  positions: Map<string, AttributedPosition>;
  /** trader → portfolio key → realized (1e-6 dollars). */
  realized: Map<string, Map<string, bigint>>;
  /** order id → its trader and the P&L its realizing fills made. */
  closingOrders: Map<number, { trader: string; realized: bigint }>;
  /** Portfolio name as stored → its key (names repeat on every fill). */
  keys: Map<string, string>;
}

export function emptyBook(): AttributedBook {
  return { positions: new Map(), realized: new Map(), closingOrders: new Map(), keys: new Map() };
}

/** A new book of fills given in (filled_at, id) order. */
export function attributeFills(fills: Iterable<TraderFill>): AttributedBook {
  return foldFills(emptyBook(), fills);
}

/**
 * Continues `book` (changing it) with fills that all come after those already folded in
 * (filled_at, id) order, and returns it.
 */
export function foldFills(book: AttributedBook, fills: Iterable<TraderFill>): AttributedBook {
  const { positions, keys, realized, closingOrders } = book;
  for (const fill of fills) {
    let portfolioKey = keys.get(fill.portfolioName);
    if (portfolioKey === undefined) {
      portfolioKey = portfolioNameKey(fill.portfolioName);
      keys.set(fill.portfolioName, portfolioKey);
    }
    const positionKey = `${portfolioKey}\u0000${fill.symbol}`;
    let position = positions.get(positionKey);
    if (!position) {
      position = { portfolioKey, symbol: fill.symbol, qty: 0n, costBasis: 0n, realized: 0n, lots: [], head: 0 };
      positions.set(positionKey, position);
    }
    const trader = fill.userId ?? UNATTRIBUTED_TRADER;
    const qty = toScaled(fill.qty, QTY_SCALE);
    const price = toScaled(fill.price, MONEY_SCALE);
    const signed = fill.side === 'buy' ? qty : -qty;
    let opening = signed;

    // The average-cost step of applyFill: the closed part realizes against the average cost.
    if (position.qty !== 0n && position.qty < 0n !== signed < 0n) {
      const closing = abs(signed) >= abs(position.qty) ? -position.qty : signed;
      const removedCost =
        abs(closing) === abs(position.qty)
          ? position.costBasis
          : divideHalfEven(position.costBasis * abs(closing), abs(position.qty));
      const pnl = divideHalfEven(-closing * price, QTY_UNIT) - removedCost;
      position.realized += pnl;
      position.costBasis -= removedCost;
      position.qty += closing;
      opening = signed - closing;
      consumeLots(position, abs(closing));
      credit(realized, trader, portfolioKey, pnl);
      if (fill.orderId !== null) {
        const order = closingOrders.get(fill.orderId);
        if (order) order.realized += pnl;
        else closingOrders.set(fill.orderId, { trader, realized: pnl });
      }
    }
    if (opening !== 0n) {
      position.qty += opening;
      position.costBasis += divideHalfEven(opening * price, QTY_UNIT);
      const last = position.lots.at(-1);
      // Consecutive lots of one trader are one lot: FIFO between traders is unchanged.
      if (last && position.lots.length > position.head && last.trader === trader) last.qty += abs(opening);
      else position.lots.push({ trader, qty: abs(opening) });
    }
    if (!realized.has(trader)) realized.set(trader, new Map());
  }
  return book;
}

function consumeLots(position: AttributedPosition, closing: bigint): void {
  let left = closing;
  while (left > 0n && position.head < position.lots.length) {
    const lot = position.lots[position.head]!;
    if (lot.qty > left) {
      lot.qty -= left;
      break;
    }
    left -= lot.qty;
    lot.qty = 0n;
    position.head++;
  }
  // Keeps memory bounded by the open lots, not by every lot a long-lived position ever had.
  if (position.head > 1024 && position.head * 2 > position.lots.length) {
    position.lots = position.lots.slice(position.head);
    position.head = 0;
  }
}

function credit(byTrader: Map<string, Map<string, bigint>>, trader: string, portfolioKey: string, pnl: bigint): void {
  let byPortfolio = byTrader.get(trader);
  if (!byPortfolio) {
    byPortfolio = new Map();
    byTrader.set(trader, byPortfolio);
  }
  byPortfolio.set(portfolioKey, (byPortfolio.get(portfolioKey) ?? 0n) + pnl);
}

/** Open positions' symbols: what needs a price. */
export function heldSymbols(book: AttributedBook): string[] {
  const symbols = new Set<string>();
  for (const p of book.positions.values()) if (p.qty !== 0n) symbols.add(p.symbol);
  return [...symbols].sort();
}

/** One trader's share of one portfolio. */
export interface TraderPortfolioPnl {
  userId: string;
  portfolioKey: string;
  realized: Dec;
  /** Null when a symbol they hold has no price. */
  unrealized: Dec | null;
}

/**
 * Each trader's realized and unrealized P&L per portfolio. `prices` maps a symbol to its last price;
 * a held symbol without one makes its holders' unrealized unknown.
 */
export function traderPortfolioPnl(
  book: AttributedBook,
  prices: ReadonlyMap<string, Dec | undefined>,
): TraderPortfolioPnl[] {
  // Summed in integers (1e-21 dollars: shares at 1e-9 × prices at 1e-12), one Decimal per share at the end.
  const shares = new Map<string, { share: TraderPortfolioPnl; unrealized: bigint | null }>();
  const share = (userId: string, portfolioKey: string) => {
    const key = `${userId}\u0000${portfolioKey}`;
    let found = shares.get(key);
    if (!found) {
      found = { share: { userId, portfolioKey, realized: dec(0), unrealized: null }, unrealized: 0n };
      shares.set(key, found);
    }
    return found;
  };
  for (const [userId, byPortfolio] of book.realized) {
    for (const [portfolioKey, pnl] of byPortfolio) share(userId, portfolioKey).share.realized = asDec(pnl, MONEY_SCALE);
  }
  const scaledPrices = new Map<string, bigint | undefined>();
  for (const position of book.positions.values()) {
    if (position.qty === 0n) continue;
    const held = new Map<string, bigint>();
    for (let i = position.head; i < position.lots.length; i++) {
      const lot = position.lots[i]!;
      if (lot.qty > 0n) held.set(lot.trader, (held.get(lot.trader) ?? 0n) + lot.qty);
    }
    if (!scaledPrices.has(position.symbol)) {
      const price = prices.get(position.symbol);
      scaledPrices.set(position.symbol, price === undefined ? undefined : toScaled(price, PRICE_SCALE));
    }
    const price = scaledPrices.get(position.symbol);
    const sign = position.qty < 0n ? -1n : 1n;
    // Smallest holdings first, so the rounding remainder of the cost split lands on the largest.
    const holders = [...held].sort(([a, x], [b, y]) => (x < y ? -1 : x > y ? 1 : a.localeCompare(b)));
    let costLeft = position.costBasis;
    holders.forEach(([userId, qty], i) => {
      const cost = i === holders.length - 1 ? costLeft : divideHalfEven(position.costBasis * qty, abs(position.qty));
      costLeft -= cost;
      const entry = share(userId, position.portfolioKey);
      entry.unrealized =
        price === undefined || entry.unrealized === null
          ? null
          : entry.unrealized + sign * qty * price - cost * UNREALIZED_PER_MONEY;
    });
  }
  return [...shares.values()].map(({ share, unrealized }) => ({
    ...share,
    unrealized: unrealized === null ? null : asDec(unrealized, UNREALIZED_SCALE),
  }));
}

/** What orders each trader placed, and whose realizing orders won: counted outside the fold. */
export interface TraderPnlInput {
  book: AttributedBook;
  /** Orders placed per trader (statuses in UNPLACED_STATUSES and approval endings excluded). */
  orders: ReadonlyMap<string, number>;
  prices: ReadonlyMap<string, Dec | undefined>;
  asOf: Date;
}

/**
 * Ranked by total P&L (realized + unrealized, an unknown unrealized counted as 0 and left null on
 * the row), then by user id; equal totals share a rank.
 */
export function buildTraderPnlReport({ book, orders, prices, asOf }: TraderPnlInput): TraderPnlReport {
  const rows = new Map<string, Omit<TraderPnlRow, 'rank' | 'hitRate'>>();
  const row = (userId: string) => {
    let found = rows.get(userId);
    if (!found) {
      found = { userId, realized: dec(0), unrealized: dec(0), orders: 0, closingOrders: 0, winningOrders: 0 };
      rows.set(userId, found);
    }
    return found;
  };
  for (const userId of book.realized.keys()) row(userId);
  for (const share of traderPortfolioPnl(book, prices)) {
    const r = row(share.userId);
    r.realized = r.realized.plus(share.realized);
    r.unrealized = r.unrealized === null || share.unrealized === null ? null : r.unrealized.plus(share.unrealized);
  }
  for (const [userId, count] of orders) row(userId).orders = count;
  for (const order of book.closingOrders.values()) {
    const r = row(order.trader);
    r.closingOrders++;
    if (order.realized > 0n) r.winningOrders++;
  }
  const total = (r: Omit<TraderPnlRow, 'rank' | 'hitRate'>) => r.realized.plus(r.unrealized ?? 0);
  const sorted = [...rows.values()].sort(
    (a, b) => total(b).comparedTo(total(a)) || (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0),
  );
  let rank = 0;
  const ranked = sorted.map((r, i): TraderPnlRow => {
    if (i === 0 || !total(r).eq(total(sorted[i - 1]!))) rank = i + 1;
    return { ...r, hitRate: r.closingOrders === 0 ? null : r.winningOrders / r.closingOrders, rank };
  });
  const unpricedSymbols = heldSymbols(book).filter((s) => prices.get(s) === undefined);
  return { rows: ranked, asOf, unpricedSymbols };
}
