import { type Dec, dec } from './money';
import type { Side } from './order';

/**
 * Positions by the average-cost method. Buys (or sells that open a short) add to the cost basis
 * at their price; fills that reduce the position take cost out at the current average and realize
 * P&L = (exit price − average cost) × quantity; a position that reaches zero starts afresh. The
 * result depends on the order of fills, so callers fold them by (filled_at, fill id).
 */

/** Decimal places the books keep: quantities as Alpaca sends them, money to a millionth of a dollar. */
export const QTY_SCALE = 9;
export const MONEY_SCALE = 6;

export interface PositionFill {
  side: Side;
  qty: Dec;
  price: Dec;
  filledAt: Date;
}

export interface PositionState {
  /** Signed: negative is short. */
  qty: Dec;
  /** What the open quantity cost, signed like qty (so average cost = costBasis / qty is positive). */
  costBasis: Dec;
  realizedPnl: Dec;
  fillCount: number;
  lastFillAt: Date | null;
}

export const FLAT_POSITION: PositionState = Object.freeze({
  qty: dec(0),
  costBasis: dec(0),
  realizedPnl: dec(0),
  fillCount: 0,
  lastFillAt: null,
});

const money = (value: Dec): Dec => value.toDecimalPlaces(MONEY_SCALE);

/**
 * The position after one more fill. Rounding is to MONEY_SCALE at each step (half-even), the same
 * whether positions are kept up fill by fill or rebuilt from every fill, so both give equal books.
 */
export function applyFill(state: PositionState, fill: PositionFill): PositionState {
  const signed = fill.side === 'buy' ? fill.qty : fill.qty.negated();
  let qty = state.qty;
  let costBasis = state.costBasis;
  let realizedPnl = state.realizedPnl;
  let opening = signed;

  if (!qty.isZero() && qty.isNegative() !== signed.isNegative()) {
    // Reduces (and perhaps reverses) the position: the closed part realizes against the average cost.
    const closing = signed.abs().gte(qty.abs()) ? qty.negated() : signed;
    const removedCost = closing.abs().eq(qty.abs()) ? costBasis : money(costBasis.times(closing.abs()).div(qty.abs()));
    realizedPnl = realizedPnl.plus(money(closing.negated().times(fill.price))).minus(removedCost);
    costBasis = costBasis.minus(removedCost);
    qty = qty.plus(closing);
    opening = signed.minus(closing);
  }
  if (!opening.isZero()) {
    qty = qty.plus(opening);
    costBasis = costBasis.plus(money(opening.times(fill.price)));
  }
  return { qty, costBasis, realizedPnl, fillCount: state.fillCount + 1, lastFillAt: fill.filledAt };
}

/** Folds fills already in (filled_at, id) order. */
export function replayFills(fills: Iterable<PositionFill>, start: PositionState = FLAT_POSITION): PositionState {
  let state = start;
  for (const fill of fills) state = applyFill(state, fill);
  return state;
}

/** Price paid per share of the open quantity; undefined when flat. */
export function averageCost(position: Pick<PositionState, 'qty' | 'costBasis'>): Dec | undefined {
  return position.qty.isZero() ? undefined : position.costBasis.div(position.qty);
}
