import type { Broker, BrokerOrder } from '../broker/broker';
import type { Trade } from '../domain/trade';

/** Alpaca's largest page of GET /v2/orders. */
const ORDERS_PAGE = 500;

/** Margin for clock skew between this host and Alpaca's submitted_at. */
const CLOCK_SKEW_MARGIN_MS = 60_000;

/**
 * Every order submitted since `since`, newest first, a page at a time: each next page ends where
 * the last began (the boundary millisecond is read twice, duplicates dropped by id). `requests`
 * counts the calls, for the reconciler's budget.
 */
export async function listOrdersSince(
  broker: Pick<Broker, 'listOrders'>,
  since: Date,
  requests: { count: number } = { count: 0 },
): Promise<BrokerOrder[]> {
  const seen = new Map<string, BrokerOrder>();
  let until: Date | undefined;
  for (;;) {
    requests.count += 1;
    const page = await broker.listOrders({ status: 'all', after: since, until, limit: ORDERS_PAGE });
    let fresh = 0;
    for (const order of page) {
      if (seen.has(order.id)) continue;
      seen.set(order.id, order);
      fresh += 1;
    }
    if (page.length < ORDERS_PAGE || fresh === 0) break;
    const oldest = Math.min(...page.map((o) => (o.submittedAt ?? o.createdAt).getTime()));
    until = new Date(oldest + 1);
  }
  return [...seen.values()];
}

/** When the oldest of these rows was sent (or recorded), less the clock-skew margin; undefined for none. */
export function oldestOrderTime(rows: readonly Trade[]): Date | undefined {
  if (rows.length === 0) return undefined;
  return new Date(Math.min(...rows.map((t) => (t.submittedAt ?? t.createdAt).getTime())) - CLOCK_SKEW_MARGIN_MS);
}

/** The broker's orders back to the oldest of `rows`: one paged list covers them all. */
export function listOrdersCovering(
  broker: Pick<Broker, 'listOrders'>,
  rows: readonly Trade[],
  requests?: { count: number },
): Promise<BrokerOrder[]> {
  return listOrdersSince(broker, oldestOrderTime(rows) ?? new Date(), requests);
}
