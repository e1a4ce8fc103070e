import type { Orm } from '../../src/db/orm';
import { TradeRepository, type NewFill } from '../../src/db/repositories/trade-repository';

/** Stores one execution and its effect on positions exactly as the app does, so portfolio tests can seed books without placing orders. */
export async function seedFill(orm: Orm, fill: NewFill, now: Date = new Date()): Promise<boolean> {
  return new TradeRepository(orm, () => now).recordFill(fill);
}
