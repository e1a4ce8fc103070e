import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { getMetricsFromIterator, type PromHistogramData, type PromMetrics } from 'prom2javascript';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../support/api-client';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_USER_ID } from '../support/slack-standin';
import { placeOrder, waitForConfirmation } from '../support/trading';

const KEY = 'observability-key-0001';

type Labels = Record<string, string>;

/** GET /metrics, parsed by a Prometheus text-format parser (prom2javascript, not our own code). */
async function scrape(baseUrl: string) {
  const res = await fetch(`${baseUrl}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  // NaN is a valid sample value (prom-client writes it for an event-loop statistic with no samples
  // yet) that this parser can't read; such lines are left out, and only such lines.
  const lines = text.split('\n').filter((line) => !/^\w+(\{.*\})? nan$/i.test(line));
  const metrics: PromMetrics = await getMetricsFromIterator(lines[Symbol.iterator]());
  const families = Object.keys(metrics);
  /** A counter's or gauge's value, or a histogram's count, for the given labels (0 before the series exists). */
  const value = (name: string, labels: Labels = {}): number => {
    const data = (metrics[name]?.data ?? []) as (PromHistogramData | { labels: Labels; value: number })[];
    const sample = data.find((m) => Object.entries(labels).every(([k, v]) => m.labels[k] === v));
    if (!sample) return 0;
    return 'count' in sample ? sample.count : sample.value;
  };
  const labelValues = Object.values(metrics).flatMap((m) =>
    (m.data as { labels: Labels }[]).flatMap((d) => Object.values(d.labels)),
  );
  return { text, families, value, labelValues };
}

async function status(url: string): Promise<number> {
  return (await fetch(url)).status;
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`metrics and probes on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let api: ApiClient;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, env: { OMS_API_KEY: KEY, API_FILL_WAIT_MS: '3000' } });
      api = new ApiClient(t.baseUrl, KEY);
    });
    afterAll(async () => {
      await t?.stop();
      await db?.drop();
    });
    afterEach(() => {
      t.alpaca.clearFaults();
    });

    it('counts orders by path and outcome, fills, Alpaca requests, latencies; no symbol or user label', async () => {
      const before = await scrape(t.baseUrl);

      const filled = await api.post('/api/v1/trade', {
        symbol: 'AAPL',
        quantity: 2,
        side: 'BUY',
        portfolio_name: 'Metrics',
        user_id: DEFAULT_USER_ID,
      });
      expect(filled.status).toBe(201);
      t.alpaca.inject({
        method: 'POST',
        path: '/v2/orders',
        status: 403,
        body: { code: 40310000, message: 'insufficient buying power' },
      });
      const refused = await api.post('/api/v1/trade', {
        symbol: 'MSFT',
        quantity: 1,
        side: 'BUY',
        portfolio_name: 'Metrics',
        user_id: DEFAULT_USER_ID,
      });
      expect(refused.status).toBeGreaterThanOrEqual(400);
      const slackOrder = await placeOrder(t, { symbol: 'AAPL', quantity: '1', portfolio: 'Metrics' });
      await waitForConfirmation(t, slackOrder.clientOrderId, (m) => /Filled/.test(JSON.stringify(m.blocks)));

      const after = await scrape(t.baseUrl);
      const moved = (name: string, labels: Labels = {}) => after.value(name, labels) - before.value(name, labels);
      expect(moved('slack_oms_orders_submitted_total', { path: 'api', result: 'acknowledged' })).toBe(1);
      expect(moved('slack_oms_orders_submitted_total', { path: 'api', result: 'rejected' })).toBe(1);
      expect(moved('slack_oms_orders_submitted_total', { path: 'slack', result: 'acknowledged' })).toBe(1);
      expect(moved('slack_oms_orders_finished_total', { path: 'api', status: 'filled' })).toBe(1);
      expect(moved('slack_oms_orders_finished_total', { path: 'api', status: 'rejected' })).toBe(1);
      expect(moved('slack_oms_orders_finished_total', { path: 'slack', status: 'filled' })).toBe(1);
      expect(moved('slack_oms_fills_total', { path: 'api' })).toBe(1);
      expect(moved('slack_oms_fills_total', { path: 'slack' })).toBe(1);
      expect(moved('slack_oms_order_ack_duration_seconds', { path: 'api' })).toBe(2);
      expect(moved('slack_oms_order_ack_duration_seconds', { path: 'slack' })).toBe(1);
      expect(moved('slack_oms_order_broker_duration_seconds', { path: 'api' })).toBe(2);
      expect(after.value('slack_oms_fill_lag_seconds')).toBeGreaterThanOrEqual(1);
      expect(
        moved('slack_oms_alpaca_requests_total', { method: 'POST', route: '/v2/orders', status: '200' }),
      ).toBeGreaterThanOrEqual(2);
      expect(moved('slack_oms_alpaca_requests_total', { method: 'POST', route: '/v2/orders', status: '403' })).toBe(1);
      expect(after.value('slack_oms_leader')).toBe(1);
      expect(after.families).toEqual(
        expect.arrayContaining([
          'process_cpu_user_seconds_total',
          'process_resident_memory_bytes',
          'nodejs_eventloop_lag_seconds',
          'slack_oms_outbox_backlog',
          'slack_oms_reconcile_open_discrepancies',
          'slack_oms_alpaca_pacer_queue_depth',
          'slack_oms_alpaca_request_duration_seconds',
        ]),
      );
      // Low cardinality: no symbol, user, order id or portfolio ever becomes a label value.
      const labelValues = after.labelValues;
      for (const forbidden of ['AAPL', 'MSFT', DEFAULT_USER_ID, 'Metrics', slackOrder.clientOrderId]) {
        expect(labelValues).not.toContain(forbidden);
      }
      expect(labelValues.filter((v) => /[0-9a-f]{8}-[0-9a-f]{4}-/.test(v))).toEqual([]);
    });

    it('serves every metric the sample Grafana dashboard and the deployment docs name', async () => {
      const { families } = await scrape(t.baseUrl);
      const docs =
        (await readFile(new URL('../../docs/grafana-dashboard.json', import.meta.url), 'utf8')) +
        (await readFile(new URL('../../docs/deployment.md', import.meta.url), 'utf8'));
      const named = [...new Set(docs.match(/slack_oms_\w+/g))].map((n) => n.replace(/_bucket$/, ''));
      expect(named.length).toBeGreaterThan(10);
      expect(named.filter((n) => !families.includes(n))).toEqual([]);
    });

    it('counts a reconciliation run by outcome', async () => {
      const before = await scrape(t.baseUrl);
      await t.app.reconcile.reconcilePositions('manual');
      const after = await scrape(t.baseUrl);
      const runs = (s: typeof before) =>
        ['ok', 'discrepancies', 'failed'].reduce(
          (n, outcome) => n + s.value('slack_oms_reconcile_runs_total', { outcome }),
          0,
        );
      expect(runs(after) - runs(before)).toBe(1);
    });

    it('stays live while Alpaca and Slack are both down', async () => {
      t.alpaca.inject({ path: /./, status: 503, body: { message: 'down' }, times: 10_000 });
      t.alpaca.dropStreamConnections();
      t.slack.dropAll();
      await expect.poll(() => status(`${t.baseUrl}/readyz`), { timeout: 5000 }).toBe(503);
      expect(await status(`${t.baseUrl}/livez`)).toBe(200);
      expect((await fetch(`${t.baseUrl}/metrics`)).status).toBe(200);
      t.alpaca.clearFaults();
      await t.slack.waitForConnection(15_000);
      await expect.poll(() => status(`${t.baseUrl}/readyz`), { timeout: 20_000 }).toBe(200);
    });
  });
}

const postgres = testDatabaseTargets().find((k) => k.name === 'postgresql')!;

describe.skipIf(!postgres.available)(`readiness with the database gone, on ${databaseSuiteName(postgres)}`, () => {
  let db: TestDatabase | undefined;
  let t: LaunchedApp | undefined;
  let admin: pg.Client | undefined;
  afterAll(async () => {
    await t?.stop();
    await admin?.end();
    await db?.drop();
  });

  it('/readyz 503 while PostgreSQL refuses the app, 200 once it accepts it; /livez 200 throughout', async () => {
    db = await postgres.create();
    t = await launchApp({ database: db.target });
    // Everything the app says goes through its JSON log, even what the database driver has to say.
    const console_ = vi.spyOn(console, 'log');
    const launched = t;
    await expect.poll(() => status(`${launched.baseUrl}/readyz`), { timeout: 5000 }).toBe(200);
    admin = new pg.Client({ connectionString: process.env.TEST_DATABASE_URL });
    await admin.connect();
    const name = new URL(db.target.url).pathname.slice(1);
    await admin.query(`alter database "${name}" allow_connections false`);
    await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = $1', [name]);

    await expect.poll(() => status(`${launched.baseUrl}/readyz`), { timeout: 10_000 }).toBe(503);
    expect(await status(`${launched.baseUrl}/livez`)).toBe(200);
    // The scrape still answers (process metrics, the rest), without the gauges read from the database.
    const during = await scrape(launched.baseUrl);
    expect(during.families).toContain('process_resident_memory_bytes');

    await admin.query(`alter database "${name}" allow_connections true`);
    await expect.poll(() => status(`${launched.baseUrl}/readyz`), { timeout: 20_000 }).toBe(200);
    expect(await status(`${launched.baseUrl}/livez`)).toBe(200);
    expect(console_).not.toHaveBeenCalled();
    console_.mockRestore();
    expect(launched.logs.text()).toMatch(
      /"component":"database".*Connection Error|Connection Error.*"component":"database"/,
    );
  });
});
