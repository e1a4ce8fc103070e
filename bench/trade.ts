/**
 * The trade benches: acks one after another, 60 submissions at once, the 300-order burst.
 * TRADE_BENCH_PARTS picks some of them (comma-separated: acks, concurrent, burst), e.g.
 * `TRADE_BENCH_PARTS=concurrent npm run bench -- trade` runs only the 60-at-once part.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureBuilt } from '../scripts/build.mjs';
import { initORM, type Orm } from '../src/db/orm';
import { TradeRepository } from '../src/db/repositories/trade-repository';
import { clientOrderIdForView, isTerminal } from '../src/domain/order';
import type { Trade } from '../src/domain/trade';
import type { StandInRequest } from '../test/support/alpaca-standin';
import { type SpawnedApp, spawnApp } from '../test/support/app-process';
import { type TestDatabase, type TestDatabaseKind, testDatabaseTargets } from '../test/support/databases';
import { formValues } from '../test/support/trading';
import { duration, ms, percentile, ratio, sleep } from './stats';
import type { BenchRow } from './table';

/** Slack shows the user an error when an envelope is not acked within 3 s. */
const SLACK_ACK_LIMIT_MS = 3_000;
const BROKER_LATENCY_MS = 1_000;
const ACK_SAMPLES = 50;
const SLOW_ACK_MS = 500;
/** Alpaca's documented per-key limit, which the stand-in enforces in fixed one-minute windows. */
const ALPACA_REQUESTS_PER_MINUTE = 200;
const BURST_USERS = 30;
const BURST_ORDERS_PER_USER = 10;
/** Forms are opened a few at a time so every views.open lands inside its trigger's 3 s. */
const FORM_OPEN_CONCURRENCY = 10;
const FORM_OPEN_TIMEOUT_MS = 10_000;
const BURST_WAIT_MS = 150_000;
const BOOKS_POLL_MS = 200;
/** How long the burst's app is left idle before its memory is read again. */
const SETTLE_MS = 20_000;
/** Enough that buying power never refuses a bench order. */
const BENCH_CASH = '100000000';
const QUIET_APP = { LOG_LEVEL: 'warn' };
const ONE_SHARE_OF_AAPL = formValues({ symbol: 'AAPL', side: 'buy', quantity: '1' });

interface OpenedForm {
  viewId: string;
  userId: string;
  commandAckMs: number;
  /** From the command reaching the app to views.open reaching Slack (the trigger_id lives 3 s). */
  openMs: number;
}

async function openOrderForm(t: SpawnedApp, text: string, userId: string): Promise<OpenedForm> {
  const command = await t.slack.slashCommand({ command: '/trade', text, userId });
  const call = await t.slack.waitForCall(
    'views.open',
    (c) => c.args.trigger_id === command.triggerId,
    FORM_OPEN_TIMEOUT_MS,
  );
  const response = call.response as { ok: boolean; error?: string; view?: { id: string } };
  if (!response.ok || !response.view)
    throw new Error(`views.open failed for /trade ${text} (${response.error ?? 'no view'})`);
  const sentAt = t.slack.envelopes.find((e) => e.envelopeId === command.envelopeId)!.sentAt;
  return { viewId: response.view.id, userId, commandAckMs: command.ackMs, openMs: call.at - sentAt };
}

async function openOrderForms(t: SpawnedApp, userIds: readonly string[]): Promise<OpenedForm[]> {
  const forms: OpenedForm[] = [];
  for (let i = 0; i < userIds.length; i += FORM_OPEN_CONCURRENCY) {
    forms.push(...(await Promise.all(userIds.slice(i, i + FORM_OPEN_CONCURRENCY).map((u) => openOrderForm(t, '', u)))));
  }
  return forms;
}

async function waitUntil(predicate: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await predicate()) return true;
    await sleep(BOOKS_POLL_MS);
  }
  return predicate();
}

function ackRows(bench: string, what: string, acksMs: number[], note: string): BenchRow[] {
  const p50 = percentile(acksMs, 50);
  const p99 = percentile(acksMs, 99);
  return [
    {
      bench,
      metric: `${what} p50`,
      value: ms(p50),
      note: `${ratio(p50 / SLACK_ACK_LIMIT_MS)} of Slack's 3,000 ms limit; ${note}`,
    },
    {
      bench,
      metric: `${what} p99`,
      value: ms(p99),
      note: `${ratio(p99 / SLACK_ACK_LIMIT_MS)} of Slack's 3,000 ms limit`,
    },
  ];
}

/** Acks of `/trade buy 1 AAPL` and of order submissions while every Alpaca request takes 1 s. */
async function benchAckTimes(): Promise<BenchRow[]> {
  const bench = 'trade acks (broker 1 s)';
  const db = await testDatabaseTargets()[0]!.create();
  let t: SpawnedApp | undefined;
  try {
    t = await spawnApp({ database: db.target, env: QUIET_APP, alpacaOptions: { cash: BENCH_CASH } });
    t.alpaca.setLatency(BROKER_LATENCY_MS);

    const commands: OpenedForm[] = [];
    for (let i = 0; i < ACK_SAMPLES; i += 1) commands.push(await openOrderForm(t, 'buy 1 AAPL', 'U0BENCHACK'));

    const submissionAcks: number[] = [];
    const submissionWindows: { from: number; to: number }[] = [];
    const submittedViews: string[] = [];
    let refused = 0;
    for (let i = 0; i < ACK_SAMPLES; i += 1) {
      const form = await openOrderForm(t, '', 'U0BENCHACK');
      const ack = await t.slack.submitView({ viewId: form.viewId, userId: form.userId, values: ONE_SHARE_OF_AAPL });
      submissionAcks.push(ack.ackMs);
      submissionWindows.push({ from: Date.now() - ack.ackMs, to: Date.now() });
      if (ack.ackPayload === undefined) submittedViews.push(form.viewId);
      else refused += 1;
    }
    const wanted = new Set(submittedViews.map(clientOrderIdForView));
    const placed = () => t!.alpaca.orders().filter((o) => wanted.has(o.client_order_id)).length;
    await waitUntil(() => placed() >= wanted.size, 30_000);

    const opens = commands.map((c) => c.openMs);
    // A slow ack is explained when a quote request (the cache holds quotes 15 s) was in flight while it waited.
    const slow = submissionWindows.filter((w) => w.to - w.from > SLOW_ACK_MS);
    const quoteInFlight = (w: { from: number; to: number }) =>
      t!.alpaca.requests.some(
        (r) => r.path === '/v2/stocks/snapshots' && r.at > w.from - BROKER_LATENCY_MS && r.at < w.to,
      );
    const slowOnQuote = slow.filter(quoteInFlight).length;
    return [
      ...ackRows(
        bench,
        '/trade buy 1 AAPL ack',
        commands.map((c) => c.commandAckMs),
        `${ACK_SAMPLES} commands, one after another`,
      ),
      {
        bench,
        metric: 'order form open p99',
        value: ms(percentile(opens, 99)),
        note:
          `command sent → views.open; ${ratio(percentile(opens, 99) / SLACK_ACK_LIMIT_MS)} of ` +
          'the 3 s trigger_id life',
      },
      ...ackRows(
        bench,
        'order submission ack',
        submissionAcks,
        `${ACK_SAMPLES} submissions: ${refused} refused, ${placed()}/${wanted.size} placed at the broker`,
      ),
      {
        bench,
        metric: `submission acks > ${SLOW_ACK_MS} ms`,
        value: String(slow.length),
        note: `${slowOnQuote} of them waited on a 1 s quote request already in flight (quotes are cached 15 s)`,
      },
    ];
  } finally {
    await t?.stop();
    await db.drop();
  }
}

const CONCURRENT_TRADERS = 20;
const CONCURRENT_FORMS_PER_TRADER = 3;
const CONCURRENT_ACK_GOAL_MS = 100;

/**
 * 60 order forms from 20 traders submitted at once, the app in its own process: the ack latency
 * Slack sees (stand-in clock, send → ack frame) and what the app process spent doing it.
 */
/**
 * 60 at once, twice: on the first start after a build, with no code cache yet (everything compiles
 * as it first runs), then on a restart, whose code cache the first run wrote at exit with the order
 * path in it.
 */
async function benchConcurrentAcksCachedOrNot(kind: TestDatabaseKind): Promise<BenchRow[]> {
  await rm(join(await ensureBuilt(), 'main.cjs.v8-cache'), { force: true });
  return [
    ...(await benchConcurrentAcks(kind, 'first start after a build, no code cache')),
    ...(await benchConcurrentAcks(kind, 'restart, code cache from that first run')),
  ];
}

async function benchConcurrentAcks(kind: TestDatabaseKind, start: string): Promise<BenchRow[]> {
  const bench = `60 submissions at once (${kind.name}; ${start})`;
  const db = await kind.create();
  let t: SpawnedApp | undefined;
  try {
    t = await spawnApp({ database: db.target, env: QUIET_APP, alpacaOptions: { cash: BENCH_CASH } });
    const users = Array.from({ length: CONCURRENT_TRADERS }, (_, i) => `U0CONC${String(i).padStart(2, '0')}`);
    const forms = await openOrderForms(
      t,
      users.flatMap((u) => Array<string>(CONCURRENT_FORMS_PER_TRADER).fill(u)),
    );
    const before = await t.usage();
    const acks = await Promise.all(
      forms.map((f) => t!.slack.submitView({ viewId: f.viewId, userId: f.userId, values: ONE_SHARE_OF_AAPL })),
    );
    const wanted = new Set(forms.map((f) => clientOrderIdForView(f.viewId)));
    const placed = () => t!.alpaca.orders().filter((o) => wanted.has(o.client_order_id)).length;
    await waitUntil(() => placed() >= wanted.size, 30_000);
    const after = await t.usage();
    const times = acks.map((a) => a.ackMs);
    const refused = acks.filter((a) => a.ackPayload !== undefined).length;
    return [
      {
        bench,
        metric: 'submission ack p50',
        value: ms(percentile(times, 50)),
        note:
          `${CONCURRENT_TRADERS} traders × ${CONCURRENT_FORMS_PER_TRADER}; ` +
          `${refused} refused, ${placed()}/${wanted.size} placed`,
      },
      {
        bench,
        metric: 'submission ack p99',
        value: ms(percentile(times, 99)),
        note: `max ${ms(Math.max(...times))}; goal p99 ≤ ${CONCURRENT_ACK_GOAL_MS} ms`,
      },
      {
        bench,
        metric: 'app CPU for the 60 (acks and placing)',
        value: ms(after.cpuMs - before.cpuMs),
        note: `user + system time of the app process; RSS ${(after.rssKb / 1024).toFixed(1)} MB after`,
      },
    ];
  } finally {
    await t?.stop();
    await db.drop();
  }
}

interface BookState {
  rows: Map<string, Trade>;
  unsettled: number;
}

/**
 * One read of the books for the burst's client order ids. Open rows come from one query; a row is
 * read on its own only until it is first seen and once more when it leaves the open set.
 */
async function readBooks(
  trades: TradeRepository,
  clientOrderIds: readonly string[],
  rows: Map<string, Trade>,
): Promise<BookState> {
  const wanted = new Set(clientOrderIds);
  const open = new Map(
    (await trades.listUnsettled())
      .filter((r) => r.clientOrderId !== null && wanted.has(r.clientOrderId))
      .map((r) => [r.clientOrderId!, r]),
  );
  for (const id of clientOrderIds) {
    const openRow = open.get(id);
    if (openRow) {
      rows.set(id, openRow);
      continue;
    }
    const known = rows.get(id);
    if (known && isTerminal(known.status)) continue;
    const row = await trades.findByClientOrderId(id);
    if (row) rows.set(id, row);
  }
  return { rows, unsettled: open.size };
}

function describeRequests(requests: readonly StandInRequest[]): string {
  const counts = new Map<string, number>();
  for (const r of requests) {
    const path = r.path
      .replace(/\/v2\/orders:by_client_order_id.*/, '/v2/orders:by_client_order_id')
      .replace(/\/v2\/orders\/[^/]+$/, '/v2/orders/{id}');
    const key = `${r.method} ${r.api === 'data' ? 'data' : ''}${path}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].map(([key, n]) => `${n} ${key}`).join(', ') || 'none';
}

/** TradeService logs each failed placement attempt it retries, with the broker error's kind. */
function countRetries(t: SpawnedApp): { total: number; byKind: string } {
  const kinds = new Map<string, number>();
  for (const entry of t.logs.entries()) {
    if (entry.msg !== 'order submission not confirmed; retrying') continue;
    const kind = String(entry.kind);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  return {
    total: [...kinds.values()].reduce((a, b) => a + b, 0),
    byKind: [...kinds].map(([k, n]) => `${n} ${k}`).join(', '),
  };
}

interface BurstSchedule {
  overlapsPrevious: boolean;
  /** Called once the burst is only waiting on the rate limit (and, at the latest, when it ends). */
  reachedTail: () => void;
}

async function benchBurst(kind: TestDatabaseKind, burst: BurstSchedule): Promise<BenchRow[]> {
  try {
    return await measureBurst(kind, burst);
  } finally {
    burst.reachedTail();
  }
}

/**
 * 300 submissions from 30 users fired at once at a broker holding Alpaca's 200/min limit:
 * exactly-once (duplicates, lost orders), 429s, and how close the wall time comes to the floor
 * the rate limit sets for the requests made.
 */
async function measureBurst(kind: TestDatabaseKind, burst: BurstSchedule): Promise<BenchRow[]> {
  const bench = `burst 300 orders (${kind.name})`;
  let caughtUpPolls = 0;
  const db: TestDatabase = await kind.create();
  let t: SpawnedApp | undefined;
  let orm: Orm | undefined;
  try {
    t = await spawnApp({
      database: db.target,
      env: QUIET_APP,
      alpacaOptions: { rateLimitPerMinute: ALPACA_REQUESTS_PER_MINUTE, cash: BENCH_CASH },
    });
    t.alpaca.setLatency(0);
    orm = await initORM(db.target);
    const trades = new TradeRepository(orm);

    const users = Array.from({ length: BURST_USERS }, (_, i) => `U0BENCH${String(i).padStart(2, '0')}`);
    const forms = await openOrderForms(
      t,
      users.flatMap((u) => Array<string>(BURST_ORDERS_PER_USER).fill(u)),
    );
    const clientOrderIds = forms.map((f) => clientOrderIdForView(f.viewId));

    const firstSubmitAt = Date.now();
    const acks = await Promise.allSettled(
      forms.map((f) => t!.slack.submitView({ viewId: f.viewId, userId: f.userId, values: ONE_SHARE_OF_AAPL })),
    );
    const submissionEnvelopes = t.slack.envelopes.filter(
      (e) => e.sentAt >= firstSubmitAt && e.payload.type === 'view_submission',
    );
    // Late acks still arrive after the stand-in gave up at 3 s; the books are read once they are in.
    await waitUntil(() => submissionEnvelopes.every((e) => e.ackMs !== undefined), 30_000);
    const rows = new Map<string, Trade>();
    let lastTerminalAt: number | undefined;
    await waitUntil(async () => {
      const books = await readBooks(trades, clientOrderIds, rows);
      const terminal = [...books.rows.values()].filter((r) => isTerminal(r.status)).length;
      const done =
        books.rows.size === clientOrderIds.length && books.unsettled === 0 && terminal === clientOrderIds.length;
      if (done) lastTerminalAt = Date.now();
      // The books have caught up with everything the broker took: what is left is paced by the rate limit.
      caughtUpPolls = terminal >= t!.alpaca.orders().length ? caughtUpPolls + 1 : 0;
      if (caughtUpPolls >= 2) burst.reachedTail();
      return done;
    }, BURST_WAIT_MS);
    const books = await readBooks(trades, clientOrderIds, rows);

    const ackTimes = submissionEnvelopes.filter((e) => e.ackMs !== undefined).map((e) => e.ackMs!);
    const lateAcks = submissionEnvelopes.filter((e) => e.outcome !== 'acked').length;
    const refusedInAck = acks.filter((a) => a.status === 'fulfilled' && a.value.ackPayload !== undefined).length;

    const brokerOrders = t.alpaca.orders();
    const ordersPerView = new Map(clientOrderIds.map((id) => [id, 0]));
    let strays = 0;
    for (const order of brokerOrders) {
      const seen = ordersPerView.get(order.client_order_id);
      if (seen === undefined) strays += 1;
      else ordersPerView.set(order.client_order_id, seen + 1);
    }
    const placed = [...ordersPerView.values()].filter((n) => n > 0).length;
    const duplicates = [...ordersPerView.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    const noRow = clientOrderIds.filter((id) => !books.rows.has(id));
    const noBrokerOrder = clientOrderIds.filter((id) => books.rows.has(id) && ordersPerView.get(id) === 0);
    const statusCounts = new Map<string, number>();
    for (const id of noBrokerOrder) {
      const row = books.rows.get(id)!;
      const key = `${row.status}${row.errorCode ? `/${row.errorCode}` : ''}`;
      statusCounts.set(key, (statusCounts.get(key) ?? 0) + 1);
    }
    const notPlaced = [...statusCounts].map(([k, n]) => `${n} ${k}`).join(', ');
    const booksDisagree = clientOrderIds.filter((id) => {
      const row = books.rows.get(id);
      return row !== undefined && ordersPerView.get(id)! > 0 && row.status !== 'filled';
    }).length;

    const usage = await t.usage();
    // V8 gives memory back once allocation stops (its memory reducer runs after some seconds idle).
    await sleep(SETTLE_MS);
    const settled = await t.usage();
    const burstRequests = t.alpaca.requests.filter((r) => r.at >= firstSubmitAt);
    const tradingRequests = burstRequests.filter((r) => r.api === 'trading');
    const rateLimited = burstRequests.filter((r) => r.status === 429);
    const acceptedTrading = tradingRequests.filter((r) => r.status !== 429);
    // With at most 200 requests in any minute, request n+200 comes at least 60 s after request n.
    const floorMs = Math.floor(Math.max(0, acceptedTrading.length - 1) / ALPACA_REQUESTS_PER_MINUTE) * 60_000;
    const retries = countRetries(t);
    const postsPerOrder = new Map<string, number>();
    for (const r of tradingRequests) {
      const id =
        r.method === 'POST' && r.path === '/v2/orders'
          ? (r.body as { client_order_id?: string } | undefined)?.client_order_id
          : undefined;
      if (id) postsPerOrder.set(id, (postsPerOrder.get(id) ?? 0) + 1);
    }
    const mostPosts = Math.max(0, ...postsPerOrder.values());
    const wallMs = lastTerminalAt === undefined ? undefined : lastTerminalAt - firstSubmitAt;

    return [
      {
        bench,
        metric: 'orders placed at the broker',
        value: String(placed),
        note:
          `of ${clientOrderIds.length} submitted ` +
          `views${strays > 0 ? `; ${strays} broker orders match no view` : ''}`,
      },
      {
        bench,
        metric: 'duplicates',
        value: String(duplicates),
        note: 'extra broker orders for one view / client_order_id',
      },
      {
        bench,
        metric: 'lost',
        value: String(noRow.length + noBrokerOrder.length),
        note:
          noRow.length + noBrokerOrder.length === 0
            ? 'every view has a row and a broker order'
            : `${noRow.length} without a trade row; without a broker order: ${notPlaced || 'none'}`,
      },
      {
        bench,
        metric: 'books ≠ broker after wait',
        value: String(booksDisagree),
        note: 'placed orders whose row is not filled (every order fills at once)',
      },
      {
        bench,
        metric: 'broker 429s',
        value: String(rateLimited.length),
        note: rateLimited.length > 0 ? describeRequests(rateLimited) : 'none',
      },
      ...ackRows(
        bench,
        'submission ack (all at once)',
        ackTimes,
        `${lateAcks} acks missed 3 s, ${refusedInAck} refused with field ` +
          `errors${burst.overlapsPrevious ? '; fired during the previous burst’s rate-limited tail' : ''}`,
      ),
      {
        bench,
        metric: 'wall: first submit → last terminal',
        value: wallMs === undefined ? `> ${BURST_WAIT_MS / 1000} s` : duration(wallMs),
        note:
          wallMs === undefined
            ? `${books.unsettled} still open when the wait ended`
            : `books polled every ${BOOKS_POLL_MS} ms`,
      },
      {
        bench,
        metric: 'submission attempts retried',
        value: String(retries.total),
        note: retries.total > 0 ? `by failure kind: ${retries.byKind}` : 'none',
      },
      {
        bench,
        metric: 'most POSTs for one order',
        value: String(mostPosts),
        note: 'TradeService gives up after 5 attempts (submitRetries 4)',
      },
      {
        bench,
        metric: 'floor at 200 req/min',
        value: duration(floorMs),
        note:
          `${acceptedTrading.length} trading requests answered ` +
          `(429s left out): ${describeRequests(acceptedTrading)}`,
      },
      {
        bench,
        metric: 'wall ÷ floor',
        value: wallMs === undefined ? 'n/a' : floorMs === 0 ? 'n/a' : ratio(wallMs / floorMs),
        note:
          floorMs === 0
            ? 'floor is 0: ≤ 200 trading requests fit in one minute'
            : '1.00 = as fast as the limit allows; goal ≤ 1.10, 0 lost, 0 duplicates, 0 × 429',
      },
      {
        bench,
        metric: 'app RSS after the burst',
        value: `${(usage.rssKb / 1024).toFixed(1)} MB`,
        note: `goal ≤ 150 MB; app CPU time ${duration(usage.cpuMs)} since its start`,
      },
      {
        bench,
        metric: `app RSS ${SETTLE_MS / 1000} s later, idle`,
        value: `${(settled.rssKb / 1024).toFixed(1)} MB`,
        note: 'goal ≤ 150 MB; the same process once the garbage of the burst is collected',
      },
    ];
  } finally {
    await orm?.close(true);
    await t?.stop();
    await db.drop();
  }
}

/**
 * A burst spends most of its wall time with the CPU idle, waiting on the rate limit; the next
 * database's burst starts then (each has its own app, stand-ins and limit) so the whole bench
 * stays within a few minutes.
 */
async function runBursts(kinds: readonly TestDatabaseKind[]): Promise<BenchRow[]> {
  const runs: Promise<BenchRow[]>[] = [];
  let previousTail: Promise<void> = Promise.resolve();
  for (const [index, kind] of kinds.entries()) {
    let reachedTail!: () => void;
    const tail = new Promise<void>((resolve) => (reachedTail = resolve));
    runs.push(previousTail.then(() => benchBurst(kind, { overlapsPrevious: index > 0, reachedTail })));
    previousTail = tail;
  }
  const results = await Promise.allSettled(runs);
  const failure = results.find((r) => r.status === 'rejected');
  if (failure) throw failure.reason;
  return results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
}

export async function benchTrade(): Promise<BenchRow[]> {
  const parts = process.env.TRADE_BENCH_PARTS?.split(',').map((p) => p.trim());
  const runs = (part: 'acks' | 'concurrent' | 'burst') => !parts || parts.includes(part);
  const kinds = testDatabaseTargets().filter((k) => k.available);
  const rows = runs('acks') ? await benchAckTimes() : [];
  if (runs('concurrent')) for (const kind of kinds) rows.push(...(await benchConcurrentAcksCachedOrNot(kind)));
  if (runs('burst')) rows.push(...(await runBursts(kinds)));
  return rows;
}
