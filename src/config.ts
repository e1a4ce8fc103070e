import { config as loadDotenv } from 'dotenv';
import { validate as validateCron } from 'node-cron';
import { z } from 'zod';

/**
 * The live trading host: refused unless ALPACA_ALLOW_LIVE=true, so a paper install can never trade
 * real money by a typo.
 */
export const ALPACA_LIVE_HOST = 'api.alpaca.markets';

export type DatabaseKind = 'sqlite' | 'postgresql';

export interface DatabaseTarget {
  kind: DatabaseKind;
  /** SQLite file path (or ':memory:'), or the PostgreSQL connection URL. */
  url: string;
}

/** Where and as whom the app talks to Alpaca (the Alpaca adapter takes exactly this). */
export interface AlpacaConnection {
  keyId: string;
  secretKey: string;
  /** Trading REST, e.g. https://paper-api.alpaca.markets */
  baseUrl: string;
  /** Market-data REST, e.g. https://data.alpaca.markets */
  dataUrl: string;
  /** trade_updates WebSocket, e.g. wss://paper-api.alpaca.markets/stream */
  streamUrl: string;
  dataFeed: 'iex' | 'sip';
}

export interface Config {
  slack: { botToken: string; appToken: string; apiUrl: string };
  useAlpaca: boolean;
  alpaca: AlpacaConnection & { allowLive: boolean };
  database: DatabaseTarget;
  port: number;
  reconcileCron: string;
  reconcileChannelId: string | undefined;
  /** The closing digest: posted on `cron` (New York time) to `channelId`; none scheduled without a channel. */
  digest: { cron: string; channelId: string | undefined };
  traderUserIds: readonly string[];
  adminUserIds: readonly string[];
  maxOrderNotional: string;
  api: {
    /** The earlier OMS's single key, still accepted by /api/v1 (undefined: only keys from `npm run api-key`). */
    legacyKey: string | undefined;
    fillWaitMs: number;
    ordersChannelId: string | undefined;
  };
  /** Maker-checker approval of large orders; `thresholdNotional` undefined = off. */
  approvals: {
    thresholdNotional: string | undefined;
    /** APPROVER_USER_IDS, or the admins when unset. */
    approverUserIds: readonly string[];
    channelId: string | undefined;
    ttlMinutes: number;
    maxPriceMovePct: string;
  };
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());

const booleanFlag = (fallback: boolean) =>
  z.preprocess(
    (v) => {
      const value = blankToUndefined(v);
      return typeof value === 'string' ? value.trim().toLowerCase() : value;
    },
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'must be true or false' })
      .optional()
      .transform((v) => (v === undefined ? fallback : v === 'true' || v === '1' || v === 'yes')),
  );

const httpUrl = (fallback: string) =>
  z.preprocess(
    blankToUndefined,
    z
      .string()
      .default(fallback)
      .refine((v) => {
        try {
          return ['http:', 'https:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, 'must be an http(s) URL'),
  );

const userIdList = z.preprocess(
  (v) => (typeof v === 'string' ? v : ''),
  z
    .string()
    .transform((v) =>
      v
        .split(/[\s,]+/)
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .refine(
      (ids) => ids.every((id) => /^[UW][A-Z0-9]{2,}$/.test(id)),
      'must be Slack user ids (U… or W…) separated by commas',
    ),
);

/**
 * What the app needs from a PostgreSQL URL besides connecting: where (for the start-up line) and
 * the password (to scrub from logs).
 */
export interface PostgresUrlParts {
  /** host[:port] and /database: never the user or password. */
  host: string;
  database: string;
  /** As written in the URL (percent-encoded) and decoded: a log line could carry either. */
  encodedPassword: string;
  password: string;
}

/**
 * The one parser of PostgreSQL URLs; never throws (Node's URL error carries the whole URL, password
 * included). An unencoded #, / or ? in the password either breaks parsing or, when what precedes it
 * looks like a port, yields a URL whose host is the user name and whose password sits in a fragment,
 * path or query: a # anywhere, or an @ after the host, is refused for that reason.
 */
export function parsePostgresUrl(url: string): PostgresUrlParts | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (
    !['postgres:', 'postgresql:'].includes(parsed.protocol) ||
    url.includes('#') ||
    `${parsed.pathname}${parsed.search}`.includes('@')
  )
    return undefined;
  try {
    return {
      host: parsed.host,
      database: parsed.pathname,
      encodedPassword: parsed.password,
      password: decodeURIComponent(parsed.password),
    };
  } catch {
    return undefined;
  }
}

const POSTGRES_URL_HELP =
  'is not a valid PostgreSQL URL (postgres://user:password@host:port/database); ' +
  'percent-encode special characters in the user name and password: # → %23, / → %2F, ? → %3F, @ → %40, % → %25';

const databaseUrl = z.preprocess(
  blankToUndefined,
  z
    .string()
    .default('sqlite:./data/slack-oms.sqlite')
    .superRefine((v, ctx) => {
      if (!/^(sqlite:.+|postgres(ql)?:\/\/.+)$/.test(v))
        ctx.addIssue({ code: 'custom', message: 'must be sqlite:<path> or postgres://…' });
      else if (!v.startsWith('sqlite:') && parsePostgresUrl(v) === undefined)
        ctx.addIssue({ code: 'custom', message: POSTGRES_URL_HELP });
    }),
);

const envSchema = z.object({
  SLACK_BOT_TOKEN: z.preprocess(
    blankToUndefined,
    z.string({ error: 'is required' }).startsWith('xoxb-', 'must start with xoxb-'),
  ),
  SLACK_APP_TOKEN: z.preprocess(
    blankToUndefined,
    z
      .string({ error: 'is required (an app-level token with connections:write)' })
      .startsWith('xapp-', 'must start with xapp-'),
  ),
  SLACK_API_URL: httpUrl('https://slack.com/api/'),
  USE_ALPACA: booleanFlag(true),
  ALPACA_API_KEY_ID: optionalString,
  ALPACA_SECRET_KEY: optionalString,
  ALPACA_BASE_URL: httpUrl('https://paper-api.alpaca.markets'),
  ALPACA_DATA_URL: httpUrl('https://data.alpaca.markets'),
  ALPACA_STREAM_URL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((v) => {
        try {
          return ['ws:', 'wss:'].includes(new URL(v).protocol);
        } catch {
          return false;
        }
      }, 'must be a ws(s) URL')
      .optional(),
  ),
  ALPACA_DATA_FEED: z.preprocess(
    blankToUndefined,
    z.enum(['iex', 'sip'], { error: 'must be iex or sip' }).default('iex'),
  ),
  ALPACA_ALLOW_LIVE: booleanFlag(false),
  DATABASE_URL: databaseUrl,
  PORT: z.preprocess(
    blankToUndefined,
    z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  ),
  RECONCILE_CRON: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('*/15 9-16 * * 1-5')
      .refine((v) => validateCron(v), 'must be a valid cron expression (5 fields, or 6 with seconds)'),
  ),
  RECONCILE_CHANNEL_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123456789')
      .optional(),
  ),
  DIGEST_CRON: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('15 16 * * 1-5')
      .refine((v) => validateCron(v), 'must be a valid cron expression (5 fields, or 6 with seconds)'),
  ),
  DIGEST_CHANNEL_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123456789')
      .optional(),
  ),
  TRADER_USER_IDS: userIdList,
  ADMIN_USER_IDS: userIdList,
  MAX_ORDER_NOTIONAL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('50000')
      .refine((v) => /^\d+(\.\d{1,2})?$/.test(v) && Number(v) > 0, 'must be a positive dollar amount such as 50000'),
  ),
  // Any length: it is whatever the earlier OMS's clients already send.
  OMS_API_KEY: optionalString,
  API_FILL_WAIT_MS: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a number of milliseconds' })
      .int('must be a whole number of milliseconds')
      .min(0, 'must be 0 or more')
      .max(120_000, 'must be at most 120000 (two minutes): clients time out long before')
      .default(10_000),
  ),
  API_ORDERS_CHANNEL_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[CGD][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123456789')
      .optional(),
  ),
  APPROVAL_THRESHOLD_NOTIONAL: z.preprocess(
    blankToUndefined,
    z
      .string()
      .refine((v) => /^\d+(\.\d{1,2})?$/.test(v) && Number(v) > 0, 'must be a positive dollar amount such as 25000')
      .optional(),
  ),
  APPROVER_USER_IDS: userIdList,
  APPROVALS_CHANNEL_ID: z.preprocess(
    blankToUndefined,
    z
      .string()
      .regex(/^[CG][A-Z0-9]{2,}$/, 'must be a Slack channel id such as C0123456789')
      .optional(),
  ),
  APPROVAL_TTL_MINUTES: z.preprocess(
    blankToUndefined,
    z.coerce
      .number({ error: 'must be a number of minutes' })
      .int('must be a whole number of minutes')
      .min(1, 'must be at least 1')
      .max(1440, 'must be at most 1440 (a day)')
      .default(15),
  ),
  APPROVAL_MAX_PRICE_MOVE_PCT: z.preprocess(
    blankToUndefined,
    z
      .string()
      .default('2')
      .refine((v) => /^\d+(\.\d+)?$/.test(v) && Number(v) > 0, 'must be a positive percentage such as 2 or 0.5'),
  ),
  LOG_LEVEL: z.preprocess(
    blankToUndefined,
    z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
        error: 'must be one of fatal, error, warn, info, debug, trace, silent',
      })
      .default('info'),
  ),
});

/** Every variable name the app reads; `.env.example` lists the same set (a test keeps them equal). */
export const CONFIG_VARIABLES = Object.keys(envSchema.shape) as (keyof typeof envSchema.shape)[];

function databaseTarget(url: string): DatabaseTarget {
  return url.startsWith('sqlite:') ? { kind: 'sqlite', url: url.slice('sqlite:'.length) } : { kind: 'postgresql', url };
}

/**
 * Only the database part of the configuration, by the same rules as loadConfig: for tools such
 * as `npm run migrate` that must not require Slack or Alpaca credentials.
 */
export function loadDatabaseTarget(env: NodeJS.ProcessEnv): DatabaseTarget {
  const parsed = z.object({ DATABASE_URL: databaseUrl }).safeParse(env);
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => `DATABASE_URL: ${issue.message}`));
  return Object.freeze(databaseTarget(parsed.data.DATABASE_URL));
}

/** Derives the trade_updates stream URL from the REST host, as Alpaca serves both on one host. */
function defaultStreamUrl(baseUrl: string): string {
  const u = new URL(baseUrl);
  return `${u.protocol === 'http:' ? 'ws:' : 'wss:'}//${u.host}/stream`;
}

/**
 * The values `.env.example` ships with for the credentials (a test keeps the two equal). Left
 * unedited they would only draw refusals, or endless retries, from Slack and Alpaca.
 */
export const EXAMPLE_PLACEHOLDERS: Readonly<Record<string, string>> = {
  SLACK_BOT_TOKEN: 'xoxb-your-bot-token',
  SLACK_APP_TOKEN: 'xapp-your-app-level-token',
  ALPACA_API_KEY_ID: 'your-paper-key-id',
  ALPACA_SECRET_KEY: 'your-paper-secret-key',
};

/** One line naming every credential still holding its `.env.example` placeholder. */
function placeholderProblems(env: NodeJS.ProcessEnv, useAlpaca: boolean): string[] {
  const left = Object.entries(EXAMPLE_PLACEHOLDERS)
    .filter(([name]) => useAlpaca || !name.startsWith('ALPACA_'))
    .filter(([name, placeholder]) => env[name]?.trim() === placeholder)
    .map(([name]) => name);
  if (left.length === 0) return [];
  return [
    `${left.join(', ')}: still the placeholder${left.length > 1 ? 's' : ''} from .env.example — put in your own ` +
      'values (README: "Slack setup" and "Alpaca paper keys")',
  ];
}

/**
 * Rules spanning several variables. Each variable is parsed on its own here so that these rules
 * are still reported (and USE_ALPACA=false still honoured) when an unrelated variable is bad.
 */
function crossVariableProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const useAlpaca = envSchema.shape.USE_ALPACA.safeParse(env.USE_ALPACA);
  problems.push(...placeholderProblems(env, !useAlpaca.success || useAlpaca.data));
  if (!useAlpaca.success || useAlpaca.data) {
    if (!blankToUndefined(env.ALPACA_API_KEY_ID))
      problems.push('ALPACA_API_KEY_ID: is required unless USE_ALPACA=false (Alpaca paper key id)');
    if (!blankToUndefined(env.ALPACA_SECRET_KEY))
      problems.push('ALPACA_SECRET_KEY: is required unless USE_ALPACA=false (Alpaca paper secret)');
  }
  const baseUrl = envSchema.shape.ALPACA_BASE_URL.safeParse(env.ALPACA_BASE_URL);
  const allowLive = envSchema.shape.ALPACA_ALLOW_LIVE.safeParse(env.ALPACA_ALLOW_LIVE);
  // A trailing dot is the same host to DNS, so it must not slip past the comparison.
  if (
    baseUrl.success &&
    new URL(baseUrl.data).hostname.replace(/\.$/, '') === ALPACA_LIVE_HOST &&
    !(allowLive.success && allowLive.data)
  ) {
    problems.push(
      'ALPACA_BASE_URL: points at the LIVE trading host; this app trades paper money unless ALPACA_ALLOW_LIVE=true',
    );
  }
  problems.push(...approvalProblems(env));
  return problems;
}

/**
 * Approval on with nobody to approve, or nowhere to ask, would leave every large order waiting
 * forever: refused at start instead.
 */
function approvalProblems(env: NodeJS.ProcessEnv): string[] {
  if (!blankToUndefined(env.APPROVAL_THRESHOLD_NOTIONAL)) return [];
  const problems: string[] = [];
  const approvers = envSchema.shape.APPROVER_USER_IDS.safeParse(env.APPROVER_USER_IDS);
  const admins = envSchema.shape.ADMIN_USER_IDS.safeParse(env.ADMIN_USER_IDS);
  if (approvers.success && admins.success && approvers.data.length === 0 && admins.data.length === 0) {
    problems.push(
      'APPROVAL_THRESHOLD_NOTIONAL: is set but nobody can approve: set APPROVER_USER_IDS (or ADMIN_USER_IDS), ' +
        'or unset the threshold',
    );
  }
  if (!blankToUndefined(env.APPROVALS_CHANNEL_ID)) {
    problems.push(
      'APPROVALS_CHANNEL_ID: is required when APPROVAL_THRESHOLD_NOTIONAL is set (where approval requests are posted)',
    );
  }
  return problems;
}

/**
 * Parses the environment once into a frozen Config. Throws ConfigError naming every bad
 * variable; messages describe the rule broken and never echo a value.
 */
export function loadConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = envSchema.safeParse(env);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${String(issue.path[0] ?? 'environment')}: ${issue.message}`);
    }
  }
  problems.push(...crossVariableProblems(env));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const e = parsed.data;

  return Object.freeze({
    slack: Object.freeze({
      botToken: e.SLACK_BOT_TOKEN,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL.endsWith('/') ? e.SLACK_API_URL : `${e.SLACK_API_URL}/`,
    }),
    useAlpaca: e.USE_ALPACA,
    alpaca: Object.freeze({
      keyId: e.ALPACA_API_KEY_ID ?? '',
      secretKey: e.ALPACA_SECRET_KEY ?? '',
      baseUrl: e.ALPACA_BASE_URL.replace(/\/+$/, ''),
      dataUrl: e.ALPACA_DATA_URL.replace(/\/+$/, ''),
      streamUrl: e.ALPACA_STREAM_URL ?? defaultStreamUrl(e.ALPACA_BASE_URL),
      dataFeed: e.ALPACA_DATA_FEED,
      allowLive: e.ALPACA_ALLOW_LIVE,
    }),
    database: Object.freeze(databaseTarget(e.DATABASE_URL)),
    port: e.PORT,
    reconcileCron: e.RECONCILE_CRON,
    reconcileChannelId: e.RECONCILE_CHANNEL_ID,
    digest: Object.freeze({ cron: e.DIGEST_CRON, channelId: e.DIGEST_CHANNEL_ID }),
    traderUserIds: Object.freeze([...e.TRADER_USER_IDS]),
    adminUserIds: Object.freeze([...e.ADMIN_USER_IDS]),
    maxOrderNotional: e.MAX_ORDER_NOTIONAL,
    api: Object.freeze({
      legacyKey: e.OMS_API_KEY,
      fillWaitMs: e.API_FILL_WAIT_MS,
      ordersChannelId: e.API_ORDERS_CHANNEL_ID,
    }),
    approvals: Object.freeze({
      thresholdNotional: e.APPROVAL_THRESHOLD_NOTIONAL,
      approverUserIds: Object.freeze([...(e.APPROVER_USER_IDS.length > 0 ? e.APPROVER_USER_IDS : e.ADMIN_USER_IDS)]),
      channelId: e.APPROVALS_CHANNEL_ID,
      ttlMinutes: e.APPROVAL_TTL_MINUTES,
      maxPriceMovePct: e.APPROVAL_MAX_PRICE_MOVE_PCT,
    }),
    logLevel: e.LOG_LEVEL,
  });
}

/** The process's configuration: `.env` (when present) under the real environment, parsed once. */
export function readConfig(): Config {
  loadDotenv({ quiet: true });
  return loadConfig(process.env);
}

/** The database part of the process's configuration, `.env` included, for `npm run migrate`. */
export function readDatabaseTarget(): DatabaseTarget {
  loadDotenv({ quiet: true });
  return loadDatabaseTarget(process.env);
}

/**
 * For a command-line entry point: `read()`, or, when the configuration is invalid, say why on
 * stderr (`explain` may add context around the problems) and exit 1. Other errors are thrown.
 */
export function readOrExit<T>(read: () => T, explain: (problems: string) => string = (problems) => problems): T {
  try {
    return read();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${explain(err.message)}\n`);
    process.exit(1);
  }
}

/** Secret values the logger must scrub from every line. */
export function secretValues(config: Config): string[] {
  const secrets = [
    config.slack.botToken,
    config.slack.appToken,
    config.alpaca.keyId,
    config.alpaca.secretKey,
    config.api.legacyKey ?? '',
  ];
  if (config.database.kind === 'postgresql') {
    const parts = parsePostgresUrl(config.database.url);
    if (parts) secrets.push(parts.encodedPassword, parts.password);
  }
  return secrets.filter(Boolean);
}
