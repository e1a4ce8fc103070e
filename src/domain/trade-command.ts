import { decimalText, moneyText } from './money';
import { type OrderType, type Side, TIMES_IN_FORCE, type TimeInForce } from './order';
import { normalizeSymbol } from './symbol';

/**
 * `/trade <text>` → what the trader asked for. Lenient by design: anything it does not
 * understand is ignored and left for the order form, so parsing never fails.
 *
 * Syntax (case-insensitive, words in any order; the first value of each kind wins):
 *   help | ?                                  → usage
 *   quote AAPL | q AAPL | price AAPL          → a quote
 *   market | clock | hours   (alone)          → market open/closed
 *   otherwise an order prefill:
 *     side         buy, b, long, purchase | sell, s, short   (b / s read as a symbol once a side is set)
 *     quantity     10, 2.5, 1,000             (kept as typed, grouping commas dropped)
 *     amount       $500, 500$, $1,250.50, 500 usd, 500 dollars
 *     symbol       AAPL, brk.b, $AAPL         ($ forces a symbol, even one that is also a keyword: $DAY)
 *     type/prices  market | mkt, limit 410.50 | lmt 410.50 | @ 410.50 | at 410.50 | @410.50,
 *                  stop 180 | stp 180, stop 180 limit 179.5 (= stop limit), stop_limit
 *     time in force  day | gtc
 *     extended hours ext | extended | eth
 *     portfolio    pf:Growth | portfolio:Growth | pf:"Growth Fund" (quotes for names with spaces)
 */

export interface OrderPrefill {
  side?: Side;
  quantity?: string;
  amount?: string;
  symbol?: string;
  type?: OrderType;
  limitPrice?: string;
  stopPrice?: string;
  timeInForce?: TimeInForce;
  extendedHours?: boolean;
  portfolio?: string;
}

export type TradeCommand =
  | { kind: 'help' }
  | { kind: 'quote'; symbol?: string }
  | { kind: 'market' }
  | { kind: 'order'; prefill: OrderPrefill };

const HELP_WORDS = new Set(['help', '?', '-h', '--help']);
const QUOTE_WORDS = new Set(['quote', 'q', 'price']);
const MARKET_STATUS_WORDS = new Set(['market', 'clock', 'hours']);

const BUY_WORDS = new Set(['buy', 'b', 'long', 'purchase']);
const SELL_WORDS = new Set(['sell', 's', 'short']);
const LIMIT_WORDS = new Set(['limit', 'lmt', 'lim']);
const STOP_WORDS = new Set(['stop', 'stp']);
const STOP_LIMIT_WORDS = new Set(['stop_limit', 'stop-limit', 'stoplimit', 'stplmt']);
const MARKET_TYPE_WORDS = new Set(['market', 'mkt']);
const AT_WORDS = new Set(['@', 'at']);
/** Each time in force by its own name. */
const TIME_IN_FORCE_WORDS = new Map<string, TimeInForce>(TIMES_IN_FORCE.map((tif) => [tif, tif]));
const EXTENDED_WORDS = new Set(['ext', 'extended', 'extended_hours', 'extended-hours', 'eth']);
const DOLLAR_WORDS = new Set(['$', 'usd', 'dollar', 'dollars']);
/** Words people type around an order that carry no meaning here. */
const FILLER_WORDS = new Set([
  ...['of', 'shares', 'share', 'sh', 'for', 'in', 'x', 'worth', 'order', 'the', 'and'],
  // Command words after the first position ("ext hours", "buy … quote") are noise too.
  ...['hours', 'hrs', 'help', 'quote', 'clock'],
]);

/** Words never read as a bare symbol; a `$` prefix still makes one a symbol ($DAY). */
export const RESERVED_WORDS: ReadonlySet<string> = new Set(
  [
    ...HELP_WORDS,
    ...QUOTE_WORDS,
    ...MARKET_STATUS_WORDS,
    ...BUY_WORDS,
    ...SELL_WORDS,
    ...LIMIT_WORDS,
    ...STOP_WORDS,
    ...STOP_LIMIT_WORDS,
    ...MARKET_TYPE_WORDS,
    ...AT_WORDS,
    ...TIME_IN_FORCE_WORDS.keys(),
    ...EXTENDED_WORDS,
    ...DOLLAR_WORDS,
    ...FILLER_WORDS,
  ].map((word) => word.toUpperCase()),
);

const PORTFOLIO_PREFIX = /^(?:portfolio|pf)[:=]/i;

/** Slack sends &, < and > in command text as HTML entities. */
function decodeSlackEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Whitespace-separated words; double quotes (straight or curly, as Slack clients type them) group words. */
function tokenize(text: string): string[] {
  const tokens: string[] = [];
  let current = '';
  let inToken = false;
  let inQuotes = false;
  // Curly and low double quotes (“ ” „ ‟), escaped so the compiled app stays ASCII.
  for (const ch of text.replace(/[\u201C\u201D\u201E\u201F]/g, '"')) {
    if (ch === '"') {
      inQuotes = !inQuotes;
      inToken = true;
    } else if (!inQuotes && /\s/.test(ch)) {
      if (inToken) tokens.push(current);
      current = '';
      inToken = false;
    } else {
      current += ch;
      inToken = true;
    }
  }
  if (inToken) tokens.push(current);
  return tokens;
}

/** "$500" / "500$" → amount; "500" → a bare number (quantity unless a dollar word follows). */
function parseNumberToken(token: string): { value: string; dollars: boolean } | undefined {
  if (token.startsWith('$')) {
    const value = decimalText(token.slice(1));
    return value === undefined ? undefined : { value, dollars: true };
  }
  if (token.endsWith('$')) {
    const value = decimalText(token.slice(0, -1));
    return value === undefined ? undefined : { value, dollars: true };
  }
  const value = decimalText(token);
  return value === undefined ? undefined : { value, dollars: false };
}

function symbolOf(token: string, allowReserved: boolean): string | undefined {
  if (token.startsWith('$')) return normalizeSymbol(token.slice(1));
  const symbol = normalizeSymbol(token);
  if (symbol === undefined || (!allowReserved && RESERVED_WORDS.has(symbol))) return undefined;
  return symbol;
}

function parseOrderPrefill(tokens: readonly string[]): OrderPrefill {
  const prefill: OrderPrefill = {};
  let sawLimit = false;
  let sawStop = false;
  let sawStopLimit = false;
  let sawMarket = false;

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    const word = token.toLowerCase();
    const next = tokens[i + 1];

    if (PORTFOLIO_PREFIX.test(token)) {
      let name = token.replace(PORTFOLIO_PREFIX, '').trim();
      // "pf: Growth" — the name came as the next word.
      if (name === '' && next !== undefined) {
        name = next.trim();
        i++;
      }
      if (name !== '') prefill.portfolio ??= name;
      continue;
    }
    if (prefill.side === undefined && BUY_WORDS.has(word)) {
      prefill.side = 'buy';
      continue;
    }
    if (prefill.side === undefined && SELL_WORDS.has(word)) {
      prefill.side = 'sell';
      continue;
    }
    if (LIMIT_WORDS.has(word) || STOP_WORDS.has(word)) {
      const isLimit = LIMIT_WORDS.has(word);
      if (isLimit) sawLimit = true;
      else sawStop = true;
      const price = moneyText(next ?? '');
      if (price !== undefined) {
        if (isLimit) prefill.limitPrice ??= price;
        else prefill.stopPrice ??= price;
        i++;
      }
      continue;
    }
    if (AT_WORDS.has(word)) {
      const price = moneyText(next ?? '');
      if (price !== undefined) {
        sawLimit = true;
        prefill.limitPrice ??= price;
        i++;
      }
      continue;
    }
    if (word.startsWith('@')) {
      const price = moneyText(word.slice(1));
      if (price !== undefined) {
        sawLimit = true;
        prefill.limitPrice ??= price;
      }
      continue;
    }
    if (STOP_LIMIT_WORDS.has(word)) {
      sawStopLimit = true;
      continue;
    }
    if (MARKET_TYPE_WORDS.has(word)) {
      sawMarket = true;
      continue;
    }
    const timeInForce = TIME_IN_FORCE_WORDS.get(word);
    if (timeInForce !== undefined) {
      prefill.timeInForce ??= timeInForce;
      continue;
    }
    if (EXTENDED_WORDS.has(word)) {
      prefill.extendedHours = true;
      continue;
    }
    if (token === '$') {
      const amount = decimalText(next ?? '');
      if (amount !== undefined) {
        prefill.amount ??= amount;
        i++;
      }
      continue;
    }
    const number = parseNumberToken(token);
    if (number !== undefined) {
      if (number.dollars) {
        prefill.amount ??= number.value;
      } else if (next !== undefined && DOLLAR_WORDS.has(next.toLowerCase())) {
        prefill.amount ??= number.value;
        i++;
      } else {
        prefill.quantity ??= number.value;
      }
      continue;
    }
    // Once a side is set, a lone b / s is the ticker B / S; other side words are noise.
    const sideLetterAsSymbol =
      word.length === 1 && prefill.side !== undefined && (BUY_WORDS.has(word) || SELL_WORDS.has(word));
    if (!sideLetterAsSymbol && (FILLER_WORDS.has(word) || BUY_WORDS.has(word) || SELL_WORDS.has(word))) continue;
    const symbol = symbolOf(token, sideLetterAsSymbol);
    if (symbol !== undefined) prefill.symbol ??= symbol;
  }

  const type: OrderType | undefined =
    sawStopLimit || (sawStop && sawLimit)
      ? 'stop_limit'
      : sawStop
        ? 'stop'
        : sawLimit
          ? 'limit'
          : sawMarket
            ? 'market'
            : undefined;
  if (type !== undefined) prefill.type = type;
  return prefill;
}

export function parseTradeCommand(text: string): TradeCommand {
  const tokens = tokenize(decodeSlackEntities(text));
  const first = tokens[0]?.toLowerCase();
  if (first === undefined) return { kind: 'order', prefill: {} };
  if (HELP_WORDS.has(first)) return { kind: 'help' };
  if (QUOTE_WORDS.has(first)) {
    const symbol = tokens
      .slice(1)
      .map((token) => symbolOf(token, true))
      .find((candidate) => candidate !== undefined);
    return symbol === undefined ? { kind: 'quote' } : { kind: 'quote', symbol };
  }
  if (tokens.length === 1 && MARKET_STATUS_WORDS.has(first)) return { kind: 'market' };
  return { kind: 'order', prefill: parseOrderPrefill(tokens) };
}
