import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dec } from '../../../src/domain/money';
import type { TradeStatus } from '../../../src/domain/order';
import {
  buildOrderFinishedReply,
  buildOrderMessage,
  CANCEL_ORDER_ACTION_ID,
  describeOrderStatus,
  type OrderMessageView,
} from '../../../src/slack/trade/order-message';
import { checkBlockKit } from '../../support/slack/block-kit';

function view(overrides: Partial<OrderMessageView> = {}): OrderMessageView {
  return {
    status: 'accepted',
    side: 'buy',
    symbol: 'AAPL',
    qty: dec(10),
    type: 'market',
    timeInForce: 'day',
    extendedHours: false,
    portfolio: 'Growth',
    userId: 'U123ABC',
    alpacaOrderId: '61e69015-8549-4bfd-b9c3-01e75843f47d',
    marketAtSubmit: 'Market open — closes 16:00 ET',
    ledgerOnly: false,
    cancelable: true,
    clientOrderId: 'slack-V0123456789',
    ...overrides,
  };
}

type Json = Record<string, any>;
const cancelButton = (blocks: unknown[]) =>
  (blocks as Json[])
    .flatMap((b) => (b.type === 'actions' ? (b.elements as Json[]) : []))
    .find((e) => e.action_id === CANCEL_ORDER_ACTION_ID);

describe('buildOrderMessage — the sentence for each status', () => {
  it.each<[string, Partial<OrderMessageView>, string]>([
    ['pending', { status: 'pending_submit', alpacaOrderId: undefined }, 'Sending — Buy 10 AAPL (market · day)'],
    // "Submitted" means Alpaca acknowledged it: a row sent but unconfirmed still says where it stands.
    [
      'sent, retrying',
      { status: 'submitted', alpacaOrderId: undefined, stillSending: true, error: 'Alpaca isn’t answering right now.' },
      'Sending — Buy 10 AAPL (market · day)',
    ],
    [
      'sent, given up unsure',
      { status: 'submitted', alpacaOrderId: undefined, error: 'We keep checking.' },
      'Not confirmed yet — Buy 10 AAPL (market · day)',
    ],
    ['accepted', { status: 'accepted' }, 'Submitted — Buy 10 AAPL (market · day)'],
    [
      'queued',
      { status: 'accepted', queuedForOpen: true },
      'Submitted — queued for the open: Buy 10 AAPL (market · day)',
    ],
    [
      'limit',
      { type: 'limit', limitPrice: dec('410.5'), side: 'sell', qty: dec(5), symbol: 'MSFT' },
      'Submitted — Sell 5 MSFT (limit $410.50 · day)',
    ],
    [
      'stop limit gtc ext',
      { type: 'stop_limit', stopPrice: dec(180), limitPrice: dec('179.5'), timeInForce: 'gtc', extendedHours: true },
      'Submitted — Buy 10 AAPL (stop $180.00 limit $179.50 · GTC · extended hours)',
    ],
    ['notional', { qty: undefined, notional: dec(500) }, 'Submitted — Buy $500.00 of AAPL (market · day)'],
    [
      'partial',
      { status: 'partially_filled', filledQty: dec(4), filledAvgPrice: dec('189.4') },
      'Partially filled 4 / 10 AAPL @ $189.40',
    ],
    [
      'filled',
      { status: 'filled', filledQty: dec(10), filledAvgPrice: dec('189.42') },
      'Filled 10 AAPL @ $189.42 (GMV $1,894.20)',
    ],
    [
      'filled with GMV',
      { status: 'filled', filledQty: dec(10), filledAvgPrice: dec('189.42'), gmv: dec(1900) },
      'Filled 10 AAPL @ $189.42 (GMV $1,900.00)',
    ],
    [
      'penny stock fill',
      { status: 'filled', filledQty: dec(1000), filledAvgPrice: dec('0.5125') },
      'Filled 1000 AAPL @ $0.5125 (GMV $512.50)',
    ],
    [
      'ledger',
      { status: 'filled', ledgerOnly: true, gmv: dec('1894.2'), alpacaOrderId: undefined },
      'Recorded Buy 10 AAPL (GMV $1,894.20) — ledger only, not sent to Alpaca',
    ],
    ['canceled', { status: 'canceled' }, 'Canceled — Buy 10 AAPL (market · day)'],
    [
      'canceled part-filled',
      { status: 'canceled', filledQty: dec(4), filledAvgPrice: dec('189.4') },
      'Canceled — Buy 10 AAPL (market · day), 4 AAPL @ $189.40 filled before that',
    ],
    ['expired', { status: 'expired' }, 'Expired unfilled — Buy 10 AAPL (market · day)'],
    [
      'rejected',
      { status: 'rejected', error: 'Insufficient buying power: the order needs $1,894.20, you have $500.00.' },
      'Rejected: Insufficient buying power: the order needs $1,894.20, you have $500.00.',
    ],
    ['rejected without reason', { status: 'rejected' }, 'Rejected: Alpaca refused the order.'],
    [
      'failed',
      { status: 'failed', error: 'Alpaca is unavailable; the order was not sent.' },
      'Not placed: Alpaca is unavailable; the order was not sent.',
    ],
  ])('%s', (_name, overrides, expected) => {
    const v = view(overrides);
    expect(describeOrderStatus(v)).toBe(expected);
    const message = buildOrderMessage(v);
    expect(message.text).toBe(expected.replace(/&/g, '&amp;'));
    expect(checkBlockKit('message', message)).toEqual([]);
  });
});

describe('buildOrderMessage — details and the cancel button', () => {
  it('shows order, portfolio, trader, order id and market at submission', () => {
    const text = JSON.stringify(
      buildOrderMessage(
        view({
          status: 'filled',
          filledQty: dec(10),
          filledAvgPrice: dec('189.42'),
          filledAt: new Date('2026-01-05T14:31:00Z'),
        }),
      ).blocks,
    );
    expect(text).toContain('*Portfolio*\\nGrowth');
    expect(text).toContain('*Placed by*\\n<@U123ABC>');
    expect(text).toContain('*Alpaca order id*\\n`61e69015-8549-4bfd-b9c3-01e75843f47d`');
    expect(text).toContain('*Market at submission*\\nMarket open — closes 16:00 ET');
    expect(text).toContain('*Filled at*\\nMon Jan 5, 2026 09:31 ET');
    expect(text).toContain('slack-V0123456789');
  });

  it('offers "Cancel order" with the client order id only while cancelable', () => {
    const open = buildOrderMessage(view());
    expect(cancelButton(open.blocks)).toMatchObject({
      type: 'button',
      text: { text: 'Cancel order' },
      value: 'slack-V0123456789',
      style: 'danger',
    });
    expect(cancelButton(open.blocks)?.confirm).toBeDefined();
    expect(cancelButton(buildOrderMessage(view({ status: 'filled', cancelable: false })).blocks)).toBeUndefined();
  });

  it('ledger-only says nothing went to Alpaca', () => {
    const text = JSON.stringify(
      buildOrderMessage(
        view({ status: 'filled', ledgerOnly: true, alpacaOrderId: undefined, gmv: dec(100), cancelable: false }),
      ).blocks,
    );
    expect(text).toContain('*Alpaca*\\nNot sent (ledger only)');
  });

  it('neutralises markup and stays within limits for huge or hostile values', () => {
    const hostile = `<!channel> ${'x'.repeat(5000)} *bold* \`tick\``;
    const message = buildOrderMessage(
      view({
        status: 'rejected',
        portfolio: hostile,
        error: hostile,
        userId: '<!here>',
        marketAtSubmit: hostile,
        alpacaOrderId: hostile,
        clientOrderId: 'c'.repeat(128),
      }),
    );
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(JSON.stringify(message)).not.toMatch(/<!channel>|<!here>/);
    expect(message.text.length).toBeLessThanOrEqual(600);
  });

  it('is valid for every status, cancelable or not', () => {
    const statuses: TradeStatus[] = [
      'pending_submit',
      'submitted',
      'accepted',
      'partially_filled',
      'filled',
      'canceled',
      'expired',
      'rejected',
      'failed',
    ];
    for (const status of statuses) {
      for (const cancelable of [true, false]) {
        expect(checkBlockKit('message', buildOrderMessage(view({ status, cancelable }))), status).toEqual([]);
      }
    }
  });

  it('is valid for any text in any field (property)', () => {
    const text = fc.string({ maxLength: 3000, unit: 'grapheme' });
    fc.assert(
      fc.property(
        fc.constantFrom<TradeStatus>(
          'pending_submit',
          'accepted',
          'partially_filled',
          'filled',
          'canceled',
          'rejected',
          'failed',
        ),
        fc.record({
          portfolio: text,
          userId: text,
          alpacaOrderId: text,
          marketAtSubmit: text,
          error: text,
          symbol: text,
        }),
        fc.boolean(),
        (status, strings, cancelable) => {
          expect(checkBlockKit('message', buildOrderMessage(view({ status, cancelable, ...strings })))).toEqual([]);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('buildOrderMessage — while Alpaca has not acknowledged the order', () => {
  it('says in words that we keep trying and that it cannot be placed twice, and never "Submitted"', () => {
    const message = buildOrderMessage(
      view({
        status: 'pending_submit',
        alpacaOrderId: undefined,
        stillSending: true,
        error: 'Alpaca isn’t answering right now. We keep trying, and the order can’t be placed twice.',
      }),
    );
    const shown = JSON.stringify(message.blocks);
    expect(message.text).toMatch(/^Sending — /);
    expect(shown).toContain('We keep trying, and the order can’t be placed twice.');
    expect(shown).not.toContain('Submitted');
    expect(checkBlockKit('message', message)).toEqual([]);
  });

  it('shows no note once the order is acknowledged', () => {
    expect(JSON.stringify(buildOrderMessage(view({ status: 'accepted', error: 'stale note' })).blocks)).not.toContain(
      'stale note',
    );
  });
});

describe('buildOrderFinishedReply', () => {
  it('names the trader, so the thread reply notifies them, and says what happened', () => {
    const reply = buildOrderFinishedReply(
      view({ status: 'filled', filledQty: dec(10), filledAvgPrice: dec('189.42') }),
    );
    expect(reply.text).toBe('<@U123ABC> Filled 10 AAPL @ $189.42 (GMV $1,894.20)');
    expect(checkBlockKit('message', reply)).toEqual([]);
  });

  it('shows a trader id that is not a Slack member id as text, never as markup', () => {
    const reply = buildOrderFinishedReply(view({ status: 'canceled', userId: '<!channel>' }));
    expect(reply.text).not.toContain('<!channel>');
  });
});

describe('buildOrderMessage — an order waiting for approval, and how it ended', () => {
  const approval = { approvers: ['U123ABC', 'U0APPROVER1'], ended: true };

  it('says what ended an order at approval, without calling a price move "not approved in time"', () => {
    const moved = describeOrderStatus(
      view({
        status: 'expired',
        approval,
        error:
          'AAPL moved 2.50% since the request ($200.00 → $205.00), more than the 2% allowed. ' +
          'Nothing was sent to Alpaca — place the order again for a fresh request.',
      }),
    );
    expect(moved).toMatch(/^Not placed — Buy 10 AAPL \(market · day\): AAPL moved 2\.50%/);
    expect(moved).not.toMatch(/in time/);
  });

  it('says "withdrawn" once', () => {
    const withdrawn = describeOrderStatus(
      view({ status: 'canceled', approval, error: 'Withdrawn before approval. Nothing was sent to Alpaca.' }),
    );
    expect(withdrawn).toBe('Withdrawn before approval — Buy 10 AAPL (market · day). Nothing was sent to Alpaca.');
  });

  it('names the approvers who can approve it, never its own trader', () => {
    const message = buildOrderMessage(
      view({ status: 'pending_approval', alpacaOrderId: undefined, approval: { approvers: approval.approvers } }),
    );
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('waiting for approval by <@U0APPROVER1>');
    expect(text).not.toContain('<@U123ABC> or');
  });
});
