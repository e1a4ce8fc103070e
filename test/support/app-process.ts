import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { DatabaseTarget } from '../../src/config';
import { type AlpacaStandIn, type AlpacaStandInOptions, startAlpacaStandIn } from './alpaca-standin';
import { appEnvironment, LogCapture } from './launch';
import { type SlackStandIn, startSlackStandIn } from './slack-standin';

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * The arguments for `node` that run a program exactly as `npm start`, `npm run migrate` and
 * `npm run api-key` do: the compiled build, made first when the sources changed.
 */
export function programArgs(program: 'main' | 'migrate' | 'api-key', ...args: string[]): string[] {
  return [
    ...nodeOptionsOf(program === 'main' ? 'start' : program),
    join(REPO_ROOT, 'scripts', 'start.mjs'),
    program,
    ...args,
  ];
}

/** The options package.json's script passes to `node` before scripts/start.mjs (`npm start`'s heap settings). */
function nodeOptionsOf(script: string): string[] {
  const scripts = (
    JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  const words = scripts[script]?.split(/\s+/) ?? [];
  const start = words.indexOf('scripts/start.mjs');
  if (words[0] !== 'node' || start < 0)
    throw new Error(`package.json's "${script}" script does not run scripts/start.mjs`);
  return words.slice(1, start);
}

/**
 * A fresh working directory for a child process: it holds no `.env`, so a developer's own `.env`
 * (the quick start makes one) never reaches a test, and a default SQLite file lands there too.
 */
export function isolatedWorkingDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'slack-oms-cwd-'));
}

/**
 * Starts one program as `npm start` (or `npm run migrate`, `npm run api-key`) runs it, with only
 * `env` (plus PATH and HOME) and, unless `cwd` says otherwise, a fresh working directory.
 */
export function startProgram(
  env: Record<string, string>,
  options: { program?: 'main' | 'migrate' | 'api-key'; cwd?: string } = {},
): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(process.execPath, programArgs(options.program ?? 'main'), {
    cwd: options.cwd ?? isolatedWorkingDirectory(),
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The app in its own process, as `npm start` runs it, with the stand-ins in the caller's. */
export interface SpawnedApp {
  slack: SlackStandIn;
  alpaca: AlpacaStandIn;
  /** Every JSON line the app printed (LOG_LEVEL decides how many). */
  logs: LogCapture;
  baseUrl: string;
  /** The app process's resident set size and CPU time so far, from the kernel's own accounting. */
  usage(): Promise<{ rssKb: number; cpuMs: number }>;
  /** SIGTERM, then the stand-ins this launch created. */
  stop(): Promise<void>;
}

export interface SpawnOptions {
  database: DatabaseTarget;
  env?: Record<string, string>;
  slack?: SlackStandIn;
  alpaca?: AlpacaStandIn;
  alpacaOptions?: AlpacaStandInOptions;
}

const READY_TIMEOUT_MS = 60_000;
const EXIT_TIMEOUT_MS = 15_000;

export async function spawnApp(opts: SpawnOptions): Promise<SpawnedApp> {
  const slack = opts.slack ?? (await startSlackStandIn());
  const alpaca = opts.alpaca ?? (await startAlpacaStandIn({ marketOpen: true, ...opts.alpacaOptions }));
  // The port is chosen here, so readiness never depends on which lines LOG_LEVEL lets through.
  const port = await freePort();
  const env = appEnvironment({
    slack,
    alpaca,
    database: opts.database,
    useAlpaca: true,
    extra: { ...opts.env, PORT: String(port) },
  });
  const child = startProgram(env);
  const logs = new LogCapture();
  let errors = '';
  child.stdout.pipe(logs);
  child.stderr.on('data', (d: Buffer) => (errors += d.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  const stop = async () => {
    if (running()) {
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(EXIT_TIMEOUT_MS)]);
      if (running()) child.kill('SIGKILL');
    }
    if (!opts.slack) await slack.close();
    if (!opts.alpaca) await alpaca.close();
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (
      !(await fetch(`${baseUrl}/livez`).then(
        (r) => r.ok,
        () => false,
      ))
    ) {
      if (!running() || Date.now() > deadline) {
        throw new Error(`the app did not start:\n${(logs.text() + errors).slice(-2_000)}`);
      }
      await sleep(20);
    }
    await slack.waitForConnection();
  } catch (err) {
    await stop();
    throw err;
  }
  return { slack, alpaca, logs, baseUrl, usage: () => processUsage(child.pid!), stop };
}

/** A local port nothing listens on right now: connecting to it is refused at once. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** RSS (VmRSS) and user + system CPU time of a live process, from /proc. */
export async function processUsage(pid: number): Promise<{ rssKb: number; cpuMs: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!rss) throw new Error(`no VmRSS for process ${pid}`);
  // Fields 14 and 15 of /proc/<pid>/stat (after the parenthesised name) are utime and stime in ticks.
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  return { rssKb: Number(rss[1]), cpuMs: (ticks * 1000) / CLOCK_TICKS_PER_SECOND };
}

/** USER_HZ: 100 on Linux for every architecture Node supports. */
const CLOCK_TICKS_PER_SECOND = 100;
