import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { initORM, migrateToLatest, type Orm } from '../../src/db/orm';
import { DigestRepository } from '../../src/db/repositories/digest-repository';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import {
  type SlackStandIn,
  type SlackStandInOptions,
  type StoredMessage,
  startSlackStandIn,
} from '../support/slack-standin';

type Json = Record<string, any>;

const DIGESTS = 'C0DIGESTS';
const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
/** 1 January at midnight: never during a test; tests run the schedule with runScheduledDigest(at). */
const NEVER = '0 0 1 1 *';
const ENV = { DIGEST_CHANNEL_ID: DIGESTS, DIGEST_CRON: NEVER, RECONCILE_CRON: NEVER };
/** Wednesday 2 December 2026, 16:15 in New York. */
const WEDNESDAY_CLOSE = new Date('2026-12-02T21:15:00Z');
const THURSDAY_CLOSE = new Date('2026-12-03T21:15:00Z');
const SATURDAY = new Date('2026-12-05T21:15:00Z');
const API_KEY = 'digest-test-key-0123456789';
const SNAPSHOT_CACHE_MS = 15_500;

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`closing digest end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let slack: SlackStandIn;
    let alpaca: AlpacaStandIn;
    let orm: Orm;
    const launched: LaunchedApp[] = [];

    /** The workspace, as a stand-in with `options` (an install without files:write, slow file processing). */
    async function workspace(options: SlackStandInOptions = {}): Promise<void> {
      await slack?.close();
      slack = await startSlackStandIn(options);
      slack.addChannel({ id: DIGESTS, name: 'desk-digest' });
      slack.addUser({ id: ALICE, name: 'alice', realName: 'Alice' });
      slack.addUser({ id: BOB, name: 'bob', realName: 'Bob' });
    }

    beforeEach(async () => {
      db = await kind.create();
      await workspace();
      alpaca = await startAlpacaStandIn({ marketOpen: true });
      orm = await initORM(db.target);
      await migrateToLatest(orm);
    });
    afterEach(async () => {
      for (const app of launched.splice(0).reverse()) await app.stop();
      await orm?.close(true);
      await slack?.close();
      await alpaca?.close();
      await db?.drop();
    });

    async function launch(env: Record<string, string> = {}): Promise<LaunchedApp> {
      const app = await launchApp({ database: db.target, slack, alpaca, env: { ...ENV, ...env } });
      launched.push(app);
      return app;
    }

    const digests = (): StoredMessage[] =>
      slack.messages(DIGESTS).filter((m) => !m.ephemeral && /Closing digest/.test(m.text ?? ''));

    it('posted once per trading day with two instances, by the leader only; not again after a restart', async () => {
      const first = await launch();
      const second = await launch();
      const run = (app: LaunchedApp) => app.app.runScheduledDigest(WEDNESDAY_CLOSE);
      // SQLite is one instance by design (both would lead): there the claim alone keeps it to one post.
      const outcomes =
        kind.name === 'postgresql'
          ? await Promise.all([run(first), run(second)])
          : [await run(first), await run(second)];
      if (kind.name === 'postgresql') {
        // One leader: the standby runs nothing at all.
        expect(outcomes.filter((o) => o === undefined)).toHaveLength(1);
      }
      expect(outcomes.filter((o) => o?.kind === 'claimed')).toEqual([{ kind: 'claimed', tradingDate: '2026-12-02' }]);
      await expect.poll(() => digests().length, { timeout: 15_000 }).toBe(1);
      expect(digests()[0]?.text).toContain('Closing digest for Wed, Dec 2, 2026');
      await first.app.outboxDrained();
      // The chart: uploaded privately (no channel) through files.uploadV2, referenced by the image block.
      const image = (digests()[0]?.blocks ?? []).find((b: Json) => b.type === 'image') as Json | undefined;
      expect(image?.alt_text).toMatch(/Account equity, last month/);
      const file = slack.files.get(image?.slack_file?.id);
      expect(file).toMatchObject({ completed: true, channels: [] });
      expect(file?.width).toBeGreaterThan(0);
      expect(slack.callsTo('files.completeUploadExternal').map((c) => c.args.channel_id)).toEqual([undefined]);
      expect(await new DigestRepository(orm).find('2026-12-02')).toMatchObject({
        channelId: DIGESTS,
        messageTs: digests()[0]?.ts,
      });

      // A restart after posting: the day is taken; the next trading day is not.
      for (const app of launched.splice(0).reverse()) await app.stop();
      const restarted = await launch();
      expect(await restarted.app.runScheduledDigest(WEDNESDAY_CLOSE)).toEqual({
        kind: 'already_claimed',
        tradingDate: '2026-12-02',
      });
      expect(await restarted.app.runScheduledDigest(THURSDAY_CLOSE)).toEqual({
        kind: 'claimed',
        tradingDate: '2026-12-03',
      });
      await expect.poll(() => digests().length, { timeout: 15_000 }).toBe(2);
      await restarted.app.outboxDrained();
      expect(digests().map((m) => m.text?.slice(0, 40))).toEqual([
        'Closing digest for Wed, Dec 2, 2026: equ',
        'Closing digest for Thu, Dec 3, 2026: equ',
      ]);
    }, 90_000);

    it('on DIGEST_CRON itself (every second here): one claim for today, every later tick finds it taken', async () => {
      const app = await launch({ DIGEST_CRON: '* * * * * *' });
      const runs = () => app.logs.entries().filter((e) => e.msg === 'closing digest run');
      await expect.poll(() => runs().length, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date());
      const outcomes = runs().map((e) => e.outcome);
      // Today may be a weekend, when the stand-in's calendar (like Alpaca's) has no session.
      if (outcomes[0] === 'market_closed') {
        expect(new Set(outcomes)).toEqual(new Set(['market_closed']));
        expect(digests()).toHaveLength(0);
      } else {
        expect(outcomes[0]).toBe('claimed');
        expect(new Set(outcomes.slice(1))).toEqual(new Set(['already_claimed']));
        await expect.poll(() => digests().length, { timeout: 15_000 }).toBe(1);
      }
      expect(new Set(runs().map((e) => e.trading_date))).toContain(today);
    }, 60_000);

    it('skipped on a market holiday, at the weekend, and when Alpaca’s calendar does not answer', async () => {
      alpaca.setHolidays(['2026-12-03']);
      const app = await launch();
      expect(await app.app.runScheduledDigest(THURSDAY_CLOSE)).toEqual({
        kind: 'market_closed',
        tradingDate: '2026-12-03',
      });
      expect(await app.app.runScheduledDigest(SATURDAY)).toEqual({ kind: 'market_closed', tradingDate: '2026-12-05' });
      expect(alpaca.requestCount({ method: 'GET', path: '/v2/calendar' })).toBe(2);
      const calendarQuery = alpaca.requests.find((r) => r.path === '/v2/calendar');
      expect(calendarQuery?.query).toMatchObject({
        start: '2026-12-02T00:00:00.000Z',
        end: '2026-12-04T00:00:00.000Z',
      });
      // Alpaca's calendar not answering: not posted on a day that might be a holiday, and said so.
      alpaca.inject({ method: 'GET', path: '/v2/calendar', status: 500, times: 10 });
      expect((await app.app.runScheduledDigest(WEDNESDAY_CLOSE))?.kind).toBe('calendar_unavailable');
      expect(app.logs.entries().some((e) => e.outcome === 'calendar_unavailable' && e.level === 'error')).toBe(true);
      await app.app.outboxDrained();
      expect(digests()).toHaveLength(0);
      expect(await new DigestRepository(orm).find('2026-12-03')).toBeUndefined();
      expect(await new DigestRepository(orm).find('2026-12-02')).toBeUndefined();
    }, 60_000);

    it('an install without files:write (missing_scope): the digest is posted once, with the text trend', async () => {
      await workspace({ files: { withoutFilesWrite: true } });
      const app = await launch();
      expect((await app.app.runScheduledDigest(WEDNESDAY_CLOSE))?.kind).toBe('claimed');
      await expect.poll(() => digests().length, { timeout: 15_000 }).toBe(1);
      await app.app.outboxDrained();
      expect(digests()).toHaveLength(1);
      expect(slack.callsTo('files.getUploadURLExternal')[0]?.response).toMatchObject({ error: 'missing_scope' });
      const blocks = digests()[0]?.blocks ?? [];
      expect(blocks.some((b: Json) => b.type === 'image')).toBe(false);
      expect(JSON.stringify(blocks)).toContain('Account equity, last month');
      expect(await new DigestRepository(orm).find('2026-12-02')).toMatchObject({ messageTs: digests()[0]?.ts });
    }, 60_000);

    it('the fresh chart not yet usable in a message (invalid_blocks): posted again without it, once', async () => {
      await workspace({ files: { processingMs: 10 * 60_000 } });
      const app = await launch();
      expect((await app.app.runScheduledDigest(WEDNESDAY_CLOSE))?.kind).toBe('claimed');
      await expect.poll(() => digests().length, { timeout: 15_000 }).toBe(1);
      await app.app.outboxDrained();
      const posts = slack.callsTo('chat.postMessage').filter((c) => c.args.channel === DIGESTS);
      expect(posts.map((c) => c.response.error ?? 'ok')).toEqual(['invalid_blocks', 'ok']);
      expect(JSON.stringify(posts[0]?.args.blocks)).toContain('slack_file');
      const blocks = digests()[0]?.blocks ?? [];
      expect(blocks.some((b: Json) => b.type === 'image')).toBe(false);
      expect(JSON.stringify(blocks)).toContain('Account equity, last month');
      expect(await new DigestRepository(orm).find('2026-12-02')).toMatchObject({ messageTs: digests()[0]?.ts });
    }, 60_000);

    it('a leader that starts after today’s DIGEST_CRON time (a restart at 16:20) posts it then, once', async () => {
      // Midnight, New York: today's time has always passed when the test runs.
      const env = { DIGEST_CRON: '0 0 * * *' };
      const first = await launch(env);
      const today = new Intl.DateTimeFormat('en-CA', { timeZone: 'America/New_York' }).format(new Date());
      const runs = (app: LaunchedApp) => app.logs.entries().filter((e) => e.msg === 'closing digest run');
      await expect.poll(() => runs(first).length, { timeout: 15_000 }).toBe(1);
      const outcome = runs(first)[0]?.outcome;
      expect(runs(first)[0]?.trading_date).toBe(today);
      // Today may be a weekend, when the stand-in's calendar (like Alpaca's) has no session.
      if (outcome === 'market_closed') return;
      expect(outcome).toBe('claimed');
      await expect.poll(() => digests().length, { timeout: 15_000 }).toBe(1);
      await first.app.outboxDrained();
      for (const app of launched.splice(0).reverse()) await app.stop();
      const second = await launch(env);
      await expect.poll(() => runs(second).map((e) => e.outcome), { timeout: 15_000 }).toEqual(['already_claimed']);
      await second.app.outboxDrained();
      expect(digests()).toHaveLength(1);
    }, 60_000);

    it('Slack down at digest time: the claimed digest is delivered once Slack is back', async () => {
      const now = Date.now();
      alpaca.setPortfolioHistory(
        [20, 10, 0].map((daysAgo, i) => ({
          t: new Date(now - daysAgo * 86_400_000),
          equity: String(100_000 + i * 500),
        })),
      );
      const app = await launch();
      slack.startOutage(['chat.', 'files.']);
      expect((await app.app.runScheduledDigest(WEDNESDAY_CLOSE))?.kind).toBe('claimed');
      // Refused while Slack is away: first the chart's upload, then (once the upload goes through) the post.
      await expect
        .poll(() => slack.callsTo('files.getUploadURLExternal').length, { timeout: 10_000 })
        .toBeGreaterThan(1);
      expect(digests()).toHaveLength(0);
      slack.endOutage();
      await expect.poll(() => digests().length, { timeout: 30_000 }).toBe(1);
      await app.app.outboxDrained(30_000);
      expect(digests()).toHaveLength(1);
      // The upload the digest made is the chart the Home tab shows, above the text trend: no second upload.
      const fileId = ((digests()[0]?.blocks ?? []).find((b: Json) => b.type === 'image') as Json).slack_file.id;
      await slack.appHomeOpened(ALICE);
      await expect
        .poll(() => JSON.stringify(slack.homeView(ALICE)?.view.blocks ?? []), { timeout: 10_000 })
        .toContain(fileId);
      const home = slack.homeView(ALICE)!.view.blocks as Json[];
      const imageAt = home.findIndex((b) => b.type === 'image');
      expect(JSON.stringify(home.slice(imageAt + 1))).toContain('Account equity, last month');
      expect(slack.callsTo('files.completeUploadExternal').filter((c) => c.response.ok)).toHaveLength(1);
    }, 90_000);

    it('/portfolio digest links the open reconciliation alert, as the posted digest does', async () => {
      slack.addChannel({ id: 'C0ALERTS', name: 'desk-alerts' });
      // A broker position the books don't know: the start-up reconciliation posts an alert.
      alpaca.setPosition('TSLA', '7', '248.00');
      const app = await launch({ RECONCILE_CHANNEL_ID: 'C0ALERTS', TRADER_USER_IDS: ALICE });
      await expect.poll(() => slack.messages('C0ALERTS').length, { timeout: 15_000 }).toBeGreaterThan(0);
      await app.app.outboxDrained();
      // The alert, not its thread replies.
      const alert = slack.messages('C0ALERTS').find((m) => m.threadTs === undefined)!;
      const command = await slack.slashCommand({ command: '/portfolio', text: 'digest', userId: ALICE });
      await expect
        .poll(() => slack.responses.some((r) => r.url === command.responseUrl), { timeout: 15_000 })
        .toBe(true);
      const text = JSON.stringify(slack.responses.find((r) => r.url === command.responseUrl)?.body.blocks);
      expect(text).toContain(`/archives/C0ALERTS/p${alert.ts.replace('.', '')}|see the open alert>`);
    }, 60_000);

    it('/portfolio digest: ephemeral, for traders only, with a hand-built day', async () => {
      const app = await launch({ TRADER_USER_IDS: `${ALICE},${BOB}`, OMS_API_KEY: API_KEY, API_FILL_WAIT_MS: '0' });
      alpaca.setPrice('AAPL', { last: '100', bid: '100', ask: '100', prevClose: '98' });
      alpaca.setPrice('MSFT', { last: '400', bid: '400', ask: '400', prevClose: '410' });
      // Alice buys 10 AAPL at 100 in Growth; Bob sells 4 of them at 110 (realizing 4 × 10 = 40 for
      // Bob); Bob buys 2 MSFT at 400 in Income; an order queued while the market is closed is canceled.
      const order = async (userId: string, body: Json, status: string) => {
        const answer = await fetch(`${app.baseUrl}/api/v1/trade`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-api-key': API_KEY },
          body: JSON.stringify({ user_id: userId, ...body }),
        });
        const json = (await answer.json()) as Json;
        await expect
          .poll(
            async () => {
              const row = await fetch(`${app.baseUrl}/api/v1/trades/${json.trade?.trade_id ?? json.trade_id}`, {
                headers: { 'x-api-key': API_KEY },
              });
              return ((await row.json()) as Json).status;
            },
            { timeout: 10_000 },
          )
          .toBe(status);
        return json;
      };
      await order(ALICE, { portfolio_name: 'Growth', symbol: 'AAPL', side: 'buy', quantity: 10 }, 'filled');
      alpaca.setPrice('AAPL', { last: '110', bid: '110', ask: '110', prevClose: '98' });
      await order(BOB, { portfolio_name: 'Growth', symbol: 'AAPL', side: 'sell', quantity: 4 }, 'filled');
      await order(BOB, { portfolio_name: 'Income', symbol: 'MSFT', side: 'buy', quantity: 2 }, 'filled');
      alpaca.setMarketOpen(false);
      const queued = await order(
        BOB,
        { portfolio_name: 'Income', symbol: 'MSFT', side: 'buy', quantity: 1, when_closed: 'queue' },
        'accepted',
      );
      alpaca.cancel(queued.trade?.client_order_id ?? queued.client_order_id);
      await app.app.outboxDrained();
      // The app caches quotes for 15 s: the digest should value the book at the last prices set.
      await sleep(SNAPSHOT_CACHE_MS);

      const command = await slack.slashCommand({ command: '/portfolio', text: 'digest', userId: ALICE });
      expect(command.ackMs).toBeLessThan(3000);
      await expect
        .poll(() => slack.responses.some((r) => r.url === command.responseUrl), { timeout: 15_000 })
        .toBe(true);
      const post = slack.responses.find((r) => r.url === command.responseUrl)!;
      expect(post.error).toBeUndefined();
      expect(post.body.response_type).toBe('ephemeral');
      const text = JSON.stringify(post.body.blocks as Json[]);
      // Growth: 6 AAPL at average 100, last 110, previous close 98 → value 660, day 6 × 12 = 72,
      // unrealized 60, realized 40. Income: 2 MSFT at 400, last 400, previous close 410 → day −20.
      expect(text).toContain('*Growth* · value $660.00 · day +$72.00 · unrealized +$60.00 · realized +$40.00');
      expect(text).toContain('*Income* · value $800.00 · day -$20.00 · unrealized $0.00 · realized $0.00');
      // Alice still holds the 6 shares left (FIFO): 6 × 10 = 60 unrealized; Bob realized 40.
      expect(text).toContain(`1. <@${ALICE}> · realized $0.00 · unrealized +$60.00 · 1 order`);
      expect(text).toContain(`2. <@${BOB}> · realized +$40.00 · unrealized $0.00`);
      expect(text).toContain('4 placed: 3 filled · 1 canceled');
      expect(text).toMatch(/AAPL\* \$110\.00 \(\+12\.24%\).*MSFT\* \$400\.00 \(-2\.44%\)/);
      expect(digests()).toHaveLength(0);

      const outsider = await slack.slashCommand({ command: '/portfolio', text: 'digest', userId: 'U0OUTSIDER' });
      await expect
        .poll(() => slack.responses.some((r) => r.url === outsider.responseUrl), { timeout: 15_000 })
        .toBe(true);
      expect(JSON.stringify(slack.responses.find((r) => r.url === outsider.responseUrl)?.body)).toContain(
        'traders and admins only',
      );
    }, 90_000);
  });
}
