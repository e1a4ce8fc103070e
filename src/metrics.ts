import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { TradeStatus } from './domain/order';
import { isTerminal } from './domain/order';
import type { ReconcileOutcome } from './domain/reconciliation';
import type { Trade } from './domain/trade';

/**
 * Prometheus metrics, served at GET /metrics. Names follow Prometheus conventions (base units,
 * `_total` counters); labels stay low-cardinality: never a symbol, a user or an order id.
 */

/** Latency buckets (seconds) from a cached-form ack to a slow broker. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * How an order reached us: Slack, the HTTP API, ledger-only mode (which records either front door's
 * orders as ledger trades), or anything else (adopted by reconciliation, the earlier OMS).
 */
export type OrderPath = 'slack' | 'api' | 'ledger' | 'other';

export function orderPathOf(trade: Pick<Trade, 'source'>): OrderPath {
  return trade.source === 'slack' || trade.source === 'api' || trade.source === 'ledger' ? trade.source : 'other';
}

/** What became of a submission once it left our hands. */
function submissionResult(trade: Trade): string {
  if (trade.source === 'ledger' || (trade.status === 'filled' && !trade.alpacaOrderId)) return 'recorded';
  if (trade.alpacaOrderId) return 'acknowledged';
  if (trade.status === 'rejected') return 'rejected';
  if (trade.status === 'failed') return 'not_placed';
  return 'unconfirmed';
}

/** Values read at scrape time from whoever owns them (the outbox, the reconciler, the leader lock). */
export interface MetricSources {
  outboxBacklog(): Promise<number>;
  openDiscrepancies(): Promise<number>;
  isLeader(): boolean;
}

export class Metrics {
  readonly registry = new Registry();

  private readonly ordersSubmitted = new Counter({
    name: 'slack_oms_orders_submitted_total',
    help: 'Orders handed to the broker, by path and result (acknowledged, rejected, not_placed, unconfirmed, recorded)',
    labelNames: ['path', 'result'] as const,
    registers: [this.registry],
  });
  private readonly ordersFinished = new Counter({
    name: 'slack_oms_orders_finished_total',
    help: 'Orders that reached a final status in the books, by path and status',
    labelNames: ['path', 'status'] as const,
    registers: [this.registry],
  });
  private readonly fills = new Counter({
    name: 'slack_oms_fills_total',
    help: 'Executions stored in the books, by path',
    labelNames: ['path'] as const,
    registers: [this.registry],
  });
  private readonly orderAck = new Histogram({
    name: 'slack_oms_order_ack_duration_seconds',
    help: 'From an order form submission (Slack) or POST /api/v1/trade to our answer',
    labelNames: ['path'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly brokerAck = new Histogram({
    name: 'slack_oms_order_broker_duration_seconds',
    help: 'From taking an order to send to the broker acknowledging or refusing it, retries included',
    labelNames: ['path'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly fillLag = new Histogram({
    name: 'slack_oms_fill_lag_seconds',
    help: "From Alpaca's trade_updates event time to the fill stored in the books",
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly alpacaRequests = new Counter({
    name: 'slack_oms_alpaca_requests_total',
    help: 'HTTP requests to Alpaca (each attempt), by method, route template and status (network_error: no answer)',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly alpacaDuration = new Histogram({
    name: 'slack_oms_alpaca_request_duration_seconds',
    help: 'Duration of each HTTP request to Alpaca, by method and route template',
    labelNames: ['method', 'route'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly alpacaRetries = new Counter({
    name: 'slack_oms_alpaca_retries_total',
    help: "Retries of Alpaca requests: the SDK's (reads) and ours (order submissions after a 429 or no answer)",
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });
  private readonly outboxFailures = new Counter({
    name: 'slack_oms_outbox_delivery_failures_total',
    help: 'Failed Slack deliveries from the outbox, by topic and outcome (retry, gave_up)',
    labelNames: ['topic', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly reconcileRuns = new Counter({
    name: 'slack_oms_reconcile_runs_total',
    help: 'Reconciliation runs, by outcome (ok, discrepancies, failed; busy: another instance was running one)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The text exposition format, and its content type. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  orderSubmitted(trade: Trade, seconds: number): void {
    const path = orderPathOf(trade);
    const result = submissionResult(trade);
    this.ordersSubmitted.inc({ path, result });
    this.brokerAck.observe({ path }, seconds);
    // Anything Alpaca acknowledged is followed by the order tracker; the rest ended here.
    if (result === 'recorded') this.fills.inc({ path });
    if (!trade.alpacaOrderId && isTerminal(trade.status)) this.ordersFinished.inc({ path, status: trade.status });
  }

  /** A final status written outside the tracker and the submitter (an unsent row given up at start-up). */
  orderFinished(trade: Trade): void {
    if (isTerminal(trade.status)) this.ordersFinished.inc({ path: orderPathOf(trade), status: trade.status });
  }

  /** An order snapshot applied to the books: counts new fills, and a status that just became final. */
  orderApplied(trade: Trade, before: TradeStatus | undefined, newFills: number): void {
    const path = orderPathOf(trade);
    if (newFills > 0) this.fills.inc({ path }, newFills);
    if (trade.status !== before && isTerminal(trade.status)) this.ordersFinished.inc({ path, status: trade.status });
  }

  orderAcknowledged(path: OrderPath, seconds: number): void {
    this.orderAck.observe({ path }, seconds);
  }

  fillStored(eventAt: Date, storedAt: Date): void {
    this.fillLag.observe(Math.max(0, (storedAt.getTime() - eventAt.getTime()) / 1000));
  }

  alpacaRequest(method: string, url: string, status: number | undefined, seconds: number): void {
    const route = routeOf(url);
    this.alpacaRequests.inc({ method, route, status: status === undefined ? 'network_error' : String(status) });
    this.alpacaDuration.observe({ method, route }, seconds);
  }

  alpacaRetry(method: string, url: string): void {
    this.alpacaRetries.inc({ method, route: routeOf(url) });
  }

  deliveryFailed(topic: string, gaveUp: boolean): void {
    this.outboxFailures.inc({ topic, outcome: gaveUp ? 'gave_up' : 'retry' });
  }

  reconcileRun(outcome: ReconcileOutcome | 'busy'): void {
    this.reconcileRuns.inc({ outcome });
  }

  /** Gauges read at each scrape from their owners, which exist only once the app is wired. */
  observe(sources: MetricSources): void {
    new Gauge({
      name: 'slack_oms_outbox_backlog',
      help: 'Notifications written for Slack and not delivered yet',
      registers: [this.registry],
      async collect() {
        // A scrape must answer while the database is away (process metrics, /readyz says why): no value then.
        const backlog = await sources.outboxBacklog().catch(() => undefined);
        if (backlog === undefined) this.reset();
        else this.set(backlog);
      },
    });
    new Gauge({
      name: 'slack_oms_reconcile_open_discrepancies',
      help: 'Differences between the books and Alpaca found by reconciliation and not resolved',
      registers: [this.registry],
      async collect() {
        const open = await sources.openDiscrepancies().catch(() => undefined);
        if (open === undefined) this.reset();
        else this.set(open);
      },
    });
    new Gauge({
      name: 'slack_oms_leader',
      help: '1 while this instance is the leader (runs the trade_updates stream and the schedule), else 0',
      registers: [this.registry],
      collect() {
        this.set(sources.isLeader() ? 1 : 0);
      },
    });
  }

  /** Requests waiting for Alpaca's per-minute budget, by host and lane, read at each scrape. */
  watchPacerQueue(read: () => { host: string; lane: string; depth: number }[]): void {
    new Gauge({
      name: 'slack_oms_alpaca_pacer_queue_depth',
      help: "Requests waiting for Alpaca's per-minute budget, by host and lane",
      labelNames: ['host', 'lane'] as const,
      registers: [this.registry],
      collect() {
        for (const { host, lane, depth } of read()) this.set({ host, lane }, depth);
      },
    });
  }
}

/**
 * A URL's path as a route template: `/v2/orders/61e69015-…` → `/v2/orders/{id}`,
 * `/v2/assets/AAPL` → `/v2/assets/{id}`, so no order id or symbol becomes a label value.
 */
export function routeOf(url: string): string {
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    path = url.split('?')[0] ?? url;
  }
  return path
    .split('/')
    .map((segment) =>
      segment === '' || /^v\d+(beta\d+)?$/.test(segment) || /^[a-z_:]+$/.test(segment) ? segment : '{id}',
    )
    .join('/');
}
