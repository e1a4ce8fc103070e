import type { Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { type Dec, dec } from '../../src/domain/money';
import type { NewFill } from '../../src/domain/trade';

/**
 * Stores one execution and its effect on positions exactly as the app does, so portfolio tests can
 * seed books without placing orders.
 */
export async function seedFill(orm: Orm, fill: NewFill, now: Date = new Date()): Promise<boolean> {
  return new TradeRepository(orm, () => now).recordFill(fill);
}

/** The quantity stored as fills for one order (the app caps it at the broker's filled_qty). */
export async function storedFillQty(trades: TradeRepository, tradeId: number): Promise<Dec> {
  return (await trades.listFillsForTrade(tradeId)).reduce((sum, fill) => sum.plus(fill.qty), dec(0));
}
