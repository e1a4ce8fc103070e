import { Writable } from 'node:stream';
import { type RunningApp, startApp } from '../../src/app';
import type { DatabaseTarget } from '../../src/config';
import { type Config, loadConfig, secretValues } from '../../src/config';
import { createLogger, type Logger } from '../../src/logger';
import { type AlpacaStandIn, type AlpacaStandInOptions, startAlpacaStandIn } from './alpaca-standin';
import { type SlackStandIn, type SlackStandInOptions, startSlackStandIn } from './slack-standin';

/** Captures the app's JSON log lines in memory so tests can assert on them. */
export class LogCapture extends Writable {
  readonly lines: string[] = [];
  /** The end of the last chunk when it stopped mid-line (output piped from a child arrives in pieces). */
  private partial = '';
  override _write(chunk: Buffer, _enc: string, done: () => void): void {
    const pieces = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = pieces.pop() ?? '';
    for (const line of pieces) if (line.trim()) this.lines.push(line);
    done();
  }
  entries(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
  text(): string {
    return this.lines.join('\n');
  }
}

export interface LaunchOptions {
  database: DatabaseTarget;
  useAlpaca?: boolean;
  env?: Record<string, string>;
  slack?: SlackStandIn;
  alpaca?: AlpacaStandIn;
  slackOptions?: SlackStandInOptions;
  alpacaOptions?: AlpacaStandInOptions;
}

export interface LaunchedApp {
  app: RunningApp;
  config: Config;
  slack: SlackStandIn;
  alpaca: AlpacaStandIn;
  logs: LogCapture;
  logger: Logger;
  healthUrl: string;
  /** http://127.0.0.1:<port>: health, probes and the API. */
  baseUrl: string;
  /** Environment that reproduces this launch in a child process (`npm start`). */
  env: Record<string, string>;
  /** Stops the app, then the stand-ins this launch created (shared ones are left running). */
  stop(): Promise<void>;
}

export function appEnvironment(o: {
  slack: SlackStandIn;
  alpaca: AlpacaStandIn;
  database: DatabaseTarget;
  useAlpaca: boolean;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    SLACK_BOT_TOKEN: o.slack.botToken,
    SLACK_APP_TOKEN: o.slack.appToken,
    SLACK_API_URL: o.slack.apiUrl,
    USE_ALPACA: String(o.useAlpaca),
    ALPACA_API_KEY_ID: o.alpaca.keyId,
    ALPACA_SECRET_KEY: o.alpaca.secretKey,
    ALPACA_BASE_URL: o.alpaca.baseUrl,
    ALPACA_DATA_URL: o.alpaca.dataUrl,
    ALPACA_STREAM_URL: o.alpaca.streamUrl,
    DATABASE_URL: o.database.kind === 'sqlite' ? `sqlite:${o.database.url}` : o.database.url,
    PORT: '0',
    LOG_LEVEL: 'info',
    // 1 January at midnight: the default schedule (every 15 min in market hours, New York time)
    // would start a reconciliation in the middle of whatever a test is doing. Tests that want it say so.
    RECONCILE_CRON: '0 0 1 1 *',
    ...o.extra,
  };
}

/** Starts the real app (Bolt over a real WebSocket, the real Alpaca SDK) against local stand-ins. */
export async function launchApp(opts: LaunchOptions): Promise<LaunchedApp> {
  const slack = opts.slack ?? (await startSlackStandIn(opts.slackOptions));
  // Tests decide about market hours explicitly, not by the wall clock.
  const alpaca = opts.alpaca ?? (await startAlpacaStandIn({ marketOpen: true, ...opts.alpacaOptions }));
  const env = appEnvironment({
    slack,
    alpaca,
    database: opts.database,
    useAlpaca: opts.useAlpaca ?? true,
    extra: opts.env,
  });
  const config = loadConfig(env);
  const logs = new LogCapture();
  const logger = createLogger({ level: config.logLevel, secrets: secretValues(config), destination: logs });
  let app: RunningApp;
  try {
    app = await startApp(config, logger);
  } catch (err) {
    if (!opts.slack) await slack.close();
    if (!opts.alpaca) await alpaca.close();
    throw err;
  }
  await slack.waitForConnection();
  return {
    app,
    config,
    slack,
    alpaca,
    logs,
    logger,
    env,
    healthUrl: `http://127.0.0.1:${app.httpPort}/health`,
    baseUrl: `http://127.0.0.1:${app.httpPort}`,
    stop: async () => {
      await app.stop();
      if (!opts.slack) await slack.close();
      if (!opts.alpaca) await alpaca.close();
    },
  };
}
