import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AlpacaStandIn, startAlpacaStandIn } from '../support/alpaca-standin';
import { freePort, isolatedWorkingDirectory, REPO_ROOT, startProgram } from '../support/app-process';
import { appEnvironment } from '../support/launch';
import { type SlackStandIn, startSlackStandIn } from '../support/slack-standin';

/** Distinctive fake secrets: none of them may ever appear in the process's output. */
const SECRETS = {
  botToken: 'xoxb-test-bot-SECRETBOTvalue',
  appToken: 'xapp-test-app-SECRETAPPvalue',
  keyId: 'PKSECRETKEYID',
  secretKey: 'SECRETalpacaSECRETalpacaSECRETalpaca1234',
};

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Runs the app exactly as `npm start` does, with only the given environment and no `.env`. */
function startProcess(env: Record<string, string>, cwd?: string): Started {
  const child = startProgram(env, { cwd });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on('exit', (code, signal) => res({ code, signal })),
  );
  return { child, output: () => out, exited };
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('npm start as a process', () => {
  let slack: SlackStandIn;
  let alpaca: AlpacaStandIn;
  let dir: string;

  beforeAll(async () => {
    slack = await startSlackStandIn({ botToken: SECRETS.botToken, appToken: SECRETS.appToken });
    alpaca = await startAlpacaStandIn({ keyId: SECRETS.keyId, secretKey: SECRETS.secretKey });
    dir = await mkdtemp(join(tmpdir(), 'slack-oms-proc-'));
  });
  afterAll(async () => {
    await slack?.close();
    await alpaca?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it(
    'creates the SQLite database, connects, serves /health, ' + 'never prints a secret, and exits 0 on SIGTERM',
    async () => {
      const dbPath = join(dir, 'nested', 'slack-oms.sqlite');
      const env = appEnvironment({
        slack,
        alpaca,
        database: { kind: 'sqlite', url: dbPath },
        useAlpaca: true,
        extra: { LOG_LEVEL: 'debug' },
      });
      const proc = startProcess(env);
      try {
        await waitFor(() => /ready — /.test(proc.output()), 30_000, 'the ready line');
        expect(existsSync(dbPath)).toBe(true);
        const port = /health on :(\d+)/.exec(proc.output())?.[1];
        const res = await fetch(`http://127.0.0.1:${port}/health`);
        expect(res.status).toBe(200);
        await slack.appHomeOpened('U0TESTUSER');

        const stopAt = Date.now();
        proc.child.kill('SIGTERM');
        const { code } = await proc.exited;
        expect(code).toBe(0);
        expect(Date.now() - stopAt).toBeLessThan(10_000);
      } finally {
        proc.child.kill('SIGKILL');
      }
      const out = proc.output();
      for (const secret of Object.values(SECRETS)) expect(out).not.toContain(secret);
      for (const line of out.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    },
  );

  it('refuses bad configuration with one message naming every bad variable, without echoing values', async () => {
    const proc = startProcess({
      SLACK_BOT_TOKEN: SECRETS.appToken,
      SLACK_APP_TOKEN: '',
      ALPACA_API_KEY_ID: SECRETS.keyId,
      ALPACA_BASE_URL: 'https://api.alpaca.markets',
      PORT: 'eighty',
      DATABASE_URL: join(dir, 'no-scheme.sqlite'),
    });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const out = proc.output();
    for (const name of [
      'SLACK_BOT_TOKEN',
      'SLACK_APP_TOKEN',
      'ALPACA_SECRET_KEY',
      'ALPACA_BASE_URL',
      'PORT',
      'DATABASE_URL',
    ]) {
      expect(out).toContain(name);
    }
    expect(out.match(/Slack OMS cannot start/g)).toHaveLength(1);
    for (const secret of Object.values(SECRETS)) expect(out).not.toContain(secret);
  });

  it('refuses a DATABASE_URL with an unencoded # in the password before anything can print it', async () => {
    const password = 'ab#SECRETdbPASSWORD';
    const env = appEnvironment({
      slack,
      alpaca,
      database: { kind: 'sqlite', url: join(dir, 'unused.sqlite') },
      useAlpaca: true,
    });
    const proc = startProcess({ ...env, DATABASE_URL: `postgresql://oms:${password}@127.0.0.1:5432/oms` });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const out = proc.output();
    expect(out.match(/Slack OMS cannot start/g)).toHaveLength(1);
    expect(out).toMatch(/DATABASE_URL: .*percent-encode/);
    expect(out).toContain('# → %23');
    for (const leak of ['SECRETdbPASSWORD', 'oms:ab', ...Object.values(SECRETS)]) expect(out).not.toContain(leak);
  });

  it('a first run on .env copied from .env.example unedited: one line naming the placeholders, exit 1', async () => {
    const cwd = isolatedWorkingDirectory();
    await copyFile(join(REPO_ROOT, '.env.example'), join(cwd, '.env'));
    const proc = startProcess({}, cwd);
    const { code } = await proc.exited;
    expect(code).toBe(1);
    const lines = proc.output().trim().split('\n');
    expect(lines.filter((l) => /placeholder/.test(l))).toEqual([
      '  - SLACK_BOT_TOKEN, SLACK_APP_TOKEN, ALPACA_API_KEY_ID, ALPACA_SECRET_KEY: still the placeholders from ' +
        '.env.example — put in your own values (README: "Slack setup" and "Alpaca paper keys")',
    ]);
    expect(proc.output()).not.toMatch(/retrying|fetch failed|"level"/);
  });

  it('says in one sentence that Slack cannot be reached, and exits 1 within seconds', async () => {
    const env = appEnvironment({
      slack,
      alpaca,
      database: { kind: 'sqlite', url: join(dir, 'no-slack.sqlite') },
      useAlpaca: true,
    });
    const closed = await freePort();
    const startedAt = Date.now();
    const proc = startProcess({ ...env, SLACK_API_URL: `http://127.0.0.1:${closed}/api/` });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    expect(Date.now() - startedAt).toBeLessThan(20_000);
    expect(proc.output()).toContain(
      `Could not reach Slack at http://127.0.0.1:${closed}/api/ (ECONNREFUSED). ` +
        'Check the network (a proxy or firewall) and SLACK_API_URL.',
    );
  });

  it('says in one sentence that Alpaca cannot be reached, and keeps serving Slack', async () => {
    const env = appEnvironment({
      slack,
      alpaca,
      database: { kind: 'sqlite', url: join(dir, 'no-alpaca.sqlite') },
      useAlpaca: true,
    });
    const closed = await freePort();
    const proc = startProcess({
      ...env,
      ALPACA_BASE_URL: `http://127.0.0.1:${closed}`,
      ALPACA_DATA_URL: `http://127.0.0.1:${closed}`,
    });
    try {
      await waitFor(() => /ready — /.test(proc.output()), 30_000, 'the ready line');
      expect(proc.output()).toContain(`Could not reach Alpaca at http://127.0.0.1:${closed} (`);
      expect(proc.output()).toContain('Check the network and ALPACA_BASE_URL');
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  it('says which port is taken, and exits 1', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '0.0.0.0', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const env = appEnvironment({
        slack,
        alpaca,
        database: { kind: 'sqlite', url: join(dir, 'port-taken.sqlite') },
        useAlpaca: true,
      });
      const proc = startProcess({ ...env, PORT: String(port) });
      const { code } = await proc.exited;
      expect(code).toBe(1);
      expect(proc.output()).toContain(
        `Port ${port} is already in use (another Slack OMS, or another server): stop it or set PORT.`,
      );
      expect(proc.output()).not.toContain('EADDRINUSE');
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('explains a refused Slack token and exits non-zero', async () => {
    const env = appEnvironment({
      slack,
      alpaca,
      database: { kind: 'sqlite', url: join(dir, 'refused.sqlite') },
      useAlpaca: true,
    });
    const proc = startProcess({ ...env, SLACK_BOT_TOKEN: 'xoxb-wrong-token-value' });
    const { code } = await proc.exited;
    expect(code).toBe(1);
    expect(proc.output()).toContain('Slack refused the bot token');
    expect(proc.output()).not.toContain('xoxb-wrong-token-value');
  });
});
