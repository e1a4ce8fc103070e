import { initORM } from '../src/db/orm';
import { TradeRepository } from '../src/db/repositories/trade-repository';
import { type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
import { type LaunchedApp, launchApp } from '../test/support/launch';
import { DEFAULT_CHANNEL_ID } from '../test/support/slack-standin';
import { formValues } from '../test/support/trading';
import { duration, ms, percentile, ratio, sleep } from './stats';
import type { BenchRow } from './table';

const BURST_ORDERS = 40;
const STEADY_ORDERS = 20;
const STEADY_GAP_MS = 100;
/** How long Slack stays down after the fills: long enough for every delivery to be in back-off. */
const OUTAGE_MS = 15_000;
const FILL_TO_BOOKS_GOAL_MS = 200;
const SLACK_OUTAGE = ['chat.', 'views.', 'conversations.'];
const BENCH_CASH = '100000000';

function shown(m: { text?: string; blocks?: unknown }): string {
  return `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
}

async function placeOrders(t: LaunchedApp, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const userId = `U0OUT${String(i % 10).padStart(4, '0')}`;
    const command = await t.slack.slashCommand({ command: '/trade', text: '', userId });
    const call = await t.slack.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId, 10_000);
    const viewId = (call.response as { view: { id: string } }).view.id;
    await t.slack.submitView({
      viewId,
      userId,
      values: formValues({ symbol: 'AAPL', side: 'buy', quantity: '1', portfolio: 'Outage bench' }),
    });
    ids.push(`oms-${viewId}`);
  }
  await t.app.outboxDrained(60_000);
  return ids;
}

/**
 * Waits (one light query every 250 ms, so the bench does not compete with the app) until every
 * order is filled in the books.
 */
async function waitFilled(trades: TradeRepository, ids: readonly string[]): Promise<void> {
  const waiting = new Set(ids);
  const deadline = Date.now() + 60_000;
  while (
    Date.now() < deadline &&
    (await trades.listUnsettled()).some((row) => row.clientOrderId && waiting.has(row.clientOrderId))
  )
    await sleep(250);
}

/** Per order: from the stand-in's fill event to the app's fill row (same host clock). */
async function fillLags(t: LaunchedApp, trades: TradeRepository, ids: readonly string[]): Promise<number[]> {
  const sent = new Map(
    t.alpaca
      .tradeUpdates()
      .filter((u) => u.event === 'fill')
      .map((u) => [u.order.client_order_id, Date.parse(u.timestamp)]),
  );
  const lags: number[] = [];
  for (const id of ids) {
    const row = await trades.findByClientOrderId(id);
    const [fill] = row ? await trades.listFillsForTrade(row.id) : [];
    if (!fill || !sent.has(id)) throw new Error(`order ${id} was not filled in the books`);
    lags.push(fill.createdAt.getTime() - sent.get(id)!);
  }
  return lags;
}

async function withApp<T>(
  kind: TestDatabaseKind,
  fillMode: 'immediate' | 'manual',
  marketOpen: boolean,
  run: (t: LaunchedApp, trades: TradeRepository) => Promise<T>,
): Promise<T> {
  const db = await kind.create();
  const orm = await initORM(db.target);
  let t: LaunchedApp | undefined;
  try {
    t = await launchApp({
      database: db.target,
      env: { LOG_LEVEL: 'warn' },
      alpacaOptions: { cash: BENCH_CASH, marketOpen, fillMode },
    });
    return await run(t, new TradeRepository(orm));
  } finally {
    await t?.stop();
    await orm.close(true);
    await db.drop();
  }
}

/**
 * Queued orders all filled at the open, with Slack up or down: the fills wait in line for the
 * database, never for Slack.
 */
async function burstAtOpen(
  kind: TestDatabaseKind,
  slackDown: boolean,
): Promise<{ lags: number[]; catchUpMs?: number }> {
  return withApp(kind, 'immediate', false, async (t, trades) => {
    const ids = await placeOrders(t, BURST_ORDERS);
    if (slackDown) t.slack.startOutage(SLACK_OUTAGE);
    t.alpaca.setMarketOpen(true);
    await waitFilled(trades, ids);
    const lags = await fillLags(t, trades, ids);
    if (!slackDown) return { lags };
    await sleep(OUTAGE_MS);
    const recovered = Date.now();
    t.slack.endOutage();
    const filledShown = () =>
      t.slack
        .messages(DEFAULT_CHANNEL_ID)
        .filter((m) => !m.threadTs && ids.some((id) => shown(m).includes(id)) && /Filled 1 AAPL/.test(shown(m))).length;
    while (filledShown() < ids.length && Date.now() - recovered < 120_000) await sleep(100);
    const catchUpMs = Date.now() - recovered;
    await t.app.outboxDrained(120_000);
    return { lags, catchUpMs };
  });
}

/** Fills arriving one at a time, STEADY_GAP_MS apart, while Slack is down. */
async function steadyFills(kind: TestDatabaseKind): Promise<number[]> {
  return withApp(kind, 'manual', true, async (t, trades) => {
    const ids = await placeOrders(t, STEADY_ORDERS);
    t.slack.startOutage(SLACK_OUTAGE);
    for (const id of ids) {
      t.alpaca.fill(id, '1');
      await sleep(STEADY_GAP_MS);
    }
    await waitFilled(trades, ids);
    return fillLags(t, trades, ids);
  });
}

async function benchOn(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `Slack outage (${kind.name})`;
  const steady = await steadyFills(kind);
  const up = await burstAtOpen(kind, false);
  const down = await burstAtOpen(kind, true);
  const steadyP99 = percentile(steady, 99);
  return [
    {
      bench,
      metric: 'fill event → stored fill p50, fills 100 ms apart',
      value: ms(percentile(steady, 50)),
      note: `${STEADY_ORDERS} orders, every chat/views/conversations call answering 500`,
    },
    {
      bench,
      metric: 'fill event → stored fill p99, fills 100 ms apart',
      value: ms(steadyP99),
      note: `goal ≤ ${FILL_TO_BOOKS_GOAL_MS} ms (${ratio(steadyP99 / FILL_TO_BOOKS_GOAL_MS)} of it)`,
    },
    {
      bench,
      metric: `fill → stored p99, ${BURST_ORDERS} filled at the open`,
      value: ms(percentile(down.lags, 99)),
      note:
        `Slack down; with Slack up ${ms(percentile(up.lags, 99))} ` +
        `(ratio ${ratio(percentile(down.lags, 99) / percentile(up.lags, 99))}): the line is the database, not Slack`,
    },
    {
      bench,
      metric: 'messages caught up after Slack returns',
      value: duration(down.catchUpMs ?? 0),
      note:
        `all ${BURST_ORDERS} confirmations edited to "Filled" after ` +
        `a ${OUTAGE_MS / 1000} s outage (back-off at most 20 s)`,
    },
  ];
}

/** The books during a Slack outage: fills stored at once, messages delivered late but all. */
export async function benchOutage(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of testDatabaseTargets().filter((k) => k.available)) rows.push(...(await benchOn(kind)));
  return rows;
}
