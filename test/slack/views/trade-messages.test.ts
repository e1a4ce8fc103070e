import { describe, expect, it } from 'vitest';
import type { BrokerAsset } from '../../../src/domain/market';
import { describeMarket } from '../../../src/domain/market-hours';
import { dec } from '../../../src/domain/money';
import { buildErrorMessage } from '../../../src/slack/block-kit/messages';
import { buildMarketStatusMessage, buildQuoteMessage, buildTradeHelp } from '../../../src/slack/trade/trade-messages';
import { checkBlockKit } from '../../support/slack/block-kit';

const AAPL: BrokerAsset = {
  symbol: 'AAPL',
  name: 'Apple Inc.',
  exchange: 'NASDAQ',
  tradable: true,
  fractionable: true,
  shortable: true,
  status: 'active',
};
const NOW = new Date('2026-01-09T22:00:00Z');
const CLOSED = describeMarket(
  { isOpen: false, nextOpen: new Date('2026-01-12T14:30:00Z'), nextClose: new Date('2026-01-12T21:00:00Z') },
  NOW,
);
const OPEN = describeMarket(
  { isOpen: true, nextOpen: new Date('2026-01-06T14:30:00Z'), nextClose: new Date('2026-01-05T21:00:00Z') },
  new Date('2026-01-05T15:00:00Z'),
);

describe('buildQuoteMessage', () => {
  it('last, bid/ask and the day change against the previous close', () => {
    const message = buildQuoteMessage({
      asset: AAPL,
      snapshot: {
        symbol: 'AAPL',
        lastPrice: dec('189.42'),
        bid: dec('189.4'),
        ask: dec('189.45'),
        prevClose: dec('188.19'),
        updatedAt: new Date('2026-01-09T20:59:00Z'),
      },
      market: CLOSED,
      now: NOW,
    });
    expect(message.text).toBe('AAPL $189.42 +$1.23 (+0.65%)');
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('*AAPL* · Apple Inc. · NASDAQ');
    expect(text).toContain('*Bid / ask*\\n$189.40 / $189.45');
    expect(text).toContain('*Day change*\\n+$1.23 (+0.65%) vs $188.19 previous close');
    expect(text).toContain('*Updated*\\n15:59 ET');
    expect(text).toContain('Market closed — opens Mon 09:30 ET');
    expect(checkBlockKit('message', message)).toEqual([]);
  });

  it('a falling stock shows a negative change', () => {
    const message = buildQuoteMessage({
      asset: AAPL,
      snapshot: { symbol: 'AAPL', lastPrice: dec('90'), prevClose: dec('100') },
      market: OPEN,
    });
    expect(message.text).toBe('AAPL $90.00 -$10.00 (-10.00%)');
  });

  it('says so when there is no quote', () => {
    const message = buildQuoteMessage({ asset: AAPL, market: OPEN });
    expect(message.text).toBe('AAPL: no quote available');
    expect(JSON.stringify(message.blocks)).toContain('No quote available right now.');
    expect(checkBlockKit('message', message)).toEqual([]);
  });

  it('flags an untradable asset and escapes its name', () => {
    const message = buildQuoteMessage({
      asset: { ...AAPL, name: '<!channel> Corp', tradable: false },
      snapshot: { symbol: 'AAPL', lastPrice: dec('1') },
      market: OPEN,
    });
    const text = JSON.stringify(message.blocks);
    expect(text).toContain('Not tradable on Alpaca');
    expect(text).not.toContain('<!channel>');
  });
});

describe('buildMarketStatusMessage', () => {
  it('closed: headline, next transitions and what orders do meanwhile', () => {
    const message = buildMarketStatusMessage(CLOSED);
    expect(message.text).toBe('Market closed — opens Mon 09:30 ET');
    expect((message.blocks[0] as { text: { text: string } }).text.text).toMatchInlineSnapshot(`
      ":crescent_moon: *Market closed — opens Mon 09:30 ET*
      Opens Mon 09:30 ET (in 2 d 16 h); closes Mon 16:00 ET.
      A market order placed now queues until the open; a limit order with extended hours can trade pre-/after-market."
    `);
    expect(checkBlockKit('message', message)).toEqual([]);
  });

  it('open', () => {
    expect(buildMarketStatusMessage(OPEN).text).toBe('Market open — closes 16:00 ET');
  });
});

describe('buildTradeHelp', () => {
  it('shows the parser syntax with examples', () => {
    const message = buildTradeHelp();
    const text = JSON.stringify(message.blocks);
    for (const example of [
      '/trade buy 10 AAPL',
      '/trade sell 5 msft limit 410.50',
      '/trade buy $500 AAPL',
      'stop 180',
      'gtc',
      'ext',
      'pf:Growth',
      '/trade quote AAPL',
      '/trade market',
    ]) {
      expect(text).toContain(example);
    }
    expect(checkBlockKit('message', message)).toEqual([]);
  });
});

describe('buildErrorMessage', () => {
  it('wraps any text safely', () => {
    const message = buildErrorMessage(`<!channel> ${'e'.repeat(10_000)}`);
    expect(checkBlockKit('message', message)).toEqual([]);
    expect(JSON.stringify(message)).not.toContain('<!channel>');
    expect(buildErrorMessage('Only traders can place orders.').text).toBe('Only traders can place orders.');
  });
});
