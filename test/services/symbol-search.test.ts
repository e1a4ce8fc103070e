import { describe, expect, it } from 'vitest';
import type { BrokerAsset } from '../../src/domain/market';
import { createLogger } from '../../src/logger';
import { buildSymbolIndex, SymbolSearch, searchSymbolIndex } from '../../src/services/symbol-search';

function asset(symbol: string, name: string, overrides: Partial<BrokerAsset> = {}): BrokerAsset {
  return {
    symbol,
    name,
    exchange: 'NASDAQ',
    tradable: true,
    fractionable: true,
    shortable: true,
    status: 'active',
    ...overrides,
  };
}

const ASSETS = [
  asset('AAPL', 'Apple Inc. Common Stock'),
  asset('AAP', 'Advance Auto Parts Inc.'),
  asset('AAPU', 'Direxion Daily AAPL Bull 2X Shares'),
  asset('A', 'Agilent Technologies Inc.'),
  asset('APLE', 'Apple Hospitality REIT, Inc.'),
  asset('PEGY', 'Pineapple Energy Inc.'),
  asset('GOOGL', 'Alphabet Inc. Class A Common Stock'),
  asset('GOOG', 'Alphabet Inc. Class C Capital Stock'),
  asset('OLD', 'Apple Old Corp', { status: 'inactive' }),
  asset('NOPE', 'Apple Untradable', { tradable: false }),
];

const symbols = (query: string, limit?: number) =>
  searchSymbolIndex(buildSymbolIndex(ASSETS), query, limit).map((m) => m.symbol);

const quietLogger = createLogger({ level: 'silent', secrets: [] });

describe('searchSymbolIndex', () => {
  it('ranks ticker prefixes first: the exact ticker, then shorter tickers, then alphabetical', () => {
    expect(symbols('aap')).toEqual(['AAP', 'AAPL', 'AAPU']);
    expect(symbols('A').slice(0, 4)).toEqual(['A', 'AAP', 'AAPL', 'AAPU']);
    expect(symbols('goog')).toEqual(['GOOG', 'GOOGL']);
  });

  it('then matches company names by word prefix, case-insensitively, earlier words first', () => {
    expect(symbols('apple')).toEqual(['AAPL', 'APLE']);
    expect(symbols('alphabet class a')).toEqual(['GOOGL']);
    expect(symbols('alph cl')).toEqual(['GOOG', 'GOOGL']);
    // After the tickers starting with "A", the names with a word starting with "a".
    expect(symbols('a')).toContain('GOOG');
  });

  it('offers only active, tradable assets, at most the limit, and nothing for a blank query', () => {
    expect(symbols('old')).toEqual([]);
    expect(symbols('untradable')).toEqual([]);
    expect(symbols('a', 2)).toEqual(['A', 'AAP']);
    expect(symbols('   ')).toEqual([]);
  });
});

describe('SymbolSearch', () => {
  it('suggests nothing until Alpaca answers, retries, and reloads on schedule', async () => {
    let calls = 0;
    let fail = true;
    const broker = {
      listAssets: async () => {
        calls += 1;
        if (fail) throw new Error('Alpaca is down');
        return ASSETS;
      },
    };
    const search = new SymbolSearch(broker, quietLogger, { retryMs: 10, refreshMs: 60_000 });
    expect(search.suggest('aapl')).toEqual({ matches: [], exact: false });
    expect(await search.refresh()).toBe(false);
    fail = false;
    search.start();
    await expect.poll(() => search.suggest('AAPL').exact).toBe(true);
    search.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
    const found = search.suggest('AAPL');
    expect(found.matches[0]).toEqual({ symbol: 'AAPL', name: 'Apple Inc. Common Stock' });
    expect(search.suggest('zzz')).toEqual({ matches: [], exact: false });
  });
});
