import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ensureBuilt } from '../scripts/build.mjs';
import { startAlpacaStandIn } from '../test/support/alpaca-standin';
import { processUsage, programArgs, REPO_ROOT } from '../test/support/app-process';
import { appEnvironment } from '../test/support/launch';
import { type SlackStandIn, startSlackStandIn } from '../test/support/slack-standin';
import { median, ms, sleep } from './stats';
import type { BenchRow } from './table';

const RUNS = 3;
const HELP_COMMANDS = 100;
const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 15_000;
const READY_LINE = /ready — /;

interface StartupRun {
  readyMs: number;
  firstAckMs: number;
  rssReadyKb: number;
  rssAfterHelpKb: number;
  exitMs: number;
  exitCode: number | null;
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function sendHelpCommands(slack: SlackStandIn): Promise<void> {
  const urls = new Set<string>();
  for (let i = 0; i < HELP_COMMANDS; i += 1)
    urls.add((await slack.slashCommand({ command: '/trade', text: 'help' })).responseUrl);
  await waitFor(
    () => slack.responses.filter((r) => urls.has(r.url)).length >= urls.size,
    30_000,
    'the /trade help answers',
  );
}

/** How the app is run: `npm start` (the compiled build) or, for comparison, tsx on the sources as in development. */
const LAUNCHERS = {
  'npm start (compiled)': () => programArgs('main'),
  'tsx src/main.ts (npm run dev)': () => ['--import', import.meta.resolve('tsx'), join(REPO_ROOT, 'src', 'main.ts')],
} as const;
type Launcher = keyof typeof LAUNCHERS;

/**
 * One start: ready time, first answer, memory, shutdown time. On a fresh SQLite file unless
 * `databaseDir` holds one an earlier start made (a restart: nothing to migrate).
 */
async function startOnce(launcher: Launcher, databaseDir?: string): Promise<StartupRun> {
  const slack = await startSlackStandIn();
  const alpaca = await startAlpacaStandIn({ marketOpen: true });
  const dir = databaseDir ?? (await mkdtemp(join(tmpdir(), 'slack-oms-bench-')));
  let child: ChildProcess | undefined;
  try {
    // The ready line is logged at info; the output is kept in memory, never printed.
    const env = appEnvironment({
      slack,
      alpaca,
      database: { kind: 'sqlite', url: join(dir, 'bench.sqlite') },
      useAlpaca: true,
      extra: { LOG_LEVEL: 'info' },
    });
    const spawnedAt = performance.now();
    const proc = spawn(process.execPath, LAUNCHERS[launcher](), {
      cwd: dir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    let output = '';
    proc.stdout.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));

    await waitFor(() => READY_LINE.test(output) || proc.exitCode !== null, READY_TIMEOUT_MS, 'the ready line');
    if (!READY_LINE.test(output)) throw new Error(`the app exited before it was ready:\n${output.slice(-2000)}`);
    const readyMs = performance.now() - spawnedAt;
    const rssReadyKb = (await processUsage(proc.pid!)).rssKb;

    await slack.waitForConnection();
    const first = await slack.slashCommand({ command: '/trade', text: 'help' });
    await waitFor(() => slack.responses.some((r) => r.url === first.responseUrl), 30_000, 'the first answer');
    const firstAckMs = performance.now() - spawnedAt;
    await sendHelpCommands(slack);
    const rssAfterHelpKb = (await processUsage(proc.pid!)).rssKb;

    const stopAt = performance.now();
    proc.kill('SIGTERM');
    const exitCode = await Promise.race([
      exited,
      sleep(EXIT_TIMEOUT_MS).then(() => Promise.reject(new Error('no exit within 15 s of SIGTERM'))),
    ]);
    return { readyMs, firstAckMs, rssReadyKb, rssAfterHelpKb, exitMs: performance.now() - stopAt, exitCode };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await slack.close();
    await alpaca.close();
    if (!databaseDir) await rm(dir, { recursive: true, force: true });
  }
}

function mb(kb: number): string {
  return `${(kb / 1024).toFixed(1)} MB`;
}

function spread(values: number[], format: (v: number) => string): string {
  return `median of ${values.length}; runs: ${values.map(format).join(', ')}`;
}

function startupRows(bench: string, runs: StartupRun[]): BenchRow[] {
  const ready = runs.map((r) => r.readyMs);
  const firstAck = runs.map((r) => r.firstAckMs);
  const rssReady = runs.map((r) => r.rssReadyKb);
  const rssHelp = runs.map((r) => r.rssAfterHelpKb);
  const exit = runs.map((r) => r.exitMs);
  const codes = [...new Set(runs.map((r) => String(r.exitCode)))].join('/');
  return [
    { bench, metric: 'spawn → "ready — " line', value: ms(median(ready)), note: spread(ready, ms) },
    {
      bench,
      metric: 'spawn → first /trade answered',
      value: ms(median(firstAck)),
      note: `${spread(firstAck, ms)}; goal ≤ 1000 ms`,
    },
    { bench, metric: 'RSS after ready', value: mb(median(rssReady)), note: `${spread(rssReady, mb)}; goal ≤ 150 MB` },
    {
      bench,
      metric: `RSS after ${HELP_COMMANDS} /trade help`,
      value: mb(median(rssHelp)),
      note: `${spread(rssHelp, mb)}; goal ≤ 150 MB`,
    },
    { bench, metric: 'SIGTERM → exit', value: ms(median(exit)), note: `${spread(exit, ms)}; exit code ${codes}` },
  ];
}

async function repeat(times: number, start: () => Promise<StartupRun>): Promise<StartupRun[]> {
  const runs: StartupRun[] = [];
  for (let i = 0; i < times; i += 1) runs.push(await start());
  return runs;
}

/**
 * The compiled start three ways: the first start after a build (V8's code cache not written yet),
 * starts on a fresh database (every migration runs), and restarts on an existing one (the usual
 * start). tsx on the sources, fresh database, for comparison.
 */
export async function benchStartup(): Promise<BenchRow[]> {
  const compiled: Launcher = 'npm start (compiled)';
  const dev: Launcher = 'tsx src/main.ts (npm run dev)';
  await rm(join(await ensureBuilt(), 'main.cjs.v8-cache'), { force: true });
  const firstAfterBuild = await repeat(1, () => startOnce(compiled));
  const fresh = await repeat(RUNS, () => startOnce(compiled));
  const databaseDir = await mkdtemp(join(tmpdir(), 'slack-oms-bench-'));
  let restarts: StartupRun[];
  try {
    await startOnce(compiled, databaseDir);
    restarts = await repeat(RUNS, () => startOnce(compiled, databaseDir));
  } finally {
    await rm(databaseDir, { recursive: true, force: true });
  }
  const tsx = await repeat(RUNS, () => startOnce(dev));
  return [
    ...startupRows(`startup: ${compiled}, restart on an existing SQLite database`, restarts),
    ...startupRows(`startup: ${compiled}, fresh SQLite (every migration runs)`, fresh),
    ...startupRows(
      `startup: ${compiled}, first start after a build (no code cache yet), fresh SQLite`,
      firstAfterBuild,
    ),
    ...startupRows(`startup: ${dev}, fresh SQLite`, tsx),
    {
      bench: 'startup: compiled vs tsx',
      metric: 'ready time, compiled ÷ tsx, fresh SQLite',
      value: (median(fresh.map((r) => r.readyMs)) / median(tsx.map((r) => r.readyMs))).toFixed(2),
      note: 'same run, same machine; below 1 means the compiled start is quicker',
    },
  ];
}
