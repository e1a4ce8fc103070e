import type { KnownBlock } from '@slack/web-api';
import type { BrokerAsset, Snapshot } from '../../domain/market';
import { formatNewYorkTime, type MarketDescription } from '../../domain/market-hours';
import { formatBidAsk, formatChange, formatPrice, marketIcon } from '../block-kit/format';
import {
  contextBlock,
  MAX_SECTION_FIELD_TEXT,
  MAX_SECTION_TEXT,
  mrkdwn,
  type SlackMessage,
  sectionBlock,
  userMrkdwn,
} from '../block-kit/limits';
import { buildErrorMessage } from '../block-kit/messages';

/** Short replies to `/trade quote|market|help` and to anything that went wrong (sent ephemeral by the caller). */

const TRADERS_ONLY =
  'Sorry — only the traders set up for this workspace can place orders. Ask an admin to add you to TRADER_USER_IDS.';

/**
 * The answer to a member who is not a trader and asked for the order form; from `/trade` it also
 * says what they can still do there.
 */
export function buildTradersOnlyMessage(from: 'command' | 'home'): SlackMessage {
  const stillAllowed = from === 'command' ? ' You can still use `/trade quote` and `/trade market`.' : '';
  return buildErrorMessage(`${TRADERS_ONLY}${stillAllowed}`);
}

/** The same refusal next to the form's field, for an order submitted by someone who is not (or no longer) a trader. */
export const TRADERS_ONLY_FIELD_ERROR =
  'Sorry — you are not on this workspace’s trader list, so this order can’t be placed.';

export interface QuoteMessageInput {
  asset: BrokerAsset;
  /** Undefined when the data feed had nothing for the symbol. */
  snapshot?: Snapshot;
  market: MarketDescription;
  /** Reference time for "Updated 15:59 ET"; defaults to the current time. */
  now?: Date;
}

/** The market's headline as small print (under a quote, at the top of the order form). */
export function marketContext(market: MarketDescription): KnownBlock {
  return contextBlock(`${marketIcon(market)} ${market.headline}`);
}

export function buildQuoteMessage({ asset, snapshot, market, now = new Date() }: QuoteMessageInput): SlackMessage {
  const symbol = userMrkdwn(asset.symbol, 20);
  const exchange = asset.exchange ? ` · ${userMrkdwn(asset.exchange, 20)}` : '';
  const heading = `*${symbol}* · ${userMrkdwn(asset.name || asset.symbol, 200)}${exchange}`;
  const last = snapshot?.lastPrice;
  if (last === undefined) {
    return {
      text: `${symbol}: no quote available`,
      blocks: [sectionBlock(`${heading}\nNo quote available right now.`), marketContext(market)],
    };
  }
  const fields = [`*Last*\n${formatPrice(last)}`];
  const bidAsk = formatBidAsk(snapshot?.bid, snapshot?.ask);
  if (bidAsk !== undefined) fields.push(`*Bid / ask*\n${bidAsk}`);
  const prevClose = snapshot?.prevClose;
  const change = prevClose !== undefined ? formatChange(last, prevClose) : undefined;
  if (prevClose !== undefined && change !== undefined)
    fields.push(`*Day change*\n${change} vs ${formatPrice(prevClose)} previous close`);
  if (snapshot?.updatedAt !== undefined) fields.push(`*Updated*\n${formatNewYorkTime(snapshot.updatedAt, now)}`);
  if (!asset.tradable || asset.status !== 'active') fields.push('*Trading*\nNot tradable on Alpaca');
  return {
    text: `${symbol} ${formatPrice(last)}${change !== undefined ? ` ${change}` : ''}`,
    blocks: [
      {
        type: 'section',
        text: mrkdwn(heading, MAX_SECTION_TEXT),
        fields: fields.map((f) => mrkdwn(f, MAX_SECTION_FIELD_TEXT)),
      },
      marketContext(market),
    ],
  };
}

export function buildMarketStatusMessage(market: MarketDescription): SlackMessage {
  const icon = marketIcon(market);
  const advice = market.open
    ? ''
    : '\nA market order placed now queues until the open; ' +
      'a limit order with extended hours can trade pre-/after-market.';
  return {
    text: market.headline,
    blocks: [sectionBlock(`${icon} *${market.headline}*\n${market.detail}${advice}`)],
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
    blocks: [sectionBlock(HELP_TEXT)],
  };
}
