/**
 * The books during a Slack outage, with the app in its own process, started as `npm start` starts
 * it (test/support/app-process.ts), and the Slack and Alpaca stand-ins in the bench's. Orders are
 * placed through the order form; the bench reads the books (fills, outbox) from the same database.
 *
 * Until issue 13 the app ran inside the bench's process; the figures keep their names, now with
 * p50, p99 and max, and the app process's CPU time and RSS.
 */
import { initORM, type Orm } from '../src/db/orm';
import { OutboxRepository } from '../src/db/repositories/outbox-repository';
import { TradeRepository } from '../src/db/repositories/trade-repository';
import { type SpawnedApp, spawnApp } from '../test/support/app-process';
import { type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
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
const RSS_GOAL_MB = 150;
/** The bench reads the books this often while it waits, so it takes little from the app. */
const POLL_MS = 250;

function shown(m: { text?: string; blocks?: unknown }): string {
  return `${m.text ?? ''} ${JSON.stringify(m.blocks ?? [])}`;
}

/** What the bench reads from the app's database: the books and the outbox. */
interface Books {
  trades: TradeRepository;
  outbox: OutboxRepository;
}

/** Every notification delivered (the outbox empty), as the in-process app's outboxDrained() waited. */
async function outboxDrained(books: Books, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await books.outbox.count()) > 0) {
    if (Date.now() > deadline) throw new Error(`the outbox still holds entries after ${timeoutMs} ms`);
    await sleep(POLL_MS);
  }
}

async function placeOrders(t: SpawnedApp, books: Books, count: number): Promise<string[]> {
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
  await outboxDrained(books, 60_000);
  return ids;
}

/** Waits (one light query every POLL_MS, so the bench does not compete with the app) until every order is filled. */
async function waitFilled(trades: TradeRepository, ids: readonly string[]): Promise<void> {
  const waiting = new Set(ids);
  const deadline = Date.now() + 60_000;
  while (
    Date.now() < deadline &&
    (await trades.listUnsettled()).some((row) => row.clientOrderId && waiting.has(row.clientOrderId))
  )
    await sleep(POLL_MS);
}

/** Per order: from the stand-in's fill event to the app's fill row (same host clock). */
async function fillLags(t: SpawnedApp, trades: TradeRepository, ids: readonly string[]): Promise<number[]> {
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
  run: (t: SpawnedApp, books: Books) => Promise<T>,
): Promise<T> {
  const db = await kind.create();
  let orm: Orm | undefined;
  let t: SpawnedApp | undefined;
  try {
    t = await spawnApp({
      database: db.target,
      env: { LOG_LEVEL: 'warn' },
      alpacaOptions: { cash: BENCH_CASH, marketOpen, fillMode },
    });
    // Opened once the app is ready: it has migrated the database by then.
    orm = await initORM(db.target);
    return await run(t, { trades: new TradeRepository(orm), outbox: new OutboxRepository(orm) });
  } finally {
    await t?.stop();
    await orm?.close(true);
    await db.drop();
  }
}

interface Usage {
  /** App CPU time from the market opening until every fill was stored. */
  fillsCpuMs: number;
  /** App CPU time from Slack's return until every message was delivered. */
  catchUpCpuMs?: number;
  rssKb: number;
}

/**
 * Queued orders all filled at the open, with Slack up or down: the fills wait in line for the
 * database, never for Slack.
 */
async function burstAtOpen(
  kind: TestDatabaseKind,
  slackDown: boolean,
): Promise<{ lags: number[]; catchUpMs?: number; usage: Usage }> {
  return withApp(kind, 'immediate', false, async (t, books) => {
    const ids = await placeOrders(t, books, BURST_ORDERS);
    if (slackDown) t.slack.startOutage(SLACK_OUTAGE);
    const beforeFills = await t.usage();
    t.alpaca.setMarketOpen(true);
    await waitFilled(books.trades, ids);
    const afterFills = await t.usage();
    const lags = await fillLags(t, books.trades, ids);
    const fillsCpuMs = afterFills.cpuMs - beforeFills.cpuMs;
    if (!slackDown) return { lags, usage: { fillsCpuMs, rssKb: afterFills.rssKb } };
    await sleep(OUTAGE_MS);
    const beforeCatchUp = await t.usage();
    const recovered = Date.now();
    t.slack.endOutage();
    const filledShown = () =>
      t.slack
        .messages(DEFAULT_CHANNEL_ID)
        .filter((m) => !m.threadTs && ids.some((id) => shown(m).includes(id)) && /Filled 1 AAPL/.test(shown(m))).length;
    while (filledShown() < ids.length && Date.now() - recovered < 120_000) await sleep(100);
    const catchUpMs = Date.now() - recovered;
    await outboxDrained(books, 120_000);
    const drained = await t.usage();
    return {
      lags,
      catchUpMs,
      usage: { fillsCpuMs, catchUpCpuMs: drained.cpuMs - beforeCatchUp.cpuMs, rssKb: drained.rssKb },
    };
  });
}

/** Fills arriving one at a time, STEADY_GAP_MS apart, while Slack is down. */
async function steadyFills(kind: TestDatabaseKind): Promise<number[]> {
  return withApp(kind, 'manual', true, async (t, books) => {
    const ids = await placeOrders(t, books, STEADY_ORDERS);
    t.slack.startOutage(SLACK_OUTAGE);
    for (const id of ids) {
      t.alpaca.fill(id, '1');
      await sleep(STEADY_GAP_MS);
    }
    await waitFilled(books.trades, ids);
    return fillLags(t, books.trades, ids);
  });
}

function mb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

async function benchOn(kind: TestDatabaseKind): Promise<BenchRow[]> {
  const bench = `Slack outage (${kind.name})`;
  const steady = await steadyFills(kind);
  const up = await burstAtOpen(kind, false);
  const down = await burstAtOpen(kind, true);
  const steadyP99 = percentile(steady, 99);
  const downP99 = percentile(down.lags, 99);
  const upP99 = percentile(up.lags, 99);
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
      note:
        `max ${ms(Math.max(...steady))}; ` +
        `goal ≤ ${FILL_TO_BOOKS_GOAL_MS} ms (${ratio(steadyP99 / FILL_TO_BOOKS_GOAL_MS)} of it)`,
    },
    {
      bench,
      metric: `fill → stored p50, ${BURST_ORDERS} filled at the open`,
      value: ms(percentile(down.lags, 50)),
      note: `Slack down; with Slack up ${ms(percentile(up.lags, 50))}`,
    },
    {
      bench,
      metric: `fill → stored p99, ${BURST_ORDERS} filled at the open`,
      value: ms(downP99),
      note:
        `Slack down, max ${ms(Math.max(...down.lags))}; with Slack up ${ms(upP99)} ` +
        `(ratio ${ratio(downP99 / upP99)}): the line is the database, not Slack`,
    },
    {
      bench,
      metric: 'messages caught up after Slack returns',
      value: duration(down.catchUpMs ?? 0),
      note:
        `all ${BURST_ORDERS} confirmations edited to "Filled" after ` +
        `a ${OUTAGE_MS / 1000} s outage (back-off at most 20 s)`,
    },
    {
      bench,
      metric: `app CPU, ${BURST_ORDERS} fills at the open`,
      value: ms(down.usage.fillsCpuMs),
      note:
        `Slack down, market open → every fill stored; with Slack up ${ms(up.usage.fillsCpuMs)}; ` +
        `catching up after Slack returns ${ms(down.usage.catchUpCpuMs ?? 0)}`,
    },
    {
      bench,
      metric: 'app RSS after the catch-up',
      value: mb(down.usage.rssKb),
      note: `goal ≤ ${RSS_GOAL_MB} MB; with Slack up ${mb(up.usage.rssKb)} once the fills were stored`,
    },
  ];
}

/** The books during a Slack outage: fills stored at once, messages delivered late but all. */
export async function benchOutage(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of testDatabaseTargets().filter((k) => k.available)) rows.push(...(await benchOn(kind)));
  return rows;
}
