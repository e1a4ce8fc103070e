import { describe, expect, it } from 'vitest';
import { dec } from '../../../src/domain/money';
import { TRADE_STATUSES } from '../../../src/domain/order';
import { decodePrefill, type RepeatableOrder } from '../../../src/domain/order-prefill';
import { TRADE_AGAIN_ACTIONS, tradeAgainBlocks } from '../../../src/slack/block-kit/trade-again';
import { buildOrderMessage, type OrderMessageView } from '../../../src/slack/trade/order-message';
import { checkBlockKit } from '../../support/slack/block-kit';

type Json = Record<string, any>;

const ORDER: OrderMessageView = {
  status: 'filled',
  side: 'buy',
  symbol: 'AAPL',
  qty: dec(10),
  type: 'limit',
  limitPrice: dec('189.5'),
  timeInForce: 'gtc',
  extendedHours: false,
  portfolio: 'Growth',
  userId: 'U123ABC',
  ledgerOnly: false,
  cancelable: false,
  clientOrderId: 'oms-V1',
  tradeAgain: { portfolio: 'Growth', symbol: 'AAPL', side: 'buy', quantity: '10', type: 'limit', limitPrice: '189.5' },
};

const tradeAgain = (blocks: unknown[]) =>
  (blocks as Json[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => b.elements as Json[])
    .find((e) => TRADE_AGAIN_ACTIONS.test(e.action_id));

describe('Trade again', () => {
  it('is offered on every final confirmation, and only there', () => {
    for (const status of TRADE_STATUSES) {
      const message = buildOrderMessage({ ...ORDER, status });
      expect(checkBlockKit('message', message), status).toEqual([]);
      const button = tradeAgain(message.blocks);
      const final = ['filled', 'canceled', 'expired', 'rejected', 'failed'].includes(status);
      expect(button !== undefined, status).toBe(final);
      if (button) expect(decodePrefill(button.value)).toEqual(ORDER.tradeAgain);
    }
  });

  it('lists earlier orders as buttons within Slack’s limits, each with its own action_id', () => {
    const order = (i: number): RepeatableOrder => ({
      portfolio: `A portfolio with a rather long name number ${i}`.repeat(2),
      symbol: 'MSFT',
      side: 'sell',
      notional: dec(150 + i),
      type: 'market',
      timeInForce: 'day',
      extendedHours: false,
    });
    const blocks = tradeAgainBlocks([0, 1, 2, 3, 4].map(order));
    expect(checkBlockKit('home', { type: 'home', blocks })).toEqual([]);
    const buttons = (blocks[1] as Json).elements as Json[];
    expect(buttons.map((b) => b.action_id)).toEqual([
      'trade_again_0',
      'trade_again_1',
      'trade_again_2',
      'trade_again_3',
      'trade_again_4',
    ]);
    expect(buttons[0]!.text.text).toMatch(/^Sell \$150\.00 of MSFT · market · day · A portfolio.*…$/);
    expect(buttons.every((b) => b.text.text.length <= 75)).toBe(true);
    expect(decodePrefill(buttons[1]!.value)).toMatchObject({ amount: '151', side: 'sell', symbol: 'MSFT' });
    expect(tradeAgainBlocks([])).toEqual([]);
  });
});
