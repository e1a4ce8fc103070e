import { benchApi } from './api';
import { benchChart } from './chart';
import { benchOutage } from './outage';
import { benchPortfolio } from './portfolio';
import { benchReconcile } from './reconcile';
import { benchStartup } from './startup';
import { benchSymbols } from './symbols';
import { type BenchRow, printTable } from './table';
import { benchTrade } from './trade';
import { benchTraders } from './traders';

// test/support/databases.ts reads TEST_DATABASE_URL; BENCH_DATABASE_URL names the bench's own server.
if (!process.env.TEST_DATABASE_URL && process.env.BENCH_DATABASE_URL)
  process.env.TEST_DATABASE_URL = process.env.BENCH_DATABASE_URL;

const BENCHES: [string, () => Promise<BenchRow[]>][] = [
  ['startup', benchStartup],
  ['trade', benchTrade],
  ['portfolio', benchPortfolio],
  ['reconcile', benchReconcile],
  ['outage', benchOutage],
  ['api', benchApi],
  ['chart', benchChart],
  ['symbols', benchSymbols],
  ['traders', benchTraders],
];

// `npm run bench -- reconcile portfolio` runs only the benches named; no names runs them all.
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES.some(([name]) => name === w));
if (unknown.length > 0) {
  process.stderr.write(
    `bench: no bench named ${unknown.join(', ')}; choose from ${BENCHES.map(([name]) => name).join(', ')}\n`,
  );
  process.exit(2);
}

const rows: BenchRow[] = [];
let failed = false;
for (const [name, bench] of BENCHES.filter(([n]) => wanted.length === 0 || wanted.includes(n))) {
  const startedAt = Date.now();
  process.stderr.write(`bench: ${name}…\n`);
  try {
    rows.push(...(await bench()));
  } catch (err) {
    failed = true;
    rows.push({
      bench: name,
      metric: 'error',
      value: 'failed',
      note: err instanceof Error ? err.message : String(err),
    });
  }
  process.stderr.write(`bench: ${name} done in ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`);
}
printTable(rows);
// Everything the benches started is closed; the explicit exit keeps a stray library timer from delaying the result.
process.exit(failed ? 1 : 0);
