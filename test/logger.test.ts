import { Writable } from 'node:stream';
import type { DestinationStream } from 'pino';
import { describe, expect, it, vi } from 'vitest';
import { createLogger } from '../src/logger';

const FAKE_KEY_ID = 'PKFAKEKEYQQ77ZZ';
const FAKE_SECRET_KEY = 'fakeAlpacaSecretQQ77ZZabcdefghijklmn';
const FAKE_BOT_TOKEN = 'xoxb-test-bot-fakeBotQQ77ZZ';
const FAKE_APP_TOKEN = 'xapp-test-app-fakeAppQQ77ZZ';
const SECRETS = [FAKE_KEY_ID, FAKE_SECRET_KEY, FAKE_BOT_TOKEN, FAKE_APP_TOKEN];

type LogLine = Record<string, unknown>;

/** A pino destination that keeps every written line in memory. */
function memoryDestination(): DestinationStream & { lines: string[]; records: () => LogLine[] } {
  const lines: string[] = [];
  return {
    lines,
    write(chunk: string) {
      lines.push(...chunk.split('\n').filter((line) => line.length > 0));
    },
    records: () => lines.map((line) => JSON.parse(line) as LogLine),
  };
}

function loggerWithMemory(level = 'info', secrets: readonly string[] = SECRETS) {
  const destination = memoryDestination();
  return { logger: createLogger({ level, secrets, destination }), destination };
}

function expectNoSecrets(lines: readonly string[], secrets: readonly string[] = SECRETS) {
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    for (const secret of secrets) expect(line).not.toContain(secret);
  }
}

describe('createLogger output', () => {
  it('writes one JSON object per line with the level name, time and message', () => {
    const { logger, destination } = loggerWithMemory();
    logger.info({ symbol: 'AAPL' }, 'order placed');
    logger.warn('slow broker');
    logger.error('broker down');
    const records = destination.records();
    expect(records).toHaveLength(3);
    expect(records.map((r) => r.level)).toEqual(['info', 'warn', 'error']);
    expect(records[0]).toMatchObject({ level: 'info', msg: 'order placed', symbol: 'AAPL', app: 'slack-oms' });
    expect(String(records[0]?.time)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });

  it('drops lines below the configured level', () => {
    const { logger, destination } = loggerWithMemory('warn');
    logger.debug('hidden');
    logger.info('hidden too');
    logger.warn('shown');
    expect(destination.records().map((r) => r.msg)).toEqual(['shown']);
  });

  it('keeps ordinary values intact', () => {
    const { logger, destination } = loggerWithMemory();
    logger.info({ order: { clientOrderId: 'slack-V123', qty: '1.5' } }, 'submitted');
    expect(destination.records()[0]).toMatchObject({
      order: { clientOrderId: 'slack-V123', qty: '1.5' },
      msg: 'submitted',
    });
  });
});

describe('createLogger redaction of listed secrets', () => {
  it('scrubs secrets from the message', () => {
    const { logger, destination } = loggerWithMemory();
    logger.info(`connecting with ${FAKE_KEY_ID}/${FAKE_SECRET_KEY}`);
    expectNoSecrets(destination.lines);
    expect(destination.records()[0]?.msg).toBe('connecting with [REDACTED]/[REDACTED]');
  });

  it('scrubs secrets from printf-style arguments', () => {
    const { logger, destination } = loggerWithMemory();
    logger.info('key %s secret %s', FAKE_KEY_ID, FAKE_SECRET_KEY);
    expectNoSecrets(destination.lines);
    expect(destination.records()[0]?.msg).toBe('key [REDACTED] secret [REDACTED]');
  });

  it('scrubs secrets from nested objects, arrays and keys', () => {
    const { logger, destination } = loggerWithMemory();
    logger.info(
      {
        request: { config: { headers: { 'APCA-API-KEY-ID': FAKE_KEY_ID, 'APCA-API-SECRET-KEY': FAKE_SECRET_KEY } } },
        deep: { a: { b: { c: [`prefix-${FAKE_SECRET_KEY}-suffix`] } } },
        [FAKE_KEY_ID]: 'as a key',
      },
      'request failed',
    );
    expectNoSecrets(destination.lines);
    const record = destination.records()[0];
    expect(record).toMatchObject({
      request: { config: { headers: { 'APCA-API-KEY-ID': '[REDACTED]', 'APCA-API-SECRET-KEY': '[REDACTED]' } } },
      deep: { a: { b: { c: ['prefix-[REDACTED]-suffix'] } } },
      '[REDACTED]': 'as a key',
    });
  });

  it('scrubs secrets from an error message, stack and cause', () => {
    const { logger, destination } = loggerWithMemory();
    const error = new Error(`401 for key ${FAKE_KEY_ID}`, { cause: new Error(`secret was ${FAKE_SECRET_KEY}`) });
    logger.error({ err: error }, 'alpaca rejected the credentials');
    expectNoSecrets(destination.lines);
    const err = destination.records()[0]?.err as { message: string; stack: string; type: string };
    expect(err.type).toBe('Error');
    expect(err.message).toContain('401 for key [REDACTED]');
    expect(err.stack).toContain('401 for key [REDACTED]');
    expect(destination.lines[0]).toContain('secret was [REDACTED]');
  });

  it('scrubs an error passed as the only argument', () => {
    const { logger, destination } = loggerWithMemory();
    logger.error(new Error(`bad secret ${FAKE_SECRET_KEY}`));
    expectNoSecrets(destination.lines);
    expect(destination.lines[0]).toContain('bad secret [REDACTED]');
  });

  it('scrubs secrets from child logger bindings', () => {
    const { logger, destination } = loggerWithMemory();
    logger.child({ keyId: FAKE_KEY_ID }).info('child line');
    expectNoSecrets(destination.lines);
    expect(destination.records()[0]).toMatchObject({ keyId: '[REDACTED]', msg: 'child line' });
  });

  it('scrubs every occurrence, including secrets with regex metacharacters', () => {
    const trickySecret = 'a.b*c+d?(e)[f]$';
    const { logger, destination } = loggerWithMemory('info', [trickySecret]);
    logger.info({ one: trickySecret, two: `${trickySecret}${trickySecret}` }, trickySecret);
    expectNoSecrets(destination.lines, [trickySecret]);
    expect(destination.records()[0]).toMatchObject({
      one: '[REDACTED]',
      two: '[REDACTED][REDACTED]',
      msg: '[REDACTED]',
    });
  });

  it('scrubs secrets whose characters JSON escapes (quote, backslash)', () => {
    const escapedSecret = 'pa"ss\\word-QQ77';
    const { logger, destination } = loggerWithMemory('info', [escapedSecret]);
    logger.info({ password: escapedSecret }, `login with ${escapedSecret}`);
    expectNoSecrets(destination.lines, [escapedSecret, JSON.stringify(escapedSecret).slice(1, -1), 'word-QQ77']);
    expect(destination.records()[0]).toMatchObject({ password: '[REDACTED]', msg: 'login with [REDACTED]' });
  });

  it('redacts token and authorization fields by name', () => {
    const { logger, destination } = loggerWithMemory('info', []);
    logger.info({ token: 'unlisted-value-1', headers: { authorization: 'Bearer unlisted-value-2' } }, 'call');
    expectNoSecrets(destination.lines, ['unlisted-value-1', 'unlisted-value-2']);
    expect(destination.records()[0]).toMatchObject({ token: '[REDACTED]', headers: { authorization: '[REDACTED]' } });
  });
});

describe('createLogger redaction of Slack token shapes', () => {
  it('scrubs xoxb- and xapp- tokens that were never listed as secrets', () => {
    const unlistedBot = 'xoxb-test-9999-8888-unlistedBotToken';
    const unlistedApp = 'xapp-test-9999-8888-unlistedAppToken';
    const unlistedUser = 'xoxp-test-7777-unlistedUserToken';
    const { logger, destination } = loggerWithMemory('info', []);
    logger.info({ client: { slackToken: unlistedBot } }, `opening socket with ${unlistedApp}`);
    logger.error(new Error(`invalid_auth for ${unlistedUser}`));
    expectNoSecrets(destination.lines, [unlistedBot, unlistedApp, unlistedUser, '9999-8888', 'unlisted']);
    expect(destination.records()[0]).toMatchObject({
      client: { slackToken: '[REDACTED]' },
      msg: 'opening socket with [REDACTED]',
    });
  });

  it('leaves words that merely contain the prefixes alone', () => {
    const { logger, destination } = loggerWithMemory('info', []);
    logger.info('the xapp token and the xoxb token are configured');
    expect(destination.records()[0]?.msg).toBe('the xapp token and the xoxb token are configured');
  });
});

describe('createLogger on a terminal (pretty)', () => {
  it('writes readable lines, not JSON, still with every secret scrubbed', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
        done();
      },
    });
    const logger = createLogger({ level: 'info', secrets: SECRETS, destination, pretty: true });
    logger.warn({ err: new Error(`refused ${FAKE_BOT_TOKEN}`) }, `could not reach Slack with ${FAKE_SECRET_KEY}`);
    // pino-pretty formats through a stream pipeline: the line arrives a tick later.
    await vi.waitFor(() => expect(lines.join('\n')).toMatch(/WARN.*could not reach Slack with \[REDACTED\]/));
    expect(lines.join('\n')).toContain('refused [REDACTED]');
    expect(lines[0]).not.toMatch(/^\{/);
    expectNoSecrets(lines);
  });
});
