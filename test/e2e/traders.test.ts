import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initORM, type Orm } from '../../src/db/orm';
import { TradeRepository } from '../../src/db/repositories/trade-repository';
import { type Dec, dec } from '../../src/domain/money';
import type { Side, TradeStatus } from '../../src/domain/order';
import { signedUsd } from '../../src/slack/block-kit/portfolio-format';
import { ApiClient } from '../support/api-client';
import { databaseSuiteName, type TestDatabase, testDatabaseTargets } from '../support/databases';
import { type LaunchedApp, launchApp } from '../support/launch';
import { DEFAULT_CHANNEL_ID, DEFAULT_USER_ID } from '../support/slack-standin';
import { placeOrder, waitForConfirmation } from '../support/trading';

const ALICE = 'U0ALICE';
const BOB = 'U0BOB';
const CAROL = 'U0CAROL';
const API_KEY = 'traders-e2e-key-0001';

type Json = Record<string, any>;

let orderSequence = 0;
let fillSequence = 0;

/** One order as the app stores it: the trade row, then its fills (each one also moves the positions). */
async function order(
  trades: TradeRepository,
  o: { userId: string; portfolio: string; symbol: string; side: Side; fills: [qty: string, price: string][] },
  status: TradeStatus = 'filled',
): Promise<void> {
  const n = ++orderSequence;
  const { trade } = await trades.insertPending({
    clientOrderId: `seed-${n}`,
    source: 'slack',
    symbol: o.symbol,
    side: o.side,
    quantity: o.fills.reduce((sum, [qty]) => sum.plus(qty), dec(0)),
    orderType: 'market',
    timeInForce: 'day',
    extendedHours: false,
    portfolioName: o.portfolio,
    userId: o.userId,
  });
  await trades.update(trade.id, { status });
  for (const [qty, price] of o.fills) {
    const at = ++fillSequence;
    await trades.recordFill({
      executionId: `seed-fill-${at}`,
      tradeId: trade.id,
      symbol: o.symbol,
      side: o.side,
      qty: dec(qty),
      price: dec(price),
      portfolioName: o.portfolio,
      filledAt: new Date(Date.UTC(2026, 0, 5, 15, 0, at)),
      source: 'broker',
    });
  }
}

/** `/portfolio traders` as `userId`: acked in time, answered only to them. */
async function tradersCommand(t: LaunchedApp, userId: string): Promise<{ body: Json; lines: string }> {
  const command = await t.slack.slashCommand({ command: '/portfolio', text: 'traders', userId });
  expect(command.ackMs).toBeLessThan(3000);
  await expect.poll(() => t.slack.responses.some((r) => r.url === command.responseUrl), { timeout: 15_000 }).toBe(true);
  const post = t.slack.responses.find((r) => r.url === command.responseUrl)!;
  expect(post.error, 'Slack refused the reply').toBeUndefined();
  expect(post.body.response_type).toBe('ephemeral');
  const lines = (post.body.blocks as Json[])
    .filter((b) => b.type === 'section')
    .map((b) => b.text.text as string)
    .join('\n');
  return { body: post.body, lines };
}

for (const kind of testDatabaseTargets()) {
  describe.skipIf(!kind.available)(`/portfolio traders end to end on ${databaseSuiteName(kind)}`, () => {
    let db: TestDatabase;
    let t: LaunchedApp;
    let orm: Orm;

    beforeAll(async () => {
      db = await kind.create();
      t = await launchApp({ database: db.target, alpacaOptions: { marketOpen: true }, env: { OMS_API_KEY: API_KEY } });
      orm = await initORM(db.target);
      const trades = new TradeRepository(orm);
      t.alpaca.addAsset({ symbol: 'NOSNAP' });
      t.alpaca.setNoSnapshot('NOSNAP');
      // Growth AAPL: Alice 10 @ 180 (two partial fills), Bob 10 @ 190 → 20 sh, cost 3,700 (avg 185).
      await order(trades, {
        userId: ALICE,
        portfolio: 'Growth',
        symbol: 'AAPL',
        side: 'buy',
        fills: [
          ['4', '180'],
          ['6', '180'],
        ],
      });
      await order(trades, { userId: BOB, portfolio: 'Growth', symbol: 'AAPL', side: 'buy', fills: [['10', '190']] });
      // Carol sells 15 @ 200 of the others' shares: 1,000 − 925 = 75, then 2,000 − 1,850 = 150 → +225.
      // Oldest shares go first: Alice's 10, then 5 of Bob's; Bob still holds 5 at avg 185.
      await order(trades, {
        userId: CAROL,
        portfolio: 'Growth',
        symbol: 'AAPL',
        side: 'sell',
        fills: [
          ['5', '200'],
          ['10', '200'],
        ],
      });
      // Income: Alice buys 2 MSFT @ 400 and sells 1 @ 390 (−10), keeping 1 at 400.
      await order(trades, { userId: ALICE, portfolio: 'Income', symbol: 'MSFT', side: 'buy', fills: [['2', '400']] });
      await order(trades, { userId: ALICE, portfolio: 'Income', symbol: 'MSFT', side: 'sell', fills: [['1', '390']] });
      // Carol holds a symbol without a price: her unrealized is unknown, not 0.
      await order(trades, { userId: CAROL, portfolio: 'Income', symbol: 'NOSNAP', side: 'buy', fills: [['3', '10']] });
      // An order that never reached the broker is not one Bob placed.
      await order(trades, { userId: BOB, portfolio: 'Income', symbol: 'MSFT', side: 'buy', fills: [] }, 'failed');
    }, 120_000);

    afterAll(async () => {
      await orm?.close(true);
      await t?.stop();
      await db?.drop();
    });

    it('the book is warmed in the background after start: the first report reads no fill twice', async () => {
      const fullReads = () => t.logs.lines.filter((l) => l.includes('book built from every fill')).length;
      // Nobody has asked for a report yet: only the warm-up reads every fill.
      await expect.poll(fullReads, { timeout: 10_000 }).toBe(1);
      await tradersCommand(t, ALICE);
      expect(fullReads()).toBe(1);
    });

    it('traders ranked correctly on a hand-built book, the caller highlighted', async () => {
      const reply = await tradersCommand(t, ALICE);
      expect(reply.lines.split('\n')).toEqual([
        // 225 realized + unknown (ranked as 0).
        '*1.* <@U0CAROL> — *+$225.00* † · realized +$225.00 · unrealized unknown † · 2 orders · hit rate 100% (1/1)',
        // Bob's 5 AAPL left: 5 × 189.42 − 925 = 22.10.
        '*2.* <@U0BOB> — *+$22.10* · realized $0.00 · unrealized +$22.10 · 1 order · no closing orders',
        // −10 realized; 1 MSFT: 415.10 − 400 = 15.10.
        ':point_right: *3.* <@U0ALICE> *(you)* — *+$5.10* · realized -$10.00 · unrealized +$15.10 · 3 orders · ' +
          'hit rate 0% (0/1)',
      ]);
      expect(JSON.stringify(reply.body.blocks)).toContain('No price for NOSNAP');
      expect(reply.body.text).toBe('P&L per trader: 3 traders · you: #3, +$5.10');
      expect(t.slack.messages(DEFAULT_CHANNEL_ID).at(-1)).toMatchObject({ ephemeral: true, user: ALICE });
    });

    it('GET /api/v1/traders answers the same ranking, as its OpenAPI document says', async () => {
      const api = new ApiClient(t.baseUrl, API_KEY);
      await api.loadContract();
      const answer = await api.get('/api/v1/traders');
      expect(answer.status).toBe(200);
      expect(answer.body.unpriced).toEqual(['NOSNAP']);
      expect(answer.body.traders).toEqual([
        {
          rank: 1,
          user_id: CAROL,
          realized_pl: 225,
          unrealized_pl: null,
          orders: 2,
          closing_orders: 1,
          winning_orders: 1,
          hit_rate: 1,
        },
        {
          rank: 2,
          user_id: BOB,
          realized_pl: 0,
          unrealized_pl: 22.1,
          orders: 1,
          closing_orders: 0,
          winning_orders: 0,
          hit_rate: null,
        },
        {
          rank: 3,
          user_id: ALICE,
          realized_pl: -10,
          unrealized_pl: 15.1,
          orders: 3,
          closing_orders: 1,
          winning_orders: 0,
          hit_rate: 0,
        },
      ]);
      expect((await new ApiClient(t.baseUrl, undefined).get('/api/v1/traders')).status).toBe(401);
    });

    it('anyone may look; a caller with no orders sees the ranking without a row of their own', async () => {
      const reply = await tradersCommand(t, 'U0VIEWER');
      expect(reply.lines).not.toContain(':point_right:');
      expect(reply.lines).toContain('*1.* <@U0CAROL>');
      expect(reply.body.text).toBe('P&L per trader: 3 traders');
    });

    it('an order placed through Slack joins the ranking: the shares held are priced at the average cost', async () => {
      const placed = await placeOrder(t, { portfolio: 'Income', symbol: 'MSFT', side: 'buy', quantity: '1' });
      await waitForConfirmation(t, placed.clientOrderId, (m) => JSON.stringify(m.blocks).includes('Filled'));
      const trades = new TradeRepository(orm);
      const mine = await trades.findByClientOrderId(placed.clientOrderId);
      const [fill] = await trades.listFillsForTrade(mine!.id);
      // Income MSFT is now Alice's 1 @ 400 and this trader's 1 at the fill price: each holds half the cost.
      const halfCost: Dec = dec(400).plus(fill!.price).div(2);
      const unrealized = dec('415.10').minus(halfCost);
      const reply = await tradersCommand(t, DEFAULT_USER_ID);
      expect(reply.lines).toContain(
        `<@${DEFAULT_USER_ID}> *(you)* — *${signedUsd(unrealized)}* · realized $0.00 · ` +
          `unrealized ${signedUsd(unrealized)} · 1 order · no closing orders`,
      );
      const aliceTotal = signedUsd(dec(-10).plus(unrealized));
      expect(reply.lines).toContain(
        `<@U0ALICE> — *${aliceTotal}* · realized -$10.00 · unrealized ${signedUsd(unrealized)}`,
      );
    });
  });
}
