import { launchApp, type LaunchedApp } from '../test/support/launch';
import { testDatabaseTargets, type TestDatabaseKind } from '../test/support/databases';
import { formValues } from '../test/support/trading';
import { DEFAULT_CHANNEL_ID } from '../test/support/slack-standin';
import { initORM } from '../src/db/orm';
import { TradeRepository } from '../src/db/repositories/trade-repository';
import type { BenchRow } from './table';
import { duration, ms, percentile, ratio, sleep } from './stats';

const ORDERS = 40;
/** How long Slack stays down after the fills: long enough for every delivery to be in back-off. */
const OUTAGE_MS = 15_000;
const FILL_TO_BOOKS_GOAL_MS = 200;
const SLACK_OUTAGE = ['chat.', 'views.', 'conversations.'];
const BENCH_CASH = '100000000';

function shown(m: { text?: string; blocks?: unknown }): string {
  return `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
}

async function placeQueuedOrders(t: LaunchedApp): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < ORDERS; i += 1) {
    const userId = `U0OUT${String(i % 10).padStart(4, '0')}`;
    const command = await t.slack.slashCommand({ command: '/trade', text: '', userId });
    const call = await t.slack.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId, 10_000);
    const viewId = (call.response as { view: { id: string } }).view.id;
    await t.slack.submitView({ viewId, userId, values: formValues({ symbol: 'AAPL', side: 'buy', quantity: '1', portfolio: 'Outage bench' }) });
    ids.push(`oms-${viewId}`);
  }
  return ids;
}

async function benchOn(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `Slack outage (${kind.name})`;
  const db = await kind.create();
  let t: LaunchedApp | undefined;
  const orm = await initORM(db.target);
  try {
    t = await launchApp({ database: db.target, env: { LOG_LEVEL: 'warn' }, alpacaOptions: { cash: BENCH_CASH, marketOpen: false } });
    const trades = new TradeRepository(orm);
    const ids = await placeQueuedOrders(t);
    await t.app.outboxDrained(60_000);

    t.slack.startOutage(SLACK_OUTAGE);
    t.alpaca.setMarketOpen(true);
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && (await Promise.all(ids.map((id) => trades.findByClientOrderId(id)))).some((row) => row?.status !== 'filled')) await sleep(50);
    // Fill event (the stand-in's timestamp) to the fill row committed (its created_at): same host clock.
    const sent = new Map(t.alpaca.tradeUpdates().filter((u) => u.event === 'fill').map((u) => [u.order.client_order_id, Date.parse(u.timestamp)]));
    const lags: number[] = [];
    for (const id of ids) {
      const row = await trades.findByClientOrderId(id);
      const [fill] = row ? await trades.listFillsForTrade(row.id) : [];
      if (!fill || !sent.has(id)) throw new Error(`order ${id} was not filled in the books during the outage`);
      lags.push(fill.createdAt.getTime() - sent.get(id)!);
    }

    await sleep(OUTAGE_MS);
    const recovered = Date.now();
    t.slack.endOutage();
    const filledShown = () => t!.slack.messages(DEFAULT_CHANNEL_ID).filter((m) => !m.threadTs && ids.some((id) => shown(m).includes(id)) && /Filled 1 AAPL/.test(shown(m))).length;
    while (filledShown() < ids.length && Date.now() - recovered < 120_000) await sleep(100);
    const catchUpMs = Date.now() - recovered;
    await t.app.outboxDrained(120_000);
    const p99 = percentile(lags, 99);
    return [
      { bench, metric: 'fill event → stored fill p50', value: ms(percentile(lags, 50)), note: `${ORDERS} queued orders filled at the open while every chat/views call answers 500` },
      { bench, metric: 'fill event → stored fill p99', value: ms(p99), note: `goal ≤ ${FILL_TO_BOOKS_GOAL_MS} ms (${ratio(p99 / FILL_TO_BOOKS_GOAL_MS)} of it)` },
      { bench, metric: 'messages caught up after Slack returns', value: duration(catchUpMs), note: `all ${ORDERS} confirmations edited to "Filled" after a ${OUTAGE_MS / 1000} s outage (back-off at most 20 s)` },
    ];
  } finally {
    await t?.stop();
    await orm.close(true);
    await db.drop();
  }
}

/** The books during a Slack outage: fills stored at once, messages delivered late but all. */
export async function benchOutage(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of testDatabaseTargets().filter((k) => k.available)) rows.push(...(await benchOn(kind)));
  return rows;
}
