import type { KnownBlock } from '@slack/web-api';
import type { BrokerAsset, Snapshot } from '../../domain/market';
import { formatNewYorkTime, type MarketDescription } from '../../domain/market-hours';
import { formatBidAsk, formatChange, formatPrice } from '../block-kit/format';
import { MAX_CONTEXT_TEXT, MAX_SECTION_FIELD_TEXT, MAX_SECTION_TEXT, mrkdwn, userMrkdwn, type SlackMessage } from '../block-kit/limits';

/** Short replies to `/trade quote|market|help` and to anything that went wrong (sent ephemeral by the caller). */

export interface QuoteMessageInput {
  asset: BrokerAsset;
  /** Undefined when the data feed had nothing for the symbol. */
  snapshot?: Snapshot;
  market: MarketDescription;
  /** Reference time for "Updated 15:59 ET"; defaults to the current time. */
  now?: Date;
}

function marketContext(market: MarketDescription): KnownBlock {
  return { type: 'context', elements: [mrkdwn(`${market.open ? ':large_green_circle:' : ':crescent_moon:'} ${market.headline}`, MAX_CONTEXT_TEXT)] };
}

export function buildQuoteMessage({ asset, snapshot, market, now = new Date() }: QuoteMessageInput): SlackMessage {
  const symbol = userMrkdwn(asset.symbol, 20);
  const exchange = asset.exchange ? ` · ${userMrkdwn(asset.exchange, 20)}` : '';
  const heading = `*${symbol}* · ${userMrkdwn(asset.name || asset.symbol, 200)}${exchange}`;
  const last = snapshot?.lastPrice;
  if (last === undefined) {
    return {
      text: `${symbol}: no quote available`,
      blocks: [
        { type: 'section', text: mrkdwn(`${heading}\nNo quote available right now.`, MAX_SECTION_TEXT) },
        marketContext(market),
      ],
    };
  }
  const fields = [`*Last*\n${formatPrice(last)}`];
  const bidAsk = formatBidAsk(snapshot?.bid, snapshot?.ask);
  if (bidAsk !== undefined) fields.push(`*Bid / ask*\n${bidAsk}`);
  const prevClose = snapshot?.prevClose;
  const change = prevClose !== undefined ? formatChange(last, prevClose) : undefined;
  if (prevClose !== undefined && change !== undefined) fields.push(`*Day change*\n${change} vs ${formatPrice(prevClose)} previous close`);
  if (snapshot?.updatedAt !== undefined) fields.push(`*Updated*\n${formatNewYorkTime(snapshot.updatedAt, now)}`);
  if (!asset.tradable || asset.status !== 'active') fields.push('*Trading*\nNot tradable on Alpaca');
  return {
    text: `${symbol} ${formatPrice(last)}${change !== undefined ? ` ${change}` : ''}`,
    blocks: [
      { type: 'section', text: mrkdwn(heading, MAX_SECTION_TEXT), fields: fields.map((f) => mrkdwn(f, MAX_SECTION_FIELD_TEXT)) },
      marketContext(market),
    ],
  };
}

export function buildMarketStatusMessage(market: MarketDescription): SlackMessage {
  const icon = market.open ? ':large_green_circle:' : ':crescent_moon:';
  const advice = market.open
    ? ''
    : '\nA market order placed now queues until the open; a limit order with extended hours can trade pre-/after-market.';
  return {
    text: market.headline,
    blocks: [{ type: 'section', text: mrkdwn(`${icon} *${market.headline}*\n${market.detail}${advice}`, MAX_SECTION_TEXT) }],
  };
}

const HELP_TEXT = [
  '*/trade* opens the order form. Words after it fill the form in; anything not understood is left for you to fill.',
  '',
  '• `/trade AAPL` — form for Apple',
  '• `/trade buy 10 AAPL` — 10 shares at market',
  '• `/trade sell 5 msft limit 410.50` — limit order (also `@ 410.50`)',
  '• `/trade buy $500 AAPL` or `/trade buy 500$ of aapl` — a dollar amount (fractional shares)',
  '• `/trade buy 10 aapl stop 180` — stop; add `limit 179.5` for a stop limit',
  '• `gtc` — good till canceled (default: day) · `ext` — extended hours (limit + day only)',
  '• `pf:Growth` or `pf:"Growth Fund"` — portfolio (default portfolio when omitted)',
  '• `b` / `s`, `long` / `short` work for buy / sell; `$DAY` forces a symbol that is also a keyword',
  '',
  '`/trade quote AAPL` (or `q AAPL`) — last price, bid/ask, day change',
  '`/trade market` — is the market open, next open and close (New York time)',
  '`/trade help` — this message',
].join('\n');

export function buildTradeHelp(): SlackMessage {
  return {
    text: 'How to use /trade',
    blocks: [{ type: 'section', text: mrkdwn(HELP_TEXT, MAX_SECTION_TEXT) }],
  };
}

