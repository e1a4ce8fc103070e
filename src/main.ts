import { type RunningApp, StartupError, startApp } from './app';
import { readConfig, readOrExit, secretValues } from './config';
import { createLogger } from './logger';

/** Hard ceiling for shutdown: orchestrators escalate to SIGKILL soon after 10 s. */
const SHUTDOWN_DEADLINE_MS = 9_000;

async function main(): Promise<void> {
  const config = readOrExit(
    readConfig,
    (problems) => `Slack OMS cannot start.\n${problems}\nSee .env.example and README.md#configuration.`,
  );
  // Readable lines for someone at a terminal; JSON for files, journald and log collectors.
  const logger = createLogger({
    level: config.logLevel,
    secrets: secretValues(config),
    pretty: process.stdout.isTTY === true,
  });

  let app: RunningApp;
  try {
    app = await startApp(config, logger);
  } catch (err) {
    if (err instanceof StartupError) logger.fatal(err.message);
    else logger.fatal({ err }, 'start-up failed');
    process.exit(1);
  }

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'signal received');
    const force = setTimeout(() => {
      logger.warn('shutdown deadline reached; exiting now');
      process.exit(0);
    }, SHUTDOWN_DEADLINE_MS);
    force.unref();
    app.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'error during shutdown');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

void main();
