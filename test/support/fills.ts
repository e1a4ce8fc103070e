import type { Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import type { NewFill } from '../../src/domain/trade';

/** Stores one execution and its effect on positions exactly as the app does, so portfolio tests can seed books without placing orders. */
export async function seedFill(orm: Orm, fill: NewFill, now: Date = new Date()): Promise<boolean> {
  return new TradeRepository(orm, () => now).recordFill(fill);
}
