import { performance } from 'node:perf_hooks';
import type { RequiredEntityData } from '@mikro-orm/core';
import { FillEntity, type FillRecord, TradeEntity, type TradeRecord } from '../src/db/entities';
import { initORM, migrateToLatest } from '../src/db/orm';
import type { ReconcileReport, ReconcileResult } from '../src/services/reconcile-service';
import { startAlpacaStandIn } from '../test/support/alpaca-standin';
import { type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
import { type LaunchedApp, launchApp } from '../test/support/launch';
import { median, ms, sleep } from './stats';
import type { BenchRow } from './table';

const FILLS = 100_000;
const SYMBOLS = 500;
const PORTFOLIOS = 20;
/**
 * Orders of the last 24 h (canceled: no fills, nothing left to settle), in the books and at the
 * broker: three pages of GET /v2/orders.
 */
const RECENT_ORDERS = 1_000;
/** SQLite turns a multi-row insert into a compound SELECT, limited to 500 terms. */
const INSERT_BATCH = 400;
const RUNS = 5;
/** The reconciler leaves orders that changed in the last 5 s for a later run; the bench waits them out. */
const QUIET_PERIOD_MS = 5_500;

/** Distinct symbols for the stand-in: RAAA, RAAB, … */
const symbolAt = (i: number) =>
  `R${String.fromCharCode(65 + Math.floor(i / 676), 65 + (Math.floor(i / 26) % 26), 65 + (i % 26))}`;

/** Buys and sells per (portfolio, symbol), about ten per position; returns the signed total per symbol. */
function syntheticFills(
  count: number,
  now: Date,
): { rows: RequiredEntityData<FillRecord>[]; totals: Map<string, number> } {
  const rows: RequiredEntityData<FillRecord>[] = [];
  const totals = new Map<string, number>();
  const start = Date.UTC(2025, 0, 2, 14, 30);
  for (let i = 0; i < count; i++) {
    const key = i % (PORTFOLIOS * SYMBOLS);
    const round = Math.floor(i / (PORTFOLIOS * SYMBOLS));
    const symbol = symbolAt(key % SYMBOLS);
    const sell = round % 4 === 3;
    const qty = sell ? 1 : (round % 5) + 1;
    totals.set(symbol, (totals.get(symbol) ?? 0) + (sell ? -qty : qty));
    rows.push({
      executionId: `rec-${i}`,
      trade: null,
      symbol,
      side: sell ? 'SELL' : 'BUY',
      qty: String(qty),
      price: (50 + (key % 97) + round * 0.25).toFixed(2),
      portfolioName: `Portfolio ${String(Math.floor(key / SYMBOLS)).padStart(2, '0')}`,
      filledAt: new Date(start + i * 1000),
      source: 'broker',
      createdAt: now,
    });
  }
  return { rows, totals };
}

function finished(result: ReconcileResult): ReconcileReport {
  if (result.kind !== 'finished') throw new Error('reconciliation was busy');
  return result.report;
}

async function timedRun(t: LaunchedApp): Promise<{ ms: number; report: ReconcileReport; httpRequests: number }> {
  const before = t.alpaca.requests.length;
  const startedAt = performance.now();
  const report = finished(await t.app.reconcile.reconcilePositions('manual'));
  return { ms: performance.now() - startedAt, report, httpRequests: t.alpaca.requests.length - before };
}

/** The real app against the stand-ins, with the books and the broker in agreement: what every scheduled run costs. */
async function benchOne(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `reconcile (${kind.name})`;
  const db = await kind.create();
  // Closed market: the orders queue and are then canceled, so they fill nothing and positions stay as set.
  const alpaca = await startAlpacaStandIn({ marketOpen: false, cash: '100000000' });
  let t: LaunchedApp | undefined;
  const orm = await initORM(db.target);
  try {
    await migrateToLatest(orm);
    const now = new Date();
    const { rows, totals } = syntheticFills(FILLS, now);
    for (let i = 0; i < rows.length; i += INSERT_BATCH) {
      await orm.em
        .fork()
        .createQueryBuilder(FillEntity)
        .insert(rows.slice(i, i + INSERT_BATCH))
        .execute('run');
    }
    for (const [symbol, qty] of totals) alpaca.setPosition(symbol, String(qty), '75.00');

    const trades: RequiredEntityData<TradeRecord>[] = [];
    for (let i = 0; i < RECENT_ORDERS; i++) {
      const clientOrderId = `oms-VBENCH${String(i).padStart(5, '0')}`;
      const symbol = symbolAt(i % SYMBOLS);
      const placed = alpaca.placeExternalOrder({ symbol, side: 'buy', qty: '1', clientOrderId });
      alpaca.cancel(placed.id);
      const order = alpaca.order(placed.id)!;
      trades.push({
        tradeId: `bench-${i}`,
        clientOrderId,
        alpacaOrderId: order.id,
        alpacaStatus: order.status,
        alpacaFilledQty: '0',
        symbol,
        side: 'BUY',
        quantity: '1',
        portfolioName: 'Portfolio 00',
        userId: 'U0BENCH',
        timestamp: now,
        createdAt: now,
        updatedAt: now,
        submittedAt: now,
        orderType: 'market',
        timeInForce: 'day',
        extendedHours: false,
        status: 'canceled',
        source: 'slack',
      });
    }
    for (let i = 0; i < trades.length; i += INSERT_BATCH) {
      await orm.em
        .fork()
        .createQueryBuilder(TradeEntity)
        .insert(trades.slice(i, i + INSERT_BATCH))
        .execute('run');
    }
    await sleep(QUIET_PERIOD_MS);

    t = await launchApp({ database: db.target, alpaca, env: { LOG_LEVEL: 'info', RECONCILE_CRON: '0 0 1 1 *' } });
    // The run is logged as finished once everything about it is done, alerts included.
    const deadline = Date.now() + 60_000;
    const startupRun = () => t!.logs.entries().find((e) => e.msg === 'reconcile run finished');
    while (!startupRun()) {
      if (Date.now() > deadline) throw new Error('the start-up reconciliation did not finish');
      await sleep(20);
    }
    const startup = startupRun();
    const samples: Awaited<ReturnType<typeof timedRun>>[] = [];
    for (let i = 0; i < RUNS; i++) samples.push(await timedRun(t));
    const last = samples.at(-1)!;
    if (last.report.run.outcome !== 'ok')
      throw new Error(
        `expected agreeing books, got ${last.report.run.outcome} (${last.report.run.openDiscrepancies} open)`,
      );

    // One symbol drifts at the broker: the run reads positions again (after its pause) before reporting.
    const drifted = symbolAt(7);
    alpaca.setPosition(drifted, String((totals.get(drifted) ?? 0) + 3), '75.00');
    const confirming = await timedRun(t);

    const scale =
      `${FILLS.toLocaleString('en-US')} fills, ${SYMBOLS} symbols, ${PORTFOLIOS} portfolios, ` +
      `${RECENT_ORDERS.toLocaleString('en-US')} orders in the last 24 h`;
    return [
      {
        bench,
        metric: 'one run, books agree with Alpaca',
        value: ms(median(samples.map((s) => s.ms))),
        note: `${scale}; median of ${RUNS}; goal ≤ 1,000 ms`,
      },
      {
        bench,
        metric: 'broker requests per run',
        value: String(last.report.run.brokerRequests),
        note:
          `${last.httpRequests} HTTP requests seen by the stand-in: ` +
          'orders in pages of 500 + positions, no per-symbol calls',
      },
      {
        bench,
        metric: 'first run after start-up',
        value: ms(Number(startup?.ms ?? NaN)),
        note: `${String(startup?.broker_requests ?? '?')} broker requests; cold caches`,
      },
      {
        bench,
        metric: 'one run confirming a new discrepancy',
        value: ms(confirming.ms),
        note:
          `${confirming.report.run.brokerRequests} broker requests (positions read twice); ` +
          'includes the 1 s pause before the confirming read',
      },
    ];
  } finally {
    await t?.stop();
    await alpaca.close();
    await orm.close(true);
    await db.drop();
  }
}

/** One reconcile run over 100,000 fills, 500 symbols and 20 portfolios, on SQLite and (when configured) PostgreSQL. */
export async function benchReconcile(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of testDatabaseTargets()) {
    if (!kind.available) {
      rows.push({
        bench: `reconcile (${kind.name})`,
        metric: 'skipped',
        value: '—',
        note: 'set BENCH_DATABASE_URL or TEST_DATABASE_URL to a PostgreSQL server',
      });
      continue;
    }
    rows.push(...(await benchOne(kind)));
  }
  return rows;
}
