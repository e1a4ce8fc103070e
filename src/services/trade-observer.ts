import type { Trade } from '../db/repositories/trade-repository';

/** Told whenever a trade row changes (placed, accepted, filled, canceled…); Slack surfaces implement it. */
export interface TradeObserver {
  tradeChanged(trade: Trade): void | Promise<void>;
}

/** Fans one change out to several observers; one failing observer never blocks the others. */
export function combineObservers(observers: readonly TradeObserver[], onError: (err: unknown) => void): TradeObserver {
  return {
    async tradeChanged(trade) {
      await Promise.all(
        observers.map(async (o) => {
          try {
            await o.tradeChanged(trade);
          } catch (err) {
            onError(err);
          }
        }),
      );
    },
  };
}
