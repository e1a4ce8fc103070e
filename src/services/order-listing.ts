import type { Broker, BrokerOrder } from '../broker/broker';

/** Alpaca's largest page of GET /v2/orders. */
const ORDERS_PAGE = 500;

/**
 * Every order submitted since `since`, newest first, a page at a time: each next page ends where
 * the last began (the boundary millisecond is read twice, duplicates dropped by id). `requests`
 * counts the calls, for the reconciler's budget.
 */
export async function listOrdersSince(broker: Broker, since: Date, requests: { count: number } = { count: 0 }): Promise<BrokerOrder[]> {
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
