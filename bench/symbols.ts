import { performance } from 'node:perf_hooks';
import type { BrokerAsset } from '../src/domain/market';
import { buildSymbolIndex, searchSymbolIndex } from '../src/services/symbol-search';
import { buildSymbolOptions, SYMBOL_ACTION_ID } from '../src/slack/trade/order-modal';
import { startAlpacaStandIn } from '../test/support/alpaca-standin';
import { testDatabaseTargets } from '../test/support/databases';
import { type LaunchedApp, launchApp } from '../test/support/launch';
import { percentile, sleep } from './stats';
import type { BenchRow } from './table';

/** Alpaca lists about 11–12 thousand active US equities. */
export const ASSET_COUNT = 11_800;
const SERVICE_QUERIES = 20_000;
const ROUND_TRIP_QUERIES = 1_000;
const GOAL_P99_MS = 20;

/** A small deterministic generator (mulberry32), so every run measures the same list and queries. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STEMS = [
  ...['Apple', 'Micro', 'Global', 'American', 'First', 'United', 'National', 'Pacific', 'Atlantic', 'Energy'],
  ...['Bio', 'Gen', 'Tech', 'Data', 'Cloud', 'Solar', 'Pharma', 'Thera', 'Medi', 'Health', 'Capital'],
  ...['Financial', 'Realty', 'Mining', 'Gold', 'Silver', 'Oil', 'Gas', 'Motor', 'Auto', 'Air', 'Ocean'],
  ...['Digital', 'Quantum', 'Nova', 'Apex', 'Summit', 'Pioneer', 'Frontier', 'Liberty', 'Eagle', 'Star'],
];
const KINDS = [
  ...['Holdings', 'Technologies', 'Therapeutics', 'Pharmaceuticals', 'Bancorp', 'Systems', 'Industries'],
  ...['Group', 'Partners', 'Resources', 'Networks', 'Semiconductor', 'Software', 'Brands', 'Foods'],
];
const SUFFIXES = ['Inc. Common Stock', 'Corp. Common Stock', 'Ltd. Ordinary Shares', 'Class A Common Stock', 'ETF'];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Tickers of 1–5 letters in Alpaca's proportions (mostly 3–4), names of two or three words and a suffix. */
export function generateAssets(count = ASSET_COUNT, seed = 12): BrokerAsset[] {
  const next = random(seed);
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!;
  const lengths = [1, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 5, 5];
  const seen = new Set<string>();
  const assets: BrokerAsset[] = [];
  while (assets.length < count) {
    const length = pick(lengths);
    let symbol = '';
    for (let i = 0; i < length; i += 1) symbol += pick([...LETTERS]);
    if (seen.has(symbol)) continue;
    seen.add(symbol);
    const name = `${pick(STEMS)}${next() < 0.5 ? pick(STEMS).toLowerCase() : ''} ${pick(KINDS)} ${pick(SUFFIXES)}`;
    assets.push({
      symbol,
      name,
      exchange: pick(['NASDAQ', 'NYSE', 'ARCA', 'AMEX']),
      tradable: next() > 0.03,
      fractionable: next() > 0.3,
      shortable: true,
      status: 'active',
    });
  }
  return assets;
}

/** Half ticker prefixes of 1–5 letters, half company-name words (whole, or their first letters). */
function queries(assets: readonly BrokerAsset[], count: number, seed: number): string[] {
  const next = random(seed);
  const out: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const asset = assets[Math.floor(next() * assets.length)]!;
    if (i % 2 === 0) {
      out.push(asset.symbol.slice(0, 1 + Math.floor(next() * Math.min(5, asset.symbol.length))).toLowerCase());
    } else {
      const words = asset.name.split(' ');
      const word = words[Math.floor(next() * words.length)]!;
      out.push(next() < 0.5 ? word : word.slice(0, Math.max(1, Math.ceil(word.length / 2))));
    }
  }
  return out;
}

function stats(bench: string, what: string, samples: number[], note: string): BenchRow[] {
  const fmt = (v: number) => `${v.toFixed(2)} ms`;
  const p99 = percentile(samples, 99);
  return [
    { bench, metric: `${what} p50`, value: fmt(percentile(samples, 50)), note },
    {
      bench,
      metric: `${what} p99`,
      value: fmt(p99),
      note: `goal ≤ ${GOAL_P99_MS} ms: ${p99 <= GOAL_P99_MS ? 'met' : 'MISSED'}`,
    },
    { bench, metric: `${what} max`, value: fmt(Math.max(...samples)), note: `${samples.length} queries` },
  ];
}

/** The service alone: ranking plus the Block Kit answer, over the full list, in this process. */
function benchService(assets: readonly BrokerAsset[]): BenchRow[] {
  const builtAt = performance.now();
  const index = buildSymbolIndex(assets);
  const buildMs = performance.now() - builtAt;
  const samples: number[] = [];
  for (const query of queries(assets, SERVICE_QUERIES, 7)) {
    const started = performance.now();
    const matches = searchSymbolIndex(index, query);
    buildSymbolOptions({ typed: query, matches, offerTyped: matches[0]?.symbol !== query.toUpperCase() });
    samples.push(performance.now() - started);
  }
  return [
    { bench: 'symbols', metric: 'index build', value: `${buildMs.toFixed(1)} ms`, note: `${assets.length} assets` },
    ...stats('symbols', 'suggest (service)', samples, 'ranking + options, in process'),
  ];
}

/** block_suggestion → Bolt → the app's options listener → ack, over the stand-in's socket, app in this process. */
async function benchRoundTrip(assets: readonly BrokerAsset[]): Promise<BenchRow[]> {
  const db = await testDatabaseTargets()[0]!.create();
  const alpaca = await startAlpacaStandIn({ marketOpen: true, defaultAssets: false });
  for (const a of assets) {
    alpaca.addAsset({
      symbol: a.symbol,
      name: a.name,
      exchange: a.exchange as 'NASDAQ',
      tradable: a.tradable,
      fractionable: a.fractionable,
      status: a.status,
    });
  }
  let t: LaunchedApp | undefined;
  try {
    t = await launchApp({ database: db.target, alpaca, env: { LOG_LEVEL: 'warn' } });
    const app = t;
    const command = await app.slack.slashCommand({ command: '/trade' });
    const open = await app.slack.waitForCall('views.open', (c) => c.args.trigger_id === command.triggerId);
    const viewId = (open.response as { view: { id: string } }).view.id;
    const probe = assets.find((a) => a.tradable)!.symbol;
    const deadline = Date.now() + 60_000;
    // The index loads in the background at start-up; wait until it answers with a listed ticker.
    for (;;) {
      const ack = await app.slack.blockSuggestion({ viewId, actionId: SYMBOL_ACTION_ID, value: probe });
      const first = (ack.ackPayload?.options as { value: string }[] | undefined)?.[0]?.value;
      if (first === probe) break;
      if (Date.now() > deadline) throw new Error('the symbol index did not load within 60 s');
      await sleep(100);
    }
    const samples: number[] = [];
    for (const value of queries(assets, ROUND_TRIP_QUERIES, 11)) {
      const started = performance.now();
      await app.slack.blockSuggestion({ viewId, actionId: SYMBOL_ACTION_ID, value });
      samples.push(performance.now() - started);
    }
    return stats('symbols', 'suggest (round trip)', samples, 'socket → Bolt → listener → ack');
  } finally {
    await t?.stop();
    await alpaca.close();
    await db.drop();
  }
}

export async function benchSymbols(): Promise<BenchRow[]> {
  const assets = generateAssets();
  return [...benchService(assets), ...(await benchRoundTrip(assets))];
}
