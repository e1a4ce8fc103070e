import type { Broker } from '../broker/broker';
import { describeError } from '../domain/errors';
import type { BrokerAsset } from '../domain/market';
import type { Logger } from '../logger';

/**
 * Symbol type-ahead over Alpaca's tradable assets, answered from memory: the list is loaded at
 * start-up and refreshed daily, so a suggestion request never waits on Alpaca (Slack gives the
 * app 3 s). Knows nothing of Slack.
 */

export interface SymbolMatch {
  symbol: string;
  name: string;
}

export interface SymbolSuggestions {
  matches: SymbolMatch[];
  /** True when the query is exactly a listed ticker. */
  exact: boolean;
}

export interface SymbolSearchOptions {
  /** How often the list is reloaded once loaded. */
  refreshMs?: number;
  /** How soon a failed load is tried again. */
  retryMs?: number;
}

/** Slack's limit on an external select's options. */
export const MAX_SUGGESTIONS = 100;
/** Just past the broker cache's day, so the reload fetches a fresh list rather than the cached one. */
const DAY_MS = 24 * 60 * 60 * 1000 + 60_000;
const RETRY_MS = 5 * 60 * 1000;
/** Longer queries are no ticker or name anyone types; cutting them keeps every request cheap. */
const MAX_QUERY_LENGTH = 60;

interface IndexedAsset extends SymbolMatch {
  /** Upper-cased ticker. */
  key: string;
  /** The name's words, lower-cased, in order. */
  words: string[];
  /** Place in the order shorter tickers first, then alphabetical: ranking compares integers, not strings. */
  rank: number;
  /** The last query that looked at this asset (instead of a Set per query), and where its name matched. */
  seen: number;
  position: number;
}

interface NameWord {
  word: string;
  asset: IndexedAsset;
  /** The word's first place in the name. */
  position: number;
}

interface SymbolIndex {
  /** Tradable assets by ticker, ascending, for a binary search on the prefix. */
  byTicker: IndexedAsset[];
  /** The same assets by rank. */
  byRank: IndexedAsset[];
  queries: number;
  /** Every word of every name, ascending, for a binary search on a query word's prefix. */
  byWord: NameWord[];
}

const WORD_SPLIT = /[^\p{L}\p{N}&]+/u;

function wordsOf(text: string): string[] {
  return text.toLowerCase().split(WORD_SPLIT).filter(Boolean);
}

/** Builds the in-memory index; only active, tradable assets are offered. */
export function buildSymbolIndex(assets: readonly BrokerAsset[]): SymbolIndex {
  const byTicker = assets
    .filter((a) => a.tradable && a.status === 'active' && a.symbol)
    .map((a) => ({
      symbol: a.symbol,
      name: a.name,
      key: a.symbol.toUpperCase(),
      words: wordsOf(a.name),
      rank: 0,
      seen: 0,
      position: 0,
    }))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const byRank = [...byTicker].sort((a, b) => a.key.length - b.key.length || (a.key < b.key ? -1 : 1));
  byRank.forEach((asset, rank) => {
    asset.rank = rank;
  });
  const byWord = byTicker
    .flatMap((asset) => [...new Set(asset.words)].map((word) => ({ word, asset, position: asset.words.indexOf(word) })))
    .sort((a, b) => (a.word < b.word ? -1 : a.word > b.word ? 1 : 0));
  return { byTicker, byRank, byWord, queries: 0 };
}

/** Index of the first entry whose key is ≥ `prefix`. */
function lowerBound<T>(list: readonly T[], key: (item: T) => string, prefix: string): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (key(list[mid]!) < prefix) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const tickerKey = (a: IndexedAsset) => a.key;
const wordKey = (w: NameWord) => w.word;

/**
 * Ranks the index for a query: tickers starting with it first (the exact ticker, then shorter
 * tickers, then alphabetical), then assets whose name has a word starting with each query word
 * (earlier words first, then shorter tickers), at most `limit`.
 */
export function searchSymbolIndex(index: SymbolIndex, rawQuery: string, limit = MAX_SUGGESTIONS): SymbolMatch[] {
  const query = rawQuery.trim().slice(0, MAX_QUERY_LENGTH);
  if (query === '' || limit <= 0) return [];
  const stamp = ++index.queries;
  const prefix = query.toUpperCase();
  const list = index.byTicker;
  const tickers: number[] = [];
  for (let i = lowerBound(list, tickerKey, prefix); i < list.length && list[i]!.key.startsWith(prefix); i += 1) {
    list[i]!.seen = stamp;
    list[i]!.position = -1;
    tickers.push(list[i]!.rank);
  }
  // Rank order puts the exact ticker (the shortest with this prefix) first, then shorter tickers.
  const results: SymbolMatch[] = [...Float64Array.from(tickers).sort().subarray(0, limit)].map((r) =>
    match(index.byRank[r]!),
  );
  const queryWords = wordsOf(query);
  if (results.length >= limit || queryWords.length === 0) return results;

  // Candidates: names with a word starting with the first query word; the rest of the query is checked on those.
  // Each is keyed position × assets + rank, so one numeric sort ranks them.
  const size = index.byRank.length;
  const candidates: IndexedAsset[] = [];
  const first = queryWords[0]!;
  const words = index.byWord;
  const single = queryWords.length === 1;
  for (let i = lowerBound(words, wordKey, first); i < words.length && words[i]!.word.startsWith(first); i += 1) {
    const { asset, position } = words[i]!;
    if (asset.seen === stamp) {
      // Several of its words start with the query: the earliest counts (-1: a ticker match, or no full match).
      if (single && asset.position > position) asset.position = position;
      continue;
    }
    asset.seen = stamp;
    // One word (the usual case) needs no scan of the name: the entry knows its place.
    asset.position = single ? position : namePosition(asset.words, queryWords);
    if (asset.position >= 0) candidates.push(asset);
  }
  const named = candidates.map((asset) => asset.position * size + asset.rank);
  for (const key of Float64Array.from(named)
    .sort()
    .subarray(0, limit - results.length)) {
    results.push(match(index.byRank[key % size]!));
  }
  return results;
}

function match(asset: SymbolMatch): SymbolMatch {
  return { symbol: asset.symbol, name: asset.name };
}

/**
 * Where the query's words start matching the name (each query word a prefix of a later name
 * word, in order), or -1.
 */
function namePosition(nameWords: readonly string[], queryWords: readonly string[]): number {
  for (let start = 0; start < nameWords.length; start += 1) {
    if (!nameWords[start]!.startsWith(queryWords[0]!)) continue;
    let next = start + 1;
    let all = true;
    for (let q = 1; q < queryWords.length && all; q += 1) {
      while (next < nameWords.length && !nameWords[next]!.startsWith(queryWords[q]!)) next += 1;
      if (next >= nameWords.length) all = false;
      else next += 1;
    }
    if (all) return start;
  }
  return -1;
}

/** The index behind the order form's symbol field: loaded at start, reloaded daily, retried after a failure. */
export class SymbolSearch {
  private index?: SymbolIndex;
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private loading?: Promise<boolean>;
  private readonly refreshMs: number;
  private readonly retryMs: number;

  constructor(
    private readonly broker: Pick<Broker, 'listAssets'>,
    private readonly logger: Logger,
    options: SymbolSearchOptions = {},
  ) {
    this.refreshMs = options.refreshMs ?? DAY_MS;
    this.retryMs = options.retryMs ?? RETRY_MS;
  }

  /** Loads the list in the background and keeps it fresh until stop(); never throws. */
  start(): void {
    this.stopped = false;
    void this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** Loads the asset list now; resolves true when it loaded. Concurrent calls share one load. */
  refresh(): Promise<boolean> {
    this.loading ??= this.broker
      .listAssets()
      .then(
        (assets) => {
          this.index = buildSymbolIndex(assets);
          this.logger.info({ assets: this.index.byTicker.length }, 'symbol search index loaded');
          return true;
        },
        (err: unknown) => {
          this.logger.warn({ err: describeError(err) }, 'could not load the asset list for symbol search; retrying');
          return false;
        },
      )
      .then((ok) => {
        this.loading = undefined;
        this.schedule(ok ? this.refreshMs : this.retryMs);
        return ok;
      });
    return this.loading;
  }

  /** Suggestions for what the trader has typed so far, from memory. */
  suggest(query: string, limit = MAX_SUGGESTIONS): SymbolSuggestions {
    const index = this.index;
    if (!index) return { matches: [], exact: false };
    const matches = searchSymbolIndex(index, query, limit);
    const wanted = query.trim().toUpperCase();
    return { matches, exact: matches[0]?.symbol.toUpperCase() === wanted };
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.refresh(), ms);
    this.timer.unref();
  }
}
