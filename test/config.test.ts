import { readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { describe, expect, it } from 'vitest';
import {
  ALPACA_LIVE_HOST,
  CONFIG_VARIABLES,
  ConfigError,
  EXAMPLE_PLACEHOLDERS,
  loadConfig,
  loadDatabaseTarget,
  secretValues,
} from '../src/config';
import { databaseLabel } from '../src/db/orm';

/** The variables holding credentials, whose values must never be echoed, even in a validation error. */
const SECRET_VARIABLES = ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'ALPACA_API_KEY_ID', 'ALPACA_SECRET_KEY'] as const;

// Distinctive fake secrets: if any of them shows up in an error message, a value leaked.
const FAKE_BOT_TOKEN = 'xoxb-fake-bot-7h1s-1s-n0t-r3al';
const FAKE_APP_TOKEN = 'xapp-fake-app-7h1s-1s-n0t-r3al';
const FAKE_KEY_ID = 'PKFAKEKEYZZQQ';
const FAKE_SECRET_KEY = 'fakeSecretKeyZZQQ9911abcdefghijklmnop';

const REQUIRED_ENV = {
  SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
  SLACK_APP_TOKEN: FAKE_APP_TOKEN,
  ALPACA_API_KEY_ID: FAKE_KEY_ID,
  ALPACA_SECRET_KEY: FAKE_SECRET_KEY,
} as const;

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

/** The variable each problem names ("NAME: rule broken"). */
function problemVariables(error: ConfigError): string[] {
  return error.problems.map((problem) => problem.split(':')[0] ?? '').sort();
}

describe('loadConfig defaults', () => {
  it('applies every default from the design table when only the required variables are set', () => {
    const config = loadConfig({ ...REQUIRED_ENV });
    expect(config).toEqual({
      slack: { botToken: FAKE_BOT_TOKEN, appToken: FAKE_APP_TOKEN, apiUrl: 'https://slack.com/api/' },
      useAlpaca: true,
      alpaca: {
        keyId: FAKE_KEY_ID,
        secretKey: FAKE_SECRET_KEY,
        baseUrl: 'https://paper-api.alpaca.markets',
        dataUrl: 'https://data.alpaca.markets',
        streamUrl: 'wss://paper-api.alpaca.markets/stream',
        dataFeed: 'iex',
        allowLive: false,
      },
      database: { kind: 'sqlite', url: './data/slack-oms.sqlite' },
      port: 3000,
      reconcileCron: '*/15 9-16 * * 1-5',
      reconcileChannelId: undefined,
      digest: { cron: '15 16 * * 1-5', channelId: undefined },
      traderUserIds: [],
      adminUserIds: [],
      maxOrderNotional: '50000',
      api: { legacyKey: undefined, fillWaitMs: 10_000, ordersChannelId: undefined },
      approvals: {
        thresholdNotional: undefined,
        approverUserIds: [],
        channelId: undefined,
        ttlMinutes: 15,
        maxPriceMovePct: '2',
      },
      logLevel: 'info',
    });
  });

  it('treats blank values as unset', () => {
    const blanks = Object.fromEntries(CONFIG_VARIABLES.map((name) => [name, '  ']));
    expect(loadConfig({ ...blanks, ...REQUIRED_ENV })).toEqual(loadConfig({ ...REQUIRED_ENV }));
  });

  it('ignores variables it does not own', () => {
    expect(loadConfig({ ...REQUIRED_ENV, HOME: '/root', PATH: '/usr/bin' })).toEqual(loadConfig({ ...REQUIRED_ENV }));
  });

  it('returns a deeply frozen object', () => {
    const config = loadConfig({ ...REQUIRED_ENV, TRADER_USER_IDS: 'U0123ABC' });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.slack)).toBe(true);
    expect(Object.isFrozen(config.alpaca)).toBe(true);
    expect(Object.isFrozen(config.database)).toBe(true);
    expect(Object.isFrozen(config.traderUserIds)).toBe(true);
    expect(Object.isFrozen(config.adminUserIds)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('loadConfig errors', () => {
  it('reports every missing required variable in one ConfigError', () => {
    const error = configError({});
    expect(problemVariables(error)).toEqual([
      'ALPACA_API_KEY_ID',
      'ALPACA_SECRET_KEY',
      'SLACK_APP_TOKEN',
      'SLACK_BOT_TOKEN',
    ]);
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_APP_TOKEN', 'ALPACA_API_KEY_ID', 'ALPACA_SECRET_KEY']) {
      expect(error.message).toContain(name);
    }
    expect(error.name).toBe('ConfigError');
  });

  it('names every bad variable at once, cross-variable rules included', () => {
    const error = configError({
      SLACK_APP_TOKEN: FAKE_APP_TOKEN,
      ALPACA_API_KEY_ID: FAKE_KEY_ID,
      ALPACA_SECRET_KEY: FAKE_SECRET_KEY,
      ALPACA_BASE_URL: 'https://api.alpaca.markets',
      PORT: '70000',
      LOG_LEVEL: 'loud',
      ALPACA_DATA_FEED: 'opra',
      MAX_ORDER_NOTIONAL: '-5',
    });
    expect(problemVariables(error)).toEqual([
      'ALPACA_BASE_URL',
      'ALPACA_DATA_FEED',
      'LOG_LEVEL',
      'MAX_ORDER_NOTIONAL',
      'PORT',
      'SLACK_BOT_TOKEN',
    ]);
  });

  it('never echoes a secret value, whether malformed or valid', () => {
    const wrongShapeBot = 'xoxp-wrongshape-secret-QQ77ZZ';
    const wrongShapeApp = 'xoxb-not-an-app-token-QQ77ZZ';
    const error = configError({
      SLACK_BOT_TOKEN: wrongShapeBot,
      SLACK_APP_TOKEN: wrongShapeApp,
      ALPACA_API_KEY_ID: FAKE_KEY_ID,
      ALPACA_SECRET_KEY: FAKE_SECRET_KEY,
      ALPACA_BASE_URL: 'https://api.alpaca.markets',
      DATABASE_URL: 'mysql://trader:dbPassw0rdQQ77ZZ@db.example/oms',
    });
    expect(problemVariables(error)).toEqual(['ALPACA_BASE_URL', 'DATABASE_URL', 'SLACK_APP_TOKEN', 'SLACK_BOT_TOKEN']);
    const text = `${error.message}\n${error.problems.join('\n')}\n${String(error.stack)}\n${JSON.stringify(error)}`;
    for (const secret of [wrongShapeBot, wrongShapeApp, FAKE_KEY_ID, FAKE_SECRET_KEY, 'dbPassw0rdQQ77ZZ', 'QQ77ZZ']) {
      expect(text).not.toContain(secret);
    }
  });

  it('checks token prefixes', () => {
    const error = configError({ ...REQUIRED_ENV, SLACK_BOT_TOKEN: FAKE_APP_TOKEN, SLACK_APP_TOKEN: FAKE_BOT_TOKEN });
    expect(error.problems).toEqual([
      'SLACK_BOT_TOKEN: must start with xoxb-',
      'SLACK_APP_TOKEN: must start with xapp-',
    ]);
  });
});

describe('USE_ALPACA', () => {
  it('needs no Alpaca keys in ledger-only mode', () => {
    const config = loadConfig({
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_APP_TOKEN: FAKE_APP_TOKEN,
      USE_ALPACA: 'false',
    });
    expect(config.useAlpaca).toBe(false);
    expect(config.alpaca.keyId).toBe('');
    expect(config.alpaca.secretKey).toBe('');
  });

  it('still honours USE_ALPACA=false when another variable is bad', () => {
    const error = configError({ SLACK_APP_TOKEN: FAKE_APP_TOKEN, USE_ALPACA: 'false' });
    expect(problemVariables(error)).toEqual(['SLACK_BOT_TOKEN']);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['False', false],
    ['0', false],
    ['no', false],
  ])('reads %s as %s', (value, expected) => {
    expect(loadConfig({ ...REQUIRED_ENV, USE_ALPACA: value }).useAlpaca).toBe(expected);
  });

  it('rejects a value that is not a boolean', () => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, USE_ALPACA: 'maybe' }))).toEqual(['USE_ALPACA']);
  });
});

describe('the live trading host', () => {
  it('is the host Alpaca uses for real money', () => {
    expect(ALPACA_LIVE_HOST).toBe('api.alpaca.markets');
  });

  it.each([
    'https://api.alpaca.markets',
    'https://api.alpaca.markets/',
    'https://API.Alpaca.Markets',
    'https://api.alpaca.markets./',
  ])('is refused at %s without ALPACA_ALLOW_LIVE', (url) => {
    const error = configError({ ...REQUIRED_ENV, ALPACA_BASE_URL: url });
    expect(problemVariables(error)).toEqual(['ALPACA_BASE_URL']);
    expect(error.message).toMatch(/LIVE/);
    expect(error.message).toContain('ALPACA_ALLOW_LIVE=true');
  });

  it('is refused when ALPACA_ALLOW_LIVE=false', () => {
    const error = configError({
      ...REQUIRED_ENV,
      ALPACA_BASE_URL: 'https://api.alpaca.markets',
      ALPACA_ALLOW_LIVE: 'false',
    });
    expect(problemVariables(error)).toEqual(['ALPACA_BASE_URL']);
  });

  it('is accepted with ALPACA_ALLOW_LIVE=true', () => {
    const config = loadConfig({
      ...REQUIRED_ENV,
      ALPACA_BASE_URL: 'https://api.alpaca.markets',
      ALPACA_ALLOW_LIVE: 'true',
    });
    expect(config.alpaca.baseUrl).toBe('https://api.alpaca.markets');
    expect(config.alpaca.allowLive).toBe(true);
    expect(config.alpaca.streamUrl).toBe('wss://api.alpaca.markets/stream');
  });
});

describe('URLs', () => {
  it.each([
    ['https://paper-api.alpaca.markets', 'wss://paper-api.alpaca.markets/stream'],
    ['https://paper-api.alpaca.markets/', 'wss://paper-api.alpaca.markets/stream'],
    ['http://127.0.0.1:4010', 'ws://127.0.0.1:4010/stream'],
    ['http://localhost:8080/', 'ws://localhost:8080/stream'],
  ])('derives the stream URL from ALPACA_BASE_URL=%s', (baseUrl, streamUrl) => {
    expect(loadConfig({ ...REQUIRED_ENV, ALPACA_BASE_URL: baseUrl }).alpaca.streamUrl).toBe(streamUrl);
  });

  it('uses an explicit ALPACA_STREAM_URL as given', () => {
    const config = loadConfig({
      ...REQUIRED_ENV,
      ALPACA_BASE_URL: 'http://127.0.0.1:4010',
      ALPACA_STREAM_URL: 'ws://127.0.0.1:4999/other',
    });
    expect(config.alpaca.streamUrl).toBe('ws://127.0.0.1:4999/other');
  });

  it('rejects a stream URL that is not ws(s)', () => {
    expect(
      problemVariables(configError({ ...REQUIRED_ENV, ALPACA_STREAM_URL: 'https://paper-api.alpaca.markets/stream' })),
    ).toEqual(['ALPACA_STREAM_URL']);
  });

  it('strips trailing slashes from the Alpaca REST URLs and adds one to the Slack API URL', () => {
    const config = loadConfig({
      ...REQUIRED_ENV,
      SLACK_API_URL: 'http://127.0.0.1:5050/api',
      ALPACA_BASE_URL: 'http://127.0.0.1:4010/',
      ALPACA_DATA_URL: 'http://127.0.0.1:4011//',
    });
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:5050/api/');
    expect(config.alpaca.baseUrl).toBe('http://127.0.0.1:4010');
    expect(config.alpaca.dataUrl).toBe('http://127.0.0.1:4011');
  });

  it.each(['SLACK_API_URL', 'ALPACA_BASE_URL', 'ALPACA_DATA_URL'])('rejects a non-http %s', (name) => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, [name]: 'ftp://example.com' }))).toEqual([name]);
    expect(problemVariables(configError({ ...REQUIRED_ENV, [name]: 'not a url' }))).toEqual([name]);
  });
});

describe('DATABASE_URL', () => {
  it.each([
    ['sqlite:./data/other.sqlite', { kind: 'sqlite', url: './data/other.sqlite' }],
    ['sqlite::memory:', { kind: 'sqlite', url: ':memory:' }],
    ['sqlite:/var/lib/slack-oms/oms.sqlite', { kind: 'sqlite', url: '/var/lib/slack-oms/oms.sqlite' }],
    ['postgres://oms@127.0.0.1:5432/oms', { kind: 'postgresql', url: 'postgres://oms@127.0.0.1:5432/oms' }],
    ['postgresql://oms:pw@db:5432/oms', { kind: 'postgresql', url: 'postgresql://oms:pw@db:5432/oms' }],
  ])('accepts %s', (url, target) => {
    expect(loadConfig({ ...REQUIRED_ENV, DATABASE_URL: url }).database).toEqual(target);
  });

  it.each(['mysql://oms@db/oms', 'sqlite:', 'postgres://', './data/oms.sqlite', 'file:oms.sqlite'])(
    'rejects %s',
    (url) => {
      expect(problemVariables(configError({ ...REQUIRED_ENV, DATABASE_URL: url }))).toEqual(['DATABASE_URL']);
    },
  );

  // Each password holds a character that must be percent-encoded. `new URL` throws on some (and
  // Node's error carries the whole URL); others parse "successfully" with the host taken from the
  // user name and the password left in a path, query or fragment. All must stop at loading.
  const PASSWORD = 'pwQQ77secret';
  const unencoded: [string, string][] = [
    ['# in the password', `postgresql://oms:ab#${PASSWORD}@db.internal:5432/oms`],
    ['/ in the password', `postgresql://oms:ab/${PASSWORD}@db.internal:5432/oms`],
    ['? in the password', `postgres://oms:ab?${PASSWORD}@db.internal:5432/oms`],
    ['# after digits (parses as a port and a fragment)', `postgresql://oms:123#${PASSWORD}@db.internal/oms`],
    ['/ after digits (parses as a port and a path)', `postgresql://oms:123/${PASSWORD}@db.internal/oms`],
    ['? after digits (parses as a port and a query)', `postgresql://oms:123?${PASSWORD}@db.internal/oms`],
    ['a % that starts no escape', `postgresql://oms:ab%zz${PASSWORD}@db.internal/oms`],
    ['a port out of range', `postgresql://oms:${PASSWORD}@db.internal:99999/oms`],
  ];

  it.each(unencoded)('refuses a URL with %s, saying how to fix it and echoing nothing', (_name, url) => {
    for (const load of [
      () => loadConfig({ ...REQUIRED_ENV, DATABASE_URL: url }),
      () => loadDatabaseTarget({ DATABASE_URL: url }),
    ]) {
      let error: unknown;
      try {
        load();
      } catch (thrown) {
        error = thrown;
      }
      expect(error).toBeInstanceOf(ConfigError);
      const problems = (error as ConfigError).problems;
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^DATABASE_URL: /);
      for (const fix of ['percent-encode', '# → %23', '/ → %2F', '? → %3F', '@ → %40'])
        expect(problems[0]).toContain(fix);
      const text = `${(error as Error).message}\n${String((error as Error).stack)}\n${JSON.stringify(error)}`;
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain('db.internal');
    }
  });

  it(
    'once loaded, the secret list and the start-up label never throw, ' +
      'and cover the password as written and decoded',
    () => {
      for (const [url, password, decoded, label] of [
        [
          'postgresql://oms:ab%23cd%2Fef%3Fgh%40ij@db.internal:5432/oms',
          'ab%23cd%2Fef%3Fgh%40ij',
          'ab#cd/ef?gh@ij',
          'PostgreSQL (db.internal:5432/oms)',
        ],
        // An unencoded @ is unambiguous (the last one ends the password): accepted, and scrubbed both ways.
        ['postgresql://oms:ab@cd@db.internal/oms', 'ab%40cd', 'ab@cd', 'PostgreSQL (db.internal/oms)'],
        ['postgres://oms@[::1]:5432/oms?sslmode=require', undefined, undefined, 'PostgreSQL ([::1]:5432/oms)'],
      ] as const) {
        const config = loadConfig({ ...REQUIRED_ENV, DATABASE_URL: url });
        const secrets = secretValues(config);
        if (password !== undefined) expect(secrets).toEqual(expect.arrayContaining([password, decoded]));
        expect(databaseLabel(config.database)).toBe(label);
      }
    },
  );
});

describe('RECONCILE_CRON', () => {
  it.each(['*/5 * * * *', '0 9-16 * * 1-5', '30 */15 9-16 * * 1-5'])('accepts %s', (cron) => {
    expect(loadConfig({ ...REQUIRED_ENV, RECONCILE_CRON: cron }).reconcileCron).toBe(cron);
  });

  it.each(['garbage', '* * *', '61 * * * *', '* * * * * * *', '*/15 9-16 * * 8'])('rejects %s', (cron) => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, RECONCILE_CRON: cron }))).toEqual(['RECONCILE_CRON']);
  });
});

describe('other variables', () => {
  it('parses user id lists separated by commas and/or spaces', () => {
    const config = loadConfig({
      ...REQUIRED_ENV,
      TRADER_USER_IDS: 'U0123ABC, U0456DEF ,W0789GHI',
      ADMIN_USER_IDS: 'U0123ABC U0999ZZZ',
    });
    expect(config.traderUserIds).toEqual(['U0123ABC', 'U0456DEF', 'W0789GHI']);
    expect(config.adminUserIds).toEqual(['U0123ABC', 'U0999ZZZ']);
  });

  it.each(['TRADER_USER_IDS', 'ADMIN_USER_IDS'])('rejects %s entries that are not Slack user ids', (name) => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, [name]: 'U0123ABC,alice' }))).toEqual([name]);
  });

  it('reads the reconcile channel and rejects non-channel ids', () => {
    expect(loadConfig({ ...REQUIRED_ENV, RECONCILE_CHANNEL_ID: 'C0123456789' }).reconcileChannelId).toBe('C0123456789');
    expect(problemVariables(configError({ ...REQUIRED_ENV, RECONCILE_CHANNEL_ID: '#trading' }))).toEqual([
      'RECONCILE_CHANNEL_ID',
    ]);
  });

  it('reads PORT as a number, 0 included (ephemeral)', () => {
    expect(loadConfig({ ...REQUIRED_ENV, PORT: '8080' }).port).toBe(8080);
    expect(loadConfig({ ...REQUIRED_ENV, PORT: '0' }).port).toBe(0);
  });

  it.each(['-1', '65536', '80.5', 'http'])('rejects PORT=%s', (port) => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, PORT: port }))).toEqual(['PORT']);
  });

  it('keeps MAX_ORDER_NOTIONAL as a decimal string', () => {
    expect(loadConfig({ ...REQUIRED_ENV, MAX_ORDER_NOTIONAL: '12500.50' }).maxOrderNotional).toBe('12500.50');
  });

  it.each(['0', '-5', '1e6', '100.123', 'lots'])('rejects MAX_ORDER_NOTIONAL=%s', (value) => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, MAX_ORDER_NOTIONAL: value }))).toEqual([
      'MAX_ORDER_NOTIONAL',
    ]);
  });

  it('reads the API settings: the earlier OMS key as given, the fill wait, the confirmations channel', () => {
    const config = loadConfig({
      ...REQUIRED_ENV,
      OMS_API_KEY: 'short-old-key',
      API_FILL_WAIT_MS: '2500',
      API_ORDERS_CHANNEL_ID: 'C0APIORDERS',
    });
    expect(config.api).toEqual({ legacyKey: 'short-old-key', fillWaitMs: 2500, ordersChannelId: 'C0APIORDERS' });
    expect(secretValues(config)).toContain('short-old-key');
    expect(loadConfig({ ...REQUIRED_ENV, API_FILL_WAIT_MS: '0' }).api.fillWaitMs).toBe(0);
  });

  it.each([
    ['API_FILL_WAIT_MS', '-1'],
    ['API_FILL_WAIT_MS', '1.5'],
    ['API_FILL_WAIT_MS', '600000'],
    ['API_FILL_WAIT_MS', 'soon'],
    ['API_ORDERS_CHANNEL_ID', '#api-orders'],
  ])('rejects %s=%s, naming it', (name, value) => {
    expect(problemVariables(configError({ ...REQUIRED_ENV, [name]: value }))).toEqual([name]);
  });

  it('reads ALPACA_DATA_FEED and LOG_LEVEL', () => {
    const config = loadConfig({ ...REQUIRED_ENV, ALPACA_DATA_FEED: 'sip', LOG_LEVEL: 'debug' });
    expect(config.alpaca.dataFeed).toBe('sip');
    expect(config.logLevel).toBe('debug');
  });
});

describe('.env.example', () => {
  const exampleText = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
  /** Assignments, including commented-out ones such as `# ALPACA_STREAM_URL=…`. */
  const listedNames = exampleText
    .split('\n')
    .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined);

  it('lists exactly CONFIG_VARIABLES, each once', () => {
    expect([...listedNames].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives each variable a comment line right above it', () => {
    const lines = exampleText.split('\n');
    for (const name of CONFIG_VARIABLES) {
      const index = lines.findIndex((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1] === name);
      expect(lines[index - 1], name).toMatch(/^# \S/);
    }
  });

  it('leaves ALPACA_STREAM_URL commented out so it is derived', () => {
    const values = parseDotenv(exampleText);
    expect(values).not.toHaveProperty('ALPACA_STREAM_URL');
    expect(exampleText).toMatch(/^# ALPACA_STREAM_URL=wss:\/\/paper-api\.alpaca\.markets\/stream$/m);
  });

  it('shows the defaults: loading it, credentials filled in, is the same as setting only the credentials', () => {
    const credentials = {
      SLACK_BOT_TOKEN: FAKE_BOT_TOKEN,
      SLACK_APP_TOKEN: 'xapp-1-filled-in',
      ALPACA_API_KEY_ID: 'PKFILLEDIN',
      ALPACA_SECRET_KEY: 'filled-in-secret',
    };
    expect(loadConfig({ ...parseDotenv(exampleText), ...credentials })).toEqual(loadConfig(credentials));
  });

  it('is refused as it stands, with one line naming every credential still a placeholder', () => {
    const values = parseDotenv(exampleText);
    for (const [name, placeholder] of Object.entries(EXAMPLE_PLACEHOLDERS))
      expect(values[name], name).toBe(placeholder);
    const refusal = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (err) {
        return (err as ConfigError).problems;
      }
      throw new Error('accepted');
    };
    expect(refusal(values)).toEqual([
      'SLACK_BOT_TOKEN, SLACK_APP_TOKEN, ALPACA_API_KEY_ID, ALPACA_SECRET_KEY: still the placeholders from ' +
        '.env.example — put in your own values (README: "Slack setup" and "Alpaca paper keys")',
    ]);
    expect(refusal({ ...values, SLACK_BOT_TOKEN: FAKE_BOT_TOKEN, USE_ALPACA: 'false' })).toEqual([
      'SLACK_APP_TOKEN: still the placeholder from .env.example — put in your own values ' +
        '(README: "Slack setup" and "Alpaca paper keys")',
    ]);
  });

  it('holds placeholders, not anything shaped like a real credential', () => {
    const values = parseDotenv(exampleText);
    expect(values.SLACK_BOT_TOKEN).toBe('xoxb-your-bot-token');
    expect(values.SLACK_APP_TOKEN).toBe('xapp-your-app-level-token');
    for (const name of SECRET_VARIABLES) {
      expect(values[name], name).toMatch(/your-/);
      expect(values[name], name).not.toMatch(/\d{6,}/);
    }
    expect(values.ALPACA_API_KEY_ID).not.toMatch(/^[PA]K[A-Z0-9]{10,}$/);
  });
});

describe('approval settings', () => {
  const ON = { ...REQUIRED_ENV, APPROVAL_THRESHOLD_NOTIONAL: '25000', APPROVALS_CHANNEL_ID: 'C0APPROVALS' };

  it('reads the threshold, approvers, channel, TTL and allowed move', () => {
    const config = loadConfig({
      ...ON,
      APPROVER_USER_IDS: 'U0APPROVER1, U0APPROVER2',
      APPROVAL_TTL_MINUTES: '5',
      APPROVAL_MAX_PRICE_MOVE_PCT: '0.5',
    });
    expect(config.approvals).toEqual({
      thresholdNotional: '25000',
      approverUserIds: ['U0APPROVER1', 'U0APPROVER2'],
      channelId: 'C0APPROVALS',
      ttlMinutes: 5,
      maxPriceMovePct: '0.5',
    });
  });

  it('lets the admins approve when APPROVER_USER_IDS is unset', () => {
    expect(loadConfig({ ...ON, ADMIN_USER_IDS: 'U0ADMIN' }).approvals.approverUserIds).toEqual(['U0ADMIN']);
  });

  it('refuses a threshold with nobody who could approve, in a sentence naming the fix', () => {
    const error = configError({ ...ON });
    expect(problemVariables(error)).toEqual(['APPROVAL_THRESHOLD_NOTIONAL']);
    expect(error.message).toMatch(/nobody can approve: set APPROVER_USER_IDS \(or ADMIN_USER_IDS\)/);
  });

  it('refuses a threshold with no approvals channel', () => {
    const error = configError({ ...REQUIRED_ENV, APPROVAL_THRESHOLD_NOTIONAL: '25000', ADMIN_USER_IDS: 'U0ADMIN' });
    expect(problemVariables(error)).toEqual(['APPROVALS_CHANNEL_ID']);
  });

  it.each([
    ['APPROVAL_THRESHOLD_NOTIONAL', '-5'],
    ['APPROVAL_THRESHOLD_NOTIONAL', 'lots'],
    ['APPROVER_USER_IDS', 'alice'],
    ['APPROVALS_CHANNEL_ID', '#approvals'],
    ['APPROVAL_TTL_MINUTES', '0'],
    ['APPROVAL_TTL_MINUTES', '2.5'],
    ['APPROVAL_MAX_PRICE_MOVE_PCT', '-1'],
    ['APPROVAL_MAX_PRICE_MOVE_PCT', 'two'],
  ])('rejects %s=%s, naming it', (name, value) => {
    expect(problemVariables(configError({ ...ON, ADMIN_USER_IDS: 'U0ADMIN', [name]: value }))).toContain(name);
  });
});
